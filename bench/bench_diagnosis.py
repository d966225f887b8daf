"""Benchmark the CI-log classifier against grep on the same ~100 MB log and the same patterns.

The log repeats the real corpus lines (tests/data/logs/*.log) and ends with a real pip failure, so
the classifier has to stream through plenty of failure-looking lines. ``grep -E`` gets every rule's
regex (exported by `mlops_bot.diagnosis.rules.grep_patterns`), which is the work a grep-based triage
script would do; it only counts matching lines, while we also classify, so the ratio is an upper
bound on our overhead. Timings and RSS come from fresh subprocesses; tracemalloc's peak from a
separate, untimed run (tracing slows allocation).

Usage::

    .venv/bin/python bench/bench_diagnosis.py [--size-mb 100] [--repeat 3] [--workdir /tmp/mlops-bot-bench]
    .venv/bin/python bench/bench_diagnosis.py --corpus       # accuracy and wrong fix PRs per tool family
    .venv/bin/python bench/bench_diagnosis.py --calibrate    # rewrite the calibration table from the corpus

``--corpus`` scores every labelled corpus (``tests/data/logs`` and any sub-folder with its own
``expected.json``, e.g. ``toolchain/``): category and package accuracy, fix PRs opened and wrong fix
PRs at each ``detection_sensitivity``, the Brier score and a reliability table of the confidences.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mlops_bot.diagnosis.rules import LITERALS, grep_patterns

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "logs"
MB = 1024 * 1024

CHILD_TIMED = """
import json, resource, sys, time
from mlops_bot.diagnosis import Problem, diagnose_path  # Problem: pydantic loads on first use; not timed
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start, cpu_start = time.perf_counter(), time.process_time()
problem = diagnose_path(sys.argv[1])
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "rss_after_import_kb": before, "peak_rss_kb": after,
                  "category": problem.category.value, "kind": problem.kind}))
"""

CHILD_TRACED = """
import json, sys, tracemalloc
from mlops_bot.diagnosis import Problem, diagnose_path  # Problem: pydantic loads on first use; not traced
tracemalloc.start()
diagnose_path(sys.argv[1])
print(json.dumps({"tracemalloc_peak_bytes": tracemalloc.get_traced_memory()[1]}))
"""


def build_log(path: Path, size: int) -> int:
    """Repeat the corpus' tool output up to `size` bytes, then a real failing tail; return line count."""
    filler: list[str] = []
    for log in sorted(CORPUS.glob("*.log")):
        filler += [line for line in log.read_text(encoding="utf-8-sig").splitlines() if "##[" not in line]
    tail = (CORPUS / "pip_index_unreachable.log").read_text(encoding="utf-8-sig").splitlines()
    block = "\n".join(filler) + "\n"
    written = lines = 0
    with path.open("w", encoding="utf-8") as out:
        while written < size:
            out.write(block)
            written += len(block.encode())
            lines += len(filler)
        out.write("\n".join(tail) + "\n")
    return lines + len(tail)


