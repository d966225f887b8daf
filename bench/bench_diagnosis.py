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
from mlops_bot.diagnosis import diagnose_path
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
problem = diagnose_path(sys.argv[1])
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "rss_after_import_kb": before, "peak_rss_kb": after,
                  "category": problem.category.value, "kind": problem.kind}))
"""

CHILD_TRACED = """
import json, sys, tracemalloc
from mlops_bot.diagnosis import diagnose_path
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


def time_command(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, str]:
    times: list[float] = []
    output = ""
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        output = result.stdout.strip()
    return statistics.median(times), output


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

    runs = [run_child(CHILD_TIMED, log) for _ in range(args.repeat)]
    ours = statistics.median(float(str(run["seconds"])) for run in runs)
    traced = run_child(CHILD_TRACED, log)

    rows: list[tuple[str, float, str]] = [("diagnose_path (ours)", ours, f"{runs[0]['category']}/{runs[0]['kind']}")]
    base_env = dict(os.environ)
    for label, env_update, command in (
        ("grep -E -f rules (LC_ALL=C)", {"LC_ALL": "C"}, ["grep", "-c", "-E", "-f", str(patterns), str(log)]),
        ("grep -E -f rules (C.UTF-8)", {"LC_ALL": "C.UTF-8"}, ["grep", "-c", "-E", "-f", str(patterns), str(log)]),
        ("grep -F -f literals (LC_ALL=C)", {"LC_ALL": "C"}, ["grep", "-c", "-F", "-f", str(literals), str(log)]),
    ):
        seconds, output = time_command(command, {**base_env, **env_update}, args.repeat)
        rows.append((label, seconds, f"{output} matching lines"))

    print(f"log: {log} ({size / MB:.1f} MB, {lines:,} lines, {len(grep_patterns())} rule patterns)")
    print(f"{'tool':<34} {'seconds':>8} {'MB/s':>8} {'ours/this':>10}  result")
    for label, seconds, note in rows:
        print(f"{label:<34} {seconds:8.3f} {size / MB / seconds:8.1f} {ours / seconds:10.2f}  {note}")
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
