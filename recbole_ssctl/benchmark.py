"""Compare models over several seeds on one dataset, per domain.

    python -m recbole_ssctl.benchmark --models SSCTL DeepFM --dataset ml-100k-md-sparse \\
        --seeds 2020 2021 2022 --output benchmark_results/ml-100k-md-sparse --epochs=10

Every model is trained once per seed through :func:`~recbole_ssctl.quick_start.run_recbole_ssctl`
with ``seed`` set and the ``--key=value`` settings on top. Datasets with
``benchmark_filename`` keep the same split for every run, so the seed changes only the
initialisation and the batch order. Each model x seed pair runs in its own child process,
so a crash or an out-of-memory kill loses only that pair and no RecBole or torch state
passes from one run to the next.

The output folder receives:

* ``runs/<model>-seed<seed>-<hash>.json``: the result of each pair. ``<hash>`` covers the
  dataset, the settings and the contents of the property files, so a second invocation
  with the same settings skips the pairs that already finished (failed pairs run again);
* ``logs/<model>-seed<seed>.log``: the console output of each child run;
* ``results.csv``: one row per model x seed x domain x metric (domains by their original
  token, plus ``overall`` and ``mean``), with ``status`` and ``error`` columns;
* ``summary.md``: mean +- std per domain, RelaImpr and paired t-tests against the
  reference model, parameters, training seconds per epoch and inference time;
* ``auc_per_domain.png``: per-domain AUC per model with std error bars.
"""

import argparse
import ast
import contextlib
import csv
import hashlib
import json
import math
import multiprocessing
import os
import secrets
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from logging import getLogger
from pathlib import Path

import numpy as np
import yaml

DEFAULT_SEEDS = (2020, 2021, 2022, 2023, 2024)
RESULT_COLUMNS = ["model", "seed", "domain", "metric", "value", "status", "error"]
COST_METRICS = ["parameters", "epochs_trained", "train_seconds_per_epoch", "inference_ms_per_1000"]
OK, FAILED = "ok", "failed"
OVERALL, MEAN = "overall", "mean"


@dataclass
class RunSpec:
    """One model x seed pair of a benchmark."""

    model: str
    seed: int
    dataset: str
    config_files: list
    overrides: dict
    settings_hash: str
    result_path: str
    log_path: str
    checkpoint_dir: str
    threads: int = None

    @property
    def name(self):
        return f"{self.model} seed {self.seed}"


@dataclass
class BenchmarkOutcome:
    """Record of one :func:`run_benchmark` call: its results and the pairs it ran or skipped."""

    results: list
    ran: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    output: Path = None

    @property
    def failed(self):
        return [result for result in self.results if result["status"] != OK]


# ------------------------------------------------------------------ settings