def run_child(code: str, log: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code, str(log)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    payload: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return payload


def time_command(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, str]:
    """Median wall-clock and CPU (user + system) seconds of `command`, and its output."""
    times: list[float] = []
    cpu: list[float] = []
    output = ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        output = result.stdout.strip()
    return statistics.median(times), statistics.median(cpu), output


def corpora() -> list[Path]:
    """The labelled corpora: the main one and every sub-folder holding its own expected.json."""
    return [CORPUS, *sorted(p.parent for p in CORPUS.glob("*/expected.json") if p.parent.name != "holdout")]


def corpus_report(calibrate: bool) -> int:
    from mlops_bot.diagnosis.evaluation import calibration_counts, evaluate, report

    results = [result for corpus in corpora() for result in evaluate(corpus)]
    print(report(results))
    if calibrate:
        from mlops_bot.diagnosis import confidence

        target = ROOT / "shared" / "mlops_bot" / "diagnosis" / confidence.CALIBRATION_FILE
        table = {
            "comment": "kind -> [diagnoses, correct] on the labelled corpus; written by bench/bench_diagnosis.py"
            " --calibrate",
            "logs": len(results),
            "kinds": {kind: list(row) for kind, row in calibration_counts(results).items()},
        }
        kinds = ",\n".join(f"  {json.dumps(kind)}: {json.dumps(row)}" for kind, row in table["kinds"].items())
        head = json.dumps({key: value for key, value in table.items() if key != "kinds"}, indent=1)[:-2]
        target.write_text(f'{head},\n "kinds": {{\n{kinds}\n }}\n}}\n', encoding="utf-8")
        print(f"calibration table written to {target.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark diagnose_path against grep -E.")
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mlops-bot-bench"))
    parser.add_argument("--corpus", action="store_true", help="score the labelled corpus instead of timing")
    parser.add_argument("--calibrate", action="store_true", help="with --corpus: rewrite the calibration table")
    args = parser.parse_args(argv)
    if args.corpus or args.calibrate:
        return corpus_report(args.calibrate)
    if shutil.which("grep") is None:
        print("grep not found", file=sys.stderr)
        return 2

    args.workdir.mkdir(parents=True, exist_ok=True)
    log = args.workdir / f"diagnosis-{args.size_mb}mb.log"
    lines = build_log(log, args.size_mb * MB)
    size = log.stat().st_size
    patterns = args.workdir / "patterns.ere"
    patterns.write_text("\n".join(grep_patterns()) + "\n", encoding="utf-8")
    literals = args.workdir / "literals.txt"
    literals.write_text("\n".join(LITERALS) + "\n", encoding="utf-8")

    base_env = dict(os.environ)
    commands = (
        ("grep -E -f rules (LC_ALL=C)", {"LC_ALL": "C"}, ["grep", "-c", "-E", "-f", str(patterns), str(log)]),
        ("grep -E -f rules (C.UTF-8)", {"LC_ALL": "C.UTF-8"}, ["grep", "-c", "-E", "-f", str(patterns), str(log)]),
        ("grep -F -f literals (LC_ALL=C)", {"LC_ALL": "C"}, ["grep", "-c", "-F", "-f", str(literals), str(log)]),
    )
    # Interleaved (ours, then each grep, per round) so that load on a shared machine hits all alike.
    runs: list[dict[str, object]] = []
    measured: dict[str, list[tuple[float, float, str]]] = {label: [] for label, _, _ in commands}
    for _ in range(args.repeat):
        runs.append(run_child(CHILD_TIMED, log))
        for label, env_update, command in commands:
            measured[label].append(time_command(command, {**base_env, **env_update}, 1))
    ours = statistics.median(float(str(run["seconds"])) for run in runs)
    ours_cpu = statistics.median(float(str(run["cpu_seconds"])) for run in runs)
    traced = run_child(CHILD_TRACED, log)

    rows: list[tuple[str, float, float, str]] = [
        ("diagnose_path (ours)", ours, ours_cpu, f"{runs[0]['category']}/{runs[0]['kind']}")
    ]
    for label, _, _ in commands:
        samples = measured[label]
        wall = statistics.median(sample[0] for sample in samples)
        cpu = statistics.median(sample[1] for sample in samples)
        rows.append((label, wall, cpu, f"{samples[-1][2]} matching lines"))

    print(f"log: {log} ({size / MB:.1f} MB, {lines:,} lines, {len(grep_patterns())} rule patterns)")
    print(f"{'tool':<32} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'ours/this wall':>15} {'cpu':>6}  result")
    for label, seconds, cpu, note in rows:
        print(
            f"{label:<32} {seconds:7.3f} {cpu:7.3f} {size / MB / seconds:7.1f} {ours / seconds:15.2f}"
            f" {ours_cpu / max(cpu, 1e-9):6.2f}  {note}"
        )
    peak_rss = int(str(runs[0]["peak_rss_kb"])) / 1024
    base_rss = int(str(runs[0]["rss_after_import_kb"])) / 1024
    peak_traced = int(str(traced["tracemalloc_peak_bytes"])) / MB
    print(f"peak RSS {peak_rss:.1f} MB (after imports {base_rss:.1f} MB); tracemalloc peak {peak_traced:.2f} MB")

    summary = {
        "bench": "diagnosis",
        "log_mb": round(size / MB, 1),
        "lines": lines,
        "patterns": len(grep_patterns()),
        "ours_s": round(ours, 3),
        "ours_cpu_s": round(ours_cpu, 3),
        "grep_ere_c_cpu_s": round(rows[1][2], 3),
        "ratio_cpu_vs_grep_ere_c": round(ours_cpu / max(rows[1][2], 1e-9), 2),
        "grep_ere_c_s": round(rows[1][1], 3),
        "grep_ere_utf8_s": round(rows[2][1], 3),
        "grep_fixed_c_s": round(rows[3][1], 3),
        "ratio_vs_grep_ere_c": round(ours / rows[1][1], 2),
        "ratio_vs_grep_ere_utf8": round(ours / rows[2][1], 2),
        "ratio_vs_grep_fixed_c": round(ours / rows[3][1], 2),
        "ours_mb_per_s": round(size / MB / ours, 1),
        "peak_rss_mb": round(peak_rss, 1),
        "rss_after_import_mb": round(base_rss, 1),
        "tracemalloc_peak_mb": round(peak_traced, 2),
        "result": f"{runs[0]['category']}/{runs[0]['kind']}",
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
