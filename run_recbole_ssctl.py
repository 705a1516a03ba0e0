"""Train and evaluate a multi-domain CTR model, RecBole style.

    python run_recbole_ssctl.py --model=SSCTL --dataset=ml-100k-md
    python run_recbole_ssctl.py --model=DeepFM --dataset=ml-100k-md --epochs=5

Any RecBole setting can follow as ``--key=value``; ``--config_files`` takes extra ``.yaml``
files separated by spaces. The run ends with the per-domain test table.
"""

import argparse
import sys

import recbole_ssctl  # noqa: F401  (patches RecBole for current numpy, pandas and torch)
from recbole_ssctl.quick_start import run_recbole_ssctl


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", "-m", default="SSCTL", help="model name, e.g. SSCTL or DeepFM")
    parser.add_argument("--dataset", "-d", default="ml-100k-md", help="dataset name")
    parser.add_argument(
        "--config_files", default=None, help="extra .yaml property files, separated by spaces"
    )
    parser.add_argument(
        "--nproc", type=int, default=1,
        help="training processes on this machine (default 1); above 1 they train with "
        "DistributedDataParallel, over gloo on CPU",
    )
    args, _ = parser.parse_known_args(argv)
    return args


def main(argv=None):
    args = parse_args(argv)
    config_file_list = args.config_files.strip().split(" ") if args.config_files else None
    try:
        run_recbole_ssctl(
            args.model, args.dataset, config_file_list=config_file_list, nproc=args.nproc
        )
    except (ValueError, FileNotFoundError) as error:
        # Settings and data problems: the message names the value and the fix.
        print(f"run_recbole_ssctl.py: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
