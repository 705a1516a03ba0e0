"""Benchmark the raw Ali-CCP converter: skeleton rows per second and peak memory at two sizes.

For each size the script generates a synthetic raw set (``dataset_prep.synthetic_aliccp``)
with that many skeleton rows per split, then runs ``python -m dataset_prep.aliccp raw`` on it
in a child process. The wall time covers the whole child: interpreter start, reading both
common files, converting both skeleton files and writing the outputs. Peak RSS is the
child's own maximum resident set size: the ``VmHWM`` line of ``/proc/<pid>/status``, read
every 20 ms while the child runs. ``ru_maxrss`` from ``wait4`` would not do, because Linux
carries the high-water mark of the forking parent, here the generator, across ``exec``.

Usage::

    python benchmarks/aliccp_prep.py                      # 1 M and 2 M rows per split
    python benchmarks/aliccp_prep.py --rows 100000 200000 # a quick run
    python benchmarks/aliccp_prep.py --report docs/benchmarks/aliccp-prep.md --profile

``--report`` writes the Markdown page with the machine description and the measured
figures; ``--profile`` adds a cProfile run on the smallest set to that page.
"""

import argparse
import json
import logging
import os
import platform
import pstats
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from dataset_prep.aliccp_io import CHUNK_BYTES  # noqa: E402  (needs the path above)
from dataset_prep.synthetic_aliccp import generate  # noqa: E402

logger = logging.getLogger("benchmarks.aliccp_prep")

GOAL_ROWS_PER_SECOND = 65_000
GOAL_PEAK_RSS_GB = 0.6
GOAL_RSS_GROWTH = 0.10