def parse_setting(text):
    """Turn the value of a ``--key=value`` setting into a Python value.

    Python literals (``[64, 32]``, ``0.01``, ``True``) and YAML scalars (``true``, ``~``)
    are understood; anything else stays a string.
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if value is None or isinstance(value, (bool, int, float, list)) else text


def parse_overrides(arguments):
    """Return the ``--key=value`` arguments as a dict; ``ValueError`` on any other form."""
    overrides = {}
    for argument in arguments:
        key, separator, value = argument[2:].partition("=")
        if not argument.startswith("--") or not separator or not key:
            raise ValueError(
                f"Argument {argument!r} is not understood; RecBole settings are given as "
                f"--key=value, e.g. --epochs=10."
            )
        overrides[key] = parse_setting(value)
    return overrides


def _check_overrides(overrides):
    if "seed" in overrides:
        raise ValueError(
            f"seed={overrides['seed']!r} is invalid as a setting because the benchmark sets "
            f"the seed of each run; list the seeds with --seeds instead."
        )


def settings_hash(model, dataset, config_files, overrides):
    """Return a short hash of everything that defines a run except the seed.

    It covers the model, the dataset name, the settings and the contents of every
    property file the run reads (the plugin's, the model's, the dataset's and the user's),
    so editing any of them makes the benchmark run the pair again. The data files
    themselves are not hashed.
    """
    from recbole_ssctl import registry
    from recbole_ssctl.quick_start import property_files

    try:
        files = property_files(registry.get_model(model).__name__, dataset, config_files)
    except ValueError:
        files = list(config_files)  # an unknown model fails in its run, with its message
    contents = [(Path(path).name, Path(path).read_text(encoding="utf-8")) for path in files]
    text = json.dumps(
        {"model": model, "dataset": dataset, "files": contents, "settings": overrides},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------- one run


def _inference_ms_per_1000(model, loader, device):
    """Time ``model.predict`` over every batch of ``loader``; return ms per 1,000 samples."""
    import torch

    model.eval()
    samples, seconds = 0, 0.0
    synchronize = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    with torch.no_grad():
        for batched_data in loader:
            interaction = batched_data[0].to(device)
            synchronize()
            start = time.perf_counter()
            model.predict(interaction)
            synchronize()
            seconds += time.perf_counter() - start
            samples += interaction.length
    return (1e6 * seconds / samples if samples else None), samples


def _plain(value):
    """Return ``value`` as a JSON number (numpy scalars included) or ``None``."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def run_one(spec):
    """Train and test one model x seed pair in this process; return its result dict."""
    from recbole_ssctl.quick_start import run_recbole_ssctl

    started = time.perf_counter()
    if spec.threads:
        import torch

        torch.set_num_threads(spec.threads)
    config_dict = {"checkpoint_dir": spec.checkpoint_dir, **spec.overrides, "seed": spec.seed}
    output = run_recbole_ssctl(spec.model, spec.dataset, spec.config_files, config_dict, saved=True)
    trainer = output["trainer"]
    inference_ms, test_samples = _inference_ms_per_1000(trainer.model, output["test_data"], trainer.device)
    with contextlib.suppress(OSError):
        os.remove(trainer.saved_model_file)
        os.rmdir(spec.checkpoint_dir)
        os.rmdir(Path(spec.checkpoint_dir).parent)
    return {
        "status": OK,
        "error": "",
        "domains": list(trainer.domains.tokens),
        "test_result": {key: _plain(value) for key, value in output["test_result"].items()},
        "best_valid_result": {
            key: _plain(value) for key, value in (output["best_valid_result"] or {}).items()
        },
        "parameters": int(sum(p.numel() for p in trainer.model.parameters())),
        "epochs_trained": len(trainer.train_epoch_seconds),
        "train_seconds_per_epoch": (
            float(np.median(trainer.train_epoch_seconds)) if trainer.train_epoch_seconds else None
        ),
        "inference_ms_per_1000": inference_ms,
        "test_samples": int(test_samples),
        "wall_seconds": time.perf_counter() - started,
        "threads": spec.threads,
    }


def _base_record(spec):
    return {
        "model": spec.model,
        "seed": spec.seed,
        "dataset": spec.dataset,
        "settings_hash": spec.settings_hash,
        "settings": spec.overrides,
        "config_files": spec.config_files,
    }


def _failure(spec, error, details=""):
    return {**_base_record(spec), "status": FAILED, "error": error, "traceback": details}


def _write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename the temporary file to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def _write_text(path, text):
    def write(temporary):
        with open(temporary, "w", encoding="utf-8", newline="") as out:
            out.write(text)

    _write_atomically(path, write)


def _child_main(spec, result_path):
    """Entry point of a child process: run one pair and write its JSON result."""
    sys.argv = sys.argv[:1]  # RecBole's Config would read the parent's arguments as settings
    log = open(spec.log_path, "w", encoding="utf-8", buffering=1)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log

    try:
        record = {**_base_record(spec), **run_one(spec)}
    except Exception as error:  # any failure of the run becomes its result
        details = traceback.format_exc()
        log.write(details)
        record = _failure(spec, f"{type(error).__name__}: {error}", details)
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_text(result_path, json.dumps(record, indent=2))


