"""CLI start-up: `mlops-bot --help` and `mlops-bot diagnose <10 KB log> --json` vs a bare interpreter.

The baseline, measured in the same run, is `python -c "import argparse, json, re"`: what any Python
CLI pays before doing anything. The target is within 2x of it. Each command runs `ROUNDS` times,
interleaved, and the median wall time counts (the machine is shared; medians resist noise).

    .venv/bin/python bench/bench_cli_start.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROUNDS = 15
TARGET = 2.0


def ten_kb_log() -> Path:
    """A real failure log (missing module) padded with real-looking job output to 10 KB.

    The padding goes between the log's setup lines and its failure, so the failure stays in the log
    (an earlier version cut the log at 10.5 KB, after 400 padding lines, and diagnosed only padding).
    """
    source = (ROOT / "tests/data/logs/py_missing_module_sklearn.log").read_text()
    lines = source.splitlines()
    padding: list[str] = []
    text = source
    while len(text.encode()) < 10 * 1024:
        padding.append(
            f"2024-01-15T10:20:29.{len(padding):07d}Z Collecting package-{len(padding)}==1.0.0 (from -r r.txt)"
        )
        text = "\n".join([*lines[:18], *padding, *lines[18:]]) + "\n"
    path = Path(tempfile.mkdtemp()) / "failed-run.log"
    path.write_text(text)
    return path


# As a user runs it: with bytecode caches (a shell with PYTHONDONTWRITEBYTECODE would compile every
# module of the project from source at each start, and measure that instead).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    return time.perf_counter() - started


def main() -> int:
    log = ten_kb_log()
    commands = {
        "baseline: python -c 'import argparse, json, re'": [sys.executable, "-c", "import argparse, json, re"],
        "mlops-bot --help": [str(BIN / "mlops-bot"), "--help"],
        "mlops-bot diagnose <10 KB log> --json": [str(BIN / "mlops-bot"), "diagnose", str(log), "--json"],
    }
    for command in commands.values():  # warm the file cache and .pyc files
        timed(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):
        for name, command in commands.items():
            samples[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians[next(iter(commands))]
    worst = 0.0
    for name, median in medians.items():
        ratio = median / baseline
        worst = max(worst, ratio)
        print(f"{name:<48} median {median * 1000:7.1f} ms   {ratio:4.2f}x baseline")
    verdict = "within" if worst <= TARGET else "NOT within"
    print(f"worst ratio {worst:.2f}x: {verdict} the {TARGET:g}x target ({ROUNDS} rounds, log {log.stat().st_size} B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