def machine_description():
    """Return facts about this machine that bear on the figures."""
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
                break
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": memory_kb / 1024**2,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def run_converter(input_dir, output_dir, profile_path=None):
    """Run the converter in a child process; return wall seconds, CPU seconds, peak RSS and the summary."""
    output_dir.mkdir(parents=True, exist_ok=True)
    summary_path = output_dir / "summary.json"

    command = [sys.executable]
    if profile_path is not None:
        command += ["-m", "cProfile", "-o", str(profile_path)]
    command += [
        "-m", "dataset_prep.aliccp", "raw",
        "--input", str(input_dir),
        "--output-dir", str(output_dir / "dataset"),
        "--properties-path", str(output_dir / "ali-ccp.yaml"),
        "--progress", "off",
        "--log-level", "WARNING",
        "--summary-json", str(summary_path),
    ]

    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    peak_rss = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid != 0:
            break
        peak_rss = max(peak_rss, _high_water_mark(child.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started

    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"converter failed with exit status {child.returncode}: {shlex.join(command)}")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return wall, usage.ru_utime + usage.ru_stime, peak_rss, summary


def _high_water_mark(pid):
    """Return the peak resident set size of a running process in bytes, or 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def measure(rows, users, seed, work_dir, profile=False):
    """Generate one set, convert it and return the measurement as a dict."""
    input_dir = work_dir / f"raw-{rows}"
    output_dir = work_dir / f"out-{rows}"
    started = time.perf_counter()
    generate(input_dir, rows=rows, users=users, seed=seed)
    generated_in = time.perf_counter() - started
    input_bytes = sum(path.stat().st_size for path in input_dir.iterdir())

    load_before = os.getloadavg()[0]
    wall, cpu, peak_rss, summary = run_converter(input_dir, output_dir)

    skeleton_rows = 2 * rows
    written = sum(summary["rows_written"].values())
    if written != skeleton_rows:
        raise RuntimeError(f"expected {skeleton_rows} rows written, got {written}: {summary}")
    output_bytes = sum(path.stat().st_size for path in (output_dir / "dataset" / "ali-ccp").iterdir())
    result = {
        "rows_per_split": rows,
        "skeleton_rows": skeleton_rows,
        "users": users,
        "generated_seconds": generated_in,
        "input_mb": input_bytes / 1e6,
        "output_mb": output_bytes / 1e6,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "rows_per_second": skeleton_rows / wall,
        "peak_rss_gb": peak_rss / 1e9,
        "load_average_before": load_before,
        "profile": None,
    }
    shutil.rmtree(output_dir)

    if profile:
        profile_path = work_dir / "converter.prof"
        run_converter(input_dir, output_dir, profile_path=profile_path)
        shutil.rmtree(output_dir)
        result["profile"] = profile_text(profile_path)
    shutil.rmtree(input_dir)
    return result


def profile_text(path, limit=12):
    """Return the top functions of a cProfile file by own time, as text."""
    lines = []
    stats = pstats.Stats(str(path))
    total = stats.total_tt
    entries = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    lines.append(f"{'own s':>8} {'share':>6} {'calls':>10}  function")
    for (filename, line, function), (_, calls, own, _, _) in entries:
        where = function if filename == "~" else f"{Path(filename).name}:{line} {function}"
        lines.append(f"{own:8.2f} {own / total:6.1%} {calls:10d}  {where}")
    lines.append(f"{total:8.2f} total (profiled run; cProfile adds overhead to every call)")
    return "\n".join(lines)


def results_table(results):
    """Return the Markdown table of the measurements."""
    lines = [
        "| rows per split | skeleton rows | input MB | output MB | wall s | CPU s | rows/s | peak RSS GB | load avg before |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        lines.append(
            f"| {result['rows_per_split']:,} | {result['skeleton_rows']:,} | {result['input_mb']:,.0f} "
            f"| {result['output_mb']:,.0f} | {result['wall_seconds']:.1f} | {result['cpu_seconds']:.1f} "
            f"| {result['rows_per_second']:,.0f} | {result['peak_rss_gb']:.3f} | {result['load_average_before']:.2f} |"
        )
    return "\n".join(lines)


def comparison(results):
    """Return the ratios between the largest and the smallest size, and the goal verdicts."""
    first, last = results[0], results[-1]
    speed_ratio = last["rows_per_second"] / first["rows_per_second"]
    rss_ratio = last["peak_rss_gb"] / first["peak_rss_gb"]
    slowest = min(result["rows_per_second"] for result in results)
    largest_rss = max(result["peak_rss_gb"] for result in results)
    return {
        "speed_ratio": speed_ratio,
        "rss_ratio": rss_ratio,
        "speed_goal_met": slowest >= GOAL_ROWS_PER_SECOND,
        "rss_goal_met": largest_rss < GOAL_PEAK_RSS_GB,
        "flat_goal_met": abs(rss_ratio - 1.0) <= GOAL_RSS_GROWTH,
    }


def report_page(command, machine, results, verdict):
    """Return the Markdown benchmark page."""
    def yes_no(flag):
        return "met" if flag else "NOT met"

    sizes = " and ".join(f"{result['rows_per_split']:,}" for result in results)
    lines = [
        "# Ali-CCP raw conversion benchmark",
        "",
        "Throughput and memory of `python -m dataset_prep.aliccp raw` on synthetic raw files",
        "written by `dataset_prep.synthetic_aliccp`. The sets have "
        f"{sizes} skeleton rows per split (train and test each)",
        f"and {results[0]['users']:,} users. Each user has 12 to 160 behaviour values, and each skeleton",
        "row has 9 to 10 ad features. The input is plain CSV.",
        "",
        "Each conversion runs in its own child process. Wall time covers the whole child:",
        "interpreter start, both common files, both skeleton files and all writes. CPU time is",
        "the child's user and system time over all its threads. Rows per second count the",
        "skeleton rows of both splits. Peak RSS is the child's own maximum resident set size",
        "(`VmHWM` in `/proc/<pid>/status`, read every 20 ms).",
        "",
        "This page is written by the benchmark script; rerun it to refresh the figures:",
        "",
        "```",
        command,
        "```",
        "",
        "## Machine",
        "",
        f"- CPUs available: {machine['cpus']} ({machine['cpu_model']})",
        f"- memory: {machine['memory_gib']:.1f} GiB",
        f"- Python {machine['python']}, numpy {machine['numpy']}",
        f"- {machine['platform']}",
        "",
        "The load average before each run shows whether other work shared the CPUs; wall",
        "times from a busy machine are longer than the converter alone needs.",
        "",
        "## Results",
        "",
        results_table(results),
        "",
        f"From the smallest to the largest size, rows per second changed by a factor of "
        f"{verdict['speed_ratio']:.2f} and peak RSS by a factor of {verdict['rss_ratio']:.2f}.",
        "",
        "## Goal",
        "",
        f"- at least {GOAL_ROWS_PER_SECOND:,} skeleton rows per second end to end: "
        f"{yes_no(verdict['speed_goal_met'])}",
        f"- peak RSS under {GOAL_PEAK_RSS_GB} GB: {yes_no(verdict['rss_goal_met'])}",
        f"- peak RSS flat, within {GOAL_RSS_GROWTH:.0%}, between the sizes: {yes_no(verdict['flat_goal_met'])}",
        "",
        "Memory is bounded by the common-features table, which has one entry per",
        "`common_feature_index` with the finished text of the user columns, plus a few",
        f"{CHUNK_BYTES / 2**20:g} MiB input chunks and their output in flight. It depends on the",
        "number of users, not on the number of skeleton rows.",
        "",
        "Speed is bounded by the per-row Python work in the main thread: one regex check of",
        "the feature list, a split, a dict of the ad fields, a lookup of the user text and one",
        "join. Reading and writing run in two more threads. Each output row is about "
        f"{results[-1]['output_mb'] * 1e6 / results[-1]['skeleton_rows']:,.0f} bytes,",
        "because the user columns, behaviour sequences included, are repeated on every row.",
    ]
    profiled = [result for result in results if result["profile"]]
    if profiled:
        lines += [
            "",
            f"## Profile ({profiled[0]['rows_per_split']:,} rows per split)",
            "",
            "Functions with the most own time in a cProfile run of the same conversion. The",
            "reading and writing threads are not profiled; their file reads and writes",
            "overlap the parsing in the main thread.",
            "",
            "```",
            profiled[0]["profile"],
            "```",
        ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description="Benchmark the raw Ali-CCP converter at two or more sizes.")
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1_000_000, 2_000_000],
        help="skeleton rows per split for each measured size (default: 1000000 2000000)",
    )
    parser.add_argument("--users", type=int, default=20_000, help="users in each generated set (default: 20000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default: 1)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="folder for the generated input and the output, removed per size after use "
        "(default: a new temporary folder)",
    )
    parser.add_argument("--report", type=Path, default=None, help="write the Markdown benchmark page to this file")
    parser.add_argument("--profile", action="store_true", help="also profile the smallest size with cProfile")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    command = "python benchmarks/aliccp_prep.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    sizes = sorted(args.rows)
    owned_dir = args.work_dir is None
    work_dir = Path(tempfile.mkdtemp(prefix="aliccp-bench-")) if owned_dir else args.work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for index, rows in enumerate(sizes):
            logger.info("Measuring %d rows per split", rows)
            result = measure(rows, args.users, args.seed, work_dir, profile=args.profile and index == 0)
            logger.info(
                "%d rows per split: %.0f rows/s, peak RSS %.3f GB",
                rows,
                result["rows_per_second"],
                result["peak_rss_gb"],
            )
            results.append(result)
    finally:
        if owned_dir:
            shutil.rmtree(work_dir, ignore_errors=True)

    machine = machine_description()
    print(results_table(results))
    if len(results) > 1:
        verdict = comparison(results)
        print(f"largest/smallest: rows/s x{verdict['speed_ratio']:.2f}, peak RSS x{verdict['rss_ratio']:.2f}")
    else:
        verdict = {"speed_ratio": 1.0, "rss_ratio": 1.0, **comparison(results + results)}
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report_page(command.strip(), machine, results, verdict), encoding="utf-8")
        logger.info("Wrote %s", args.report)


if __name__ == "__main__":
    main()