def _run_in_child(spec, timeout):
    """Run ``spec`` in a spawned process; return its result, or a failure if it died."""
    context = multiprocessing.get_context("spawn")
    result_path = Path(spec.result_path).with_suffix(".partial")
    with contextlib.suppress(FileNotFoundError):
        result_path.unlink()
    process = context.Process(target=_child_main, args=(spec, str(result_path)))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return _failure(spec, f"timed out after {timeout:g} s (run_timeout)")
    if result_path.is_file():
        record = json.loads(result_path.read_text(encoding="utf-8"))
        result_path.unlink()
        return record
    code = process.exitcode
    reason = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    hint = " (possibly out of memory)" if code == -9 else ""
    return _failure(spec, f"child process {reason}{hint}; see {spec.log_path}")


# ---------------------------------------------------------------- benchmark


def _format_seconds(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _check_arguments(models, seeds, reference):
    if not models:
        raise ValueError("models=[] is invalid; name at least one model, e.g. --models SSCTL DeepFM.")
    if len(set(models)) != len(models):
        raise ValueError(f"models={list(models)} names a model twice; name each model once.")
    if not seeds or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds):
        raise ValueError(f"seeds={list(seeds)} is invalid; expected one or more integers.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={list(seeds)} repeats a seed; give each seed once.")
    if reference is not None and reference not in models:
        raise ValueError(f"reference={reference!r} is invalid; allowed values: {list(models)}.")


def plan_runs(models, dataset, seeds, output, config_files=(), overrides=None, threads=None):
    """Return the :class:`RunSpec` of every model x seed pair, models first."""
    output = Path(output).resolve()
    overrides = dict(overrides or {})
    _check_overrides(overrides)
    config_files = [str(Path(path).resolve()) for path in config_files]
    for path in config_files:
        if not Path(path).is_file():
            raise FileNotFoundError(f"Config file '{path}' does not exist.")
    specs = []
    for model in models:
        digest = settings_hash(model, dataset, config_files, overrides)
        for seed in seeds:
            stem = f"{model}-seed{seed}"
            specs.append(
                RunSpec(
                    model=model,
                    seed=int(seed),
                    dataset=dataset,
                    config_files=config_files,
                    overrides=overrides,
                    settings_hash=digest,
                    result_path=str(output / "runs" / f"{stem}-{digest}.json"),
                    log_path=str(output / "logs" / f"{stem}.log"),
                    checkpoint_dir=str(output / "saved" / stem),
                    threads=threads,
                )
            )
    return specs


def _finished(spec):
    """Return the stored result of ``spec`` if it finished with the same settings."""
    path = Path(spec.result_path)
    if not path.is_file():
        return None
    with contextlib.suppress(ValueError):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("status") == OK and record.get("settings_hash") == spec.settings_hash:
            return record
    return None


