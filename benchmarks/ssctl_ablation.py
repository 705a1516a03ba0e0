"""Compare SSCTL's variants on the validation and test sets of one dataset.

    python benchmarks/ssctl_ablation.py [--dataset ml-100k-md-sparse] [--seeds 2020 2021] [--report FILE]

Each variant changes a few SSCTL settings (the switches, the weighting, the weight of the
pseudo-label loss). Every variant trains once per seed with early stopping on the
validation AUC. The table gives the mean of the best validation result and of the test
result of that checkpoint. Choose settings by the validation columns; the test columns
are for reporting only.
"""

import argparse
import statistics
import sys
import time

import recbole_ssctl  # noqa: F401  (patches RecBole)
import torch
from recbole_ssctl.quick_start import run_recbole_ssctl

VARIANTS = {
    "SSCTL (defaults, lambda_pseudo 0.1)": {},
    "lambda_pseudo 0.3": {"lambda_pseudo": 0.3},
    "lambda_pseudo 1.0": {"lambda_pseudo": 1.0},
    "weighting threshold": {"weighting": "threshold"},
    "weighting none": {"weighting": "none"},
    "SDDN only (use_isct False)": {"use_isct": False},
    "ISCT only (use_sddn False)": {"use_sddn": False},
    "CGC (both off)": {"use_isct": False, "use_sddn": False},
}
COLUMNS = ("auc", "mean_domain_auc", "logloss")


def run_variant(dataset, settings, seed):
    config_dict = {**settings, "seed": seed, "state": "WARNING", "show_progress": False}
    result = run_recbole_ssctl("SSCTL", dataset, config_dict=config_dict)
    return result["best_valid_result"], result["test_result"]


def table_lines(results, tokens):
    """Return a Markdown table: validation and test means per variant."""
    test_columns = list(COLUMNS) + [f"auc[{token}]" for token in tokens]
    header = ["variant"] + [f"valid {c}" for c in COLUMNS] + [f"test {c}" for c in test_columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, runs in results.items():
        cells = [name]
        cells += [_mean([valid[c] for valid, _ in runs]) for c in COLUMNS]
        cells += [_mean([test[c] for _, test in runs]) for c in test_columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _mean(values):
    values = [v for v in values if v is not None]
    return f"{statistics.mean(values):.4f}" if values else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k-md-sparse", help="dataset name")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2020, 2021], help="training seeds")
    parser.add_argument("--report", help="also write the table as a Markdown page to this file")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    command = " ".join(["python"] + sys.argv)
    sys.argv = sys.argv[:1]  # RecBole's Config would read the options above as its own

    start = time.perf_counter()
    results = {name: [] for name in VARIANTS}
    for name, settings in VARIANTS.items():
        for seed in args.seeds:
            results[name].append(run_variant(args.dataset, settings, seed))
            print(f"{name}, seed {seed}: done after {time.perf_counter() - start:.0f} s", flush=True)

    tokens = sorted({key[4:-1] for _, test in results[next(iter(VARIANTS))] for key in test if key.startswith("auc[")})
    lines = table_lines(results, tokens)
    print("\n".join(lines))
    if args.report:
        write_report(args, command, lines, time.perf_counter() - start)


def write_report(args, command, lines, seconds):
    text = (
        "# SSCTL variants\n\n"
        f"Each variant of SSCTL trained on `{args.dataset}` with seeds {args.seeds}; means over the\n"
        "seeds. `valid` columns are the best validation result (early stopping on validation\n"
        "AUC), `test` columns the test result of that checkpoint. Settings not named keep\n"
        "the defaults of `properties/model/SSCTL.yaml` and `properties/overall.yaml`. This page\n"
        f"is written by the script ({seconds / 60:.0f} minutes on 2 shared CPU cores):\n\n"
        f"```\n{command}\n```\n\n" + "\n".join(lines) + "\n"
    )
    with open(args.report, "w", encoding="utf-8") as report:
        report.write(text)


if __name__ == "__main__":
    main()
