"""Convert Ali-CCP to RecBole atomic files with a domain field: command line and entry points.

Two input layouts are supported, both written to the same schema in
``<output-dir>/<name>/<name>.{train,valid,test}.inter`` plus a RecBole property file:

- ``raw``: the Tianchi download (``sample_skeleton_*.csv`` and ``common_features_*.csv``,
  plain, ``.gz`` or inside ``sample_{train,test}.tar.gz``); see :mod:`dataset_prep.aliccp_raw`.
- ``processed``: the processed CSV files of the Scenario-Wise Rec benchmark
  (``ali_ccp_{train,val,test}[_sample].csv``); see :mod:`dataset_prep.aliccp_processed`.

Example::

    python -m dataset_prep.aliccp raw --input downloads/ali-ccp --max-rows 1000000
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from dataset_prep.aliccp_processed import ProcessedOptions, convert_processed
from dataset_prep.aliccp_raw import RawOptions, convert_raw
from dataset_prep.aliccp_schema import (
    PROCESSED_BAD_ROW_KINDS,
    RAW_BAD_ROW_KINDS,
    ConversionSummary,
)


__all__ = ["ConversionSummary", "ProcessedOptions", "RawOptions", "convert_processed", "convert_raw", "main"]

logger = logging.getLogger(__name__)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _rate(text):
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text}")
    return value


def build_parser():
    """Return the argument parser of ``python -m dataset_prep.aliccp``."""
    parser = argparse.ArgumentParser(
        prog="python -m dataset_prep.aliccp",
        description="Convert Ali-CCP to RecBole atomic files with a domain field (field 301).",
    )
    commands = parser.add_subparsers(dest="layout", required=True, metavar="{raw,processed}")
    raw = commands.add_parser(
        "raw",
        help="convert the raw Tianchi files",
        description="Convert sample_skeleton_{train,test}.csv and common_features_{train,test}.csv "
        "(plain, .gz, or inside sample_{train,test}.tar.gz). The official test file is split "
        "into valid and test halves at random.",
    )
    processed = commands.add_parser(
        "processed",
        help="convert the processed CSV layout",
        description="Convert ali_ccp_{train,val,test}.csv (or *_sample.csv), the processed "
        "layout of the Scenario-Wise Rec benchmark.",
    )
    for command, bad_row_kinds in ((raw, RAW_BAD_ROW_KINDS), (processed, PROCESSED_BAD_ROW_KINDS)):
        command.add_argument("--input", type=Path, required=True, metavar="DIR", help="folder containing the input files")
        command.add_argument(
            "--output-dir",
            type=Path,
            metavar="DIR",
            default=Path("dataset"),
            help="folder that receives <name>/, written as data_path in the properties (default: dataset)",
        )
        command.add_argument("--name", default="ali-ccp", metavar="NAME", help="data set name: folder and file prefix (default: ali-ccp)")
        command.add_argument(
            "--properties-path",
            type=Path,
            default=None,
            metavar="FILE",
            help="RecBole property file to write (default: properties/dataset/<name>.yaml under the current folder)",
        )
        command.add_argument(
            "--strict",
            action="store_true",
            help="stop with an error at the first bad row instead of skipping and counting it; "
            f"bad-row kinds: {', '.join(bad_row_kinds)}",
        )
        command.add_argument("--summary-json", type=Path, default=None, metavar="FILE", help="also write the summary as JSON to this file")
        command.add_argument(
            "--progress",
            choices=("auto", "on", "off"),
            default="auto",
            help="progress bar on standard error: auto shows it on a terminal only (default: auto)",
        )
        command.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="logging level (default: INFO)")
    raw.add_argument("--seed", type=int, default=2022, metavar="INT", help="seed of the valid/test split and of sampling (default: 2022)")
    raw.add_argument(
        "--max-seq-len",
        type=_positive_int,
        default=50,
        metavar="IDS",
        help="feature ids kept per behaviour field, highest value first (default: 50)",
    )
    raw.add_argument(
        "--sample-rate",
        type=_rate,
        default=1.0,
        metavar="FRACTION",
        help="fraction of rows kept per split and per domain, in (0, 1] (default: 1, keep all); "
        "adds a counting pass over each skeleton file",
    )
    raw.add_argument(
        "--max-rows",
        type=_positive_int,
        default=None,
        metavar="ROWS",
        help="cap on the rows of each output split, divided among the domains by their shares "
        "(default: no cap); adds a counting pass over each skeleton file",
    )
    return parser


def main(argv=None):
    """Run the converter from the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    progress = {"auto": None, "on": True, "off": False}[args.progress]
    common = dict(
        input_dir=args.input,
        output_dir=args.output_dir,
        name=args.name,
        properties_path=args.properties_path,
        strict=args.strict,
        progress=progress,
    )
    try:
        if args.layout == "raw":
            options = RawOptions(
                seed=args.seed,
                max_seq_len=args.max_seq_len,
                sample_rate=args.sample_rate,
                max_rows=args.max_rows,
                **common,
            )
            summary = convert_raw(options)
        else:
            summary = convert_processed(ProcessedOptions(**common))
    except (ValueError, FileNotFoundError) as error:
        logger.error("Conversion failed; no new output files were written: %s", error)
        return 1
    if args.summary_json is not None:
        args.summary_json.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    print(summary.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