def run_benchmark(
    models,
    dataset,
    seeds=DEFAULT_SEEDS,
    output="benchmark_results",
    config_files=(),
    overrides=None,
    reference=None,
    run_timeout=None,
    command=None,
    threads=None,
):
    """Train every model for every seed, then write results.csv, summary.md and the plot.

    Args:
        models (list of str): plugin or RecBole context-aware model names.
        dataset (str): dataset name.
        seeds (list of int): training seeds.
        output (str or Path): output folder.
        config_files (list of str): extra property files for every run.
        overrides (dict): RecBole settings for every run (``seed`` excluded).
        reference (str): the model others are compared with; default the first model.
        run_timeout (float): seconds after which a run is stopped and marked failed.
        command (str): the command line to show in ``summary.md``.
        threads (int): torch CPU threads of each run; default torch's own choice. The
            settings hash leaves it out, so a re-run with another value skips finished pairs.

    Returns:
        BenchmarkOutcome: results in model x seed order, pairs run and pairs skipped.
    """
    logger = getLogger()
    models, seeds = list(models), [int(seed) for seed in seeds]
    _check_arguments(models, seeds, reference)
    reference = reference or models[0]
    output = Path(output)
    specs = plan_runs(models, dataset, seeds, output, config_files, overrides, threads)
    for folder in ("runs", "logs"):
        (output / folder).mkdir(parents=True, exist_ok=True)

    results, outcome = {}, BenchmarkOutcome(results=[], output=output)
    pending = []
    for spec in specs:
        record = _finished(spec)
        if record is None:
            pending.append(spec)
            continue
        results[(spec.model, spec.seed)] = record
        outcome.skipped.append(spec.name)
        logger.info(f"skip {spec.name}: finished before ({Path(spec.result_path).name})")

    started = time.perf_counter()
    for number, spec in enumerate(pending, start=1):
        logger.info(f"run {number}/{len(pending)} started: {spec.name}")
        run_started = time.perf_counter()
        record = _run_in_child(spec, run_timeout)
        _write_text(spec.result_path, json.dumps(record, indent=2))
        results[(spec.model, spec.seed)] = record
        outcome.ran.append(spec.name)
        elapsed = time.perf_counter() - started
        eta = elapsed / number * (len(pending) - number)
        status = record["status"] if record["status"] == OK else f"FAILED ({record['error']})"
        logger.info(
            f"run {number}/{len(pending)} finished: {spec.name} {status} in "
            f"{time.perf_counter() - run_started:.1f} s; elapsed {_format_seconds(elapsed)}, "
            f"ETA {_format_seconds(eta)}"
        )

    outcome.results = [results[(spec.model, spec.seed)] for spec in specs]
    write_reports(outcome.results, output, models, seeds, reference, dataset, command)
    return outcome


# ------------------------------------------------------------------ reports


def domain_values(result):
    """Return ``{metric: {domain: value}}`` of one finished run, with overall and mean.

    ``mean`` is the unweighted mean over the domains that have a value.
    """
    test = result["test_result"]
    metrics = [key for key in test if "[" not in key and key != "mean_domain_auc"]
    values = {}
    for metric in metrics:
        per_domain = {token: test.get(f"{metric}[{token}]") for token in result["domains"]}
        present = [value for value in per_domain.values() if value is not None]
        per_domain[OVERALL] = test.get(metric)
        per_domain[MEAN] = float(np.mean(present)) if present else None
        values[metric] = per_domain
    return values


def result_rows(results):
    """Return the rows of ``results.csv`` (see :data:`RESULT_COLUMNS`)."""
    rows = []
    for result in results:
        base = {"model": result["model"], "seed": result["seed"]}
        if result["status"] != OK:
            rows.append(
                {**base, "domain": "", "metric": "", "value": "", "status": result["status"],
                 "error": result["error"]}
            )
            continue
        cells = [
            (domain, metric, value)
            for metric, per_domain in domain_values(result).items()
            for domain, value in per_domain.items()
        ]
        cells += [(OVERALL, metric, result.get(metric)) for metric in COST_METRICS]
        for domain, metric, value in cells:
            if isinstance(value, float):
                value = round(value, 6)
            rows.append(
                {**base, "domain": domain, "metric": metric, "value": value, "status": OK, "error": ""}
            )
    return rows


def rela_impr(auc, reference_auc):
    """Return RelaImpr in percent: ``((auc - 0.5) / (reference_auc - 0.5) - 1) * 100``."""
    if auc is None or reference_auc is None or reference_auc == 0.5:
        return None
    return ((auc - 0.5) / (reference_auc - 0.5) - 1.0) * 100.0


def paired_p_value(values, reference_values):
    """Return the paired t-test p-value over the seeds both dicts share (``None`` if < 2)."""
    from scipy.stats import ttest_rel

    seeds = sorted(
        seed for seed in set(values) & set(reference_values)
        if values[seed] is not None and reference_values[seed] is not None
    )
    if len(seeds) < 2:
        return None
    p_value = ttest_rel([values[s] for s in seeds], [reference_values[s] for s in seeds]).pvalue
    return float(p_value) if math.isfinite(p_value) else None


