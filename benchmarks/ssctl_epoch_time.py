"""Measure SSCTL's seconds per training epoch against the same model with SDDN and ISCT off.

    python benchmarks/ssctl_epoch_time.py [--dataset ml-100k-md] [--rounds 5] [--report FILE]

Both variants are built on the same data in one process, and their epochs alternate, so
load on a shared machine hits both alike. The full model trains in the joint stage
(pseudo-labels on). Prints the median seconds per epoch of each variant and their ratio.
"""

import argparse
import os
import platform
import statistics
import sys
import time

import recbole_ssctl  # noqa: F401  (patches RecBole)
import torch
from recbole.utils import init_logger, init_seed

from recbole_ssctl import registry
from recbole_ssctl.quick_start import build_config, load_data, prepare_builtin_dataset

VARIANTS = {
    "SSCTL (SDDN + ISCT)": {},
    "SSCTL, SDDN and ISCT off (CGC)": {"use_sddn": False, "use_isct": False},
}


def build_trainer(dataset, settings, data):
    config = build_config("SSCTL", dataset, config_dict={"state": "WARNING", "show_progress": False, **settings})
    init_seed(config["seed"], config["reproducibility"])
    model = registry.get_model("SSCTL")(config, data[0]._dataset)
    model.isct_active = model.use_isct
    return registry.get_trainer(type(model))(config, model)


def machine_description():
    cpu = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k-md", help="dataset name (default ml-100k-md)")
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per variant (default 5)")
    parser.add_argument("--report", help="also write the figures as a Markdown page to this file")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]  # RecBole's Config would read the options above as its own

    config = build_config("SSCTL", args.dataset, config_dict={"state": "WARNING"})
    init_logger(config)
    prepare_builtin_dataset(config)
    _, data, _, _ = load_data(config)
    trainers = {name: build_trainer(args.dataset, settings, data) for name, settings in VARIANTS.items()}

    for trainer in trainers.values():  # one untimed epoch each: allocator and thread start-up
        trainer._train_epoch(data[0], 0)
    seconds = {name: [] for name in trainers}
    for epoch in range(1, args.rounds + 1):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            trainer._train_epoch(data[0], epoch)
            seconds[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in seconds.items()}
    lines = [
        f"machine: {machine_description()}",
        f"dataset: {args.dataset}, {len(data[0].dataset)} training rows, "
        f"batch size {config['train_batch_size']}",
    ]
    for name, values in seconds.items():
        parameters = sum(p.numel() for p in trainers[name].model.parameters())
        lines.append(
            f"{name}: median {medians[name]:.2f} s/epoch over {len(values)} epochs "
            f"(min {min(values):.2f}, max {max(values):.2f}), {parameters} parameters"
        )
    full, plain = medians.values()
    lines.append(f"ratio full / plain: {full / plain:.2f}")
    print("\n".join(lines))
    if args.report:
        write_report(args, lines)


def write_report(args, lines):
    command = f"python benchmarks/ssctl_epoch_time.py --dataset {args.dataset} --rounds {args.rounds} --report {args.report}"
    text = (
        "# SSCTL seconds per training epoch\n\n"
        "SSCTL with SDDN and ISCT (joint stage, pseudo-labels on) against the same model with\n"
        "both switched off, which is the plain CGC backbone. Both variants train on the same\n"
        "data in one process and their epochs alternate, so load from other work on the\n"
        "machine affects both alike; compare the ratio rather than the absolute seconds.\n"
        "This page is written by the script:\n\n"
        f"```\n{command}\n```\n\n"
        "## Latest figures\n\n"
        f"```\n" + "\n".join(lines) + "\n```\n"
    )
    with open(args.report, "w", encoding="utf-8") as report:
        report.write(text)

if __name__ == "__main__":
    main()