def _collect(results, models):
    """Return ``{model: {metric: {domain: {seed: value}}}}`` and the domain order."""
    table, domains = {model: {} for model in models}, []
    for result in results:
        if result["status"] != OK:
            continue
        domains = domains or list(result["domains"])
        for metric, per_domain in domain_values(result).items():
            for domain, value in per_domain.items():
                table[result["model"]].setdefault(metric, {}).setdefault(domain, {})[result["seed"]] = value
    return table, domains + [OVERALL, MEAN]


def _mean_std(values):
    present = [value for value in values if value is not None]
    if not present:
        return None, None
    return float(np.mean(present)), (float(np.std(present, ddof=1)) if len(present) > 1 else None)


def _cell(values, digits=4):
    mean, std = _mean_std(values)
    if mean is None:
        return "n/a"
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_markdown(results, models, seeds, reference, dataset, command=None):
    """Return the text of ``summary.md``."""
    table, domains = _collect(results, models)
    finished = [model for model in models if table[model]]
    lines = [f"# Benchmark on `{dataset}`", ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    lines += [
        f"Models: {', '.join(models)}. Seeds: {', '.join(str(s) for s in seeds)}. "
        f"Reference: {reference}. Test-set results, mean ± sample standard deviation over "
        f"the seeds that finished; `mean` is the unweighted mean over the domains.",
        "",
    ]
    for metric, title in (("auc", "AUC"), ("logloss", "LogLoss")):
        rows = [
            [model] + [_cell(table[model].get(metric, {}).get(d, {}).values()) for d in domains]
            for model in finished
        ]
        lines += [f"## Test {title}", "", _markdown_table(["model"] + domains, rows), ""]

    reference_auc = table.get(reference, {}).get("auc", {})
    rows = []
    for model in finished:
        if model == reference:
            continue
        cells = [model]
        for domain in domains:
            own = table[model].get("auc", {}).get(domain, {})
            ref = reference_auc.get(domain, {})
            impr = rela_impr(_mean_std(own.values())[0], _mean_std(ref.values())[0])
            p_value = paired_p_value(own, ref)
            text = "n/a" if impr is None else f"{impr:+.2f} %"
            cells.append(text + ("" if p_value is None else f" (p={p_value:.3g})"))
        rows.append(cells)
    lines += [f"## AUC against {reference}", ""]
    if reference in finished and rows:
        lines += [
            _markdown_table(["model"] + domains, rows),
            "",
            "RelaImpr = ((AUC_model - 0.5) / (AUC_reference - 0.5) - 1) x 100 %, from the mean "
            "AUC over seeds. p: two-sided paired t-test (scipy.stats.ttest_rel) of the per-seed "
            "AUC against the reference's on the same seeds; it needs >= 2 seeds finished by "
            "both models and is left out otherwise.",
            "",
        ]
    else:
        lines += [f"No comparison: {reference} or every other model has no finished run.", ""]

    rows = []
    for model in models:
        runs = [r for r in results if r["model"] == model]
        done = [r for r in runs if r["status"] == OK]
        row = [model, f"{len(done)}/{len(runs)}"]
        if done:
            row += [
                f"{done[0]['parameters']:,}",
                _cell([r["epochs_trained"] for r in done], 1),
                _cell([r["train_seconds_per_epoch"] for r in done], 2),
                _cell([r["inference_ms_per_1000"] for r in done], 2),
            ]
        else:
            row += ["n/a"] * 4
        rows.append(row)
    header = ["model", "runs ok", "parameters", "epochs trained", "s / training epoch", "inference ms / 1,000 samples"]
    lines += [
        "## Cost",
        "",
        _markdown_table(header, rows),
        "",
        "Seconds per epoch: median over the epochs of the trainer's training pass, validation "
        "excluded. Inference: model.predict over the test set in evaluation mode, data "
        "loading excluded.",
        "",
    ]

    failures = [r for r in results if r["status"] != OK]
    lines += ["## Failed runs", ""]
    lines += [f"- {r['model']} seed {r['seed']}: {r['error']}" for r in failures] or ["None."]
    return "\n".join(lines) + "\n"


def plot_auc(results, models, path):
    """Write a grouped bar chart of per-domain AUC (mean, std error bars) to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table, domains = _collect(results, models)
    finished = [model for model in models if table[model]]
    bars = len(domains) * max(1, len(finished))
    figure = Figure(figsize=(min(16.0, max(6.0, 2.0 + 0.22 * bars)), 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    if not finished:
        axes.text(0.5, 0.5, "no finished runs", ha="center", va="center")
        axes.set_axis_off()
    else:
        width = 0.8 / len(finished)
        positions = np.arange(len(domains))
        lowest, highest = 1.0, 0.0
        for index, model in enumerate(finished):
            stats = [_mean_std(table[model]["auc"].get(d, {}).values()) for d in domains]
            means = [np.nan if mean is None else mean for mean, _ in stats]
            errors = [0.0 if std is None else std for _, std in stats]
            axes.bar(positions + (index - (len(finished) - 1) / 2) * width, means, width,
                     yerr=errors, capsize=2, label=model)
            present = [(m, e) for m, e in zip(means, errors) if not np.isnan(m)]
            lowest = min([lowest] + [m - e for m, e in present])
            highest = max([highest] + [m + e for m, e in present])
        axes.set_xticks(positions)
        axes.set_xticklabels(domains)
        axes.set_ylabel("test AUC")
        axes.set_ylim(max(0.0, lowest - 0.05), min(1.0, highest + 0.08))
        axes.legend(fontsize="small", ncol=min(4, len(finished)))
        axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    _write_atomically(path, lambda temporary: figure.savefig(temporary, format="png", dpi=120))


def write_reports(results, output, models, seeds, reference, dataset, command=None):
    """Write ``results.csv``, ``summary.md`` and ``auc_per_domain.png`` into ``output``."""
    output = Path(output)

    def write_csv(temporary):
        with open(temporary, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS)
            writer.writeheader()
            writer.writerows(result_rows(results))

    _write_atomically(output / "results.csv", write_csv)
    _write_text(output / "summary.md", summary_markdown(results, models, seeds, reference, dataset, command))
    plot_auc(results, models, output / "auc_per_domain.png")


# ---------------------------------------------------------------------- CLI


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m recbole_ssctl.benchmark",
        description=__doc__.splitlines()[0],
        allow_abbrev=False,
        epilog="Any RecBole setting can follow as --key=value, e.g. --epochs=10.",
    )
    parser.add_argument("--models", nargs="+", required=True, help="model names, e.g. SSCTL DeepFM")
    parser.add_argument("--dataset", required=True, help="dataset name")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS), help="training seeds")
    parser.add_argument("--config_files", nargs="+", default=[], help="extra .yaml property files")
    parser.add_argument("--output", default="benchmark_results", help="output folder")
    parser.add_argument("--reference", default=None, help="model to compare with (default: the first)")
    parser.add_argument(
        "--run_timeout", type=float, default=None, help="seconds after which a run is stopped and marked failed"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads per run (default: torch's choice)"
    )
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = build_parser().parse_known_args(argv)
    overrides = parse_overrides(rest)
    config_files = [path for text in args.config_files for path in text.split()]
    logger = getLogger()
    if not logger.handlers:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    command = shlex.join(["python", "-m", "recbole_ssctl.benchmark"] + argv)
    outcome = run_benchmark(
        args.models,
        args.dataset,
        args.seeds,
        args.output,
        config_files,
        overrides,
        args.reference,
        args.run_timeout,
        command,
        args.threads,
    )
    print(outcome.output / "summary.md")
    return 1 if len(outcome.failed) == len(outcome.results) else 0


if __name__ == "__main__":
    sys.exit(main())
