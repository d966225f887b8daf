"""Benchmark compute_drift on 20 columns x 1M rows against a baseline measured in the same run.

Baselines:

* Evidently's DataDriftPreset, when a virtualenv with ``evidently`` (and ``pandas<3``) exists - by default
  /tmp/evvenv, e.g. ``python -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install evidently 'pandas<3'``;
* a naive implementation - what one writes first: per column, Python lists with NaNs filtered in Python,
  ``collections.Counter`` for categories, then the same scipy functions (``ks_2samp``,
  ``wasserstein_distance``, ``jensenshannon``, ``chi2_contingency``) with the same test choice rules.

Every implementation runs in its own subprocess on the same Parquet files, so peak memory is comparable:
``peak_traced_mb`` is tracemalloc's peak during the drift computation alone (numpy and pyarrow buffers are
traced), ``max_rss_mb`` the process high-water mark including the loaded data. Time is the best of
``--repeat`` runs. The drift statistics of every baseline are compared with ours column by column.

Usage: ``.venv/bin/python bench/bench_drift.py [--rows 1000000] [--repeat 3] [--no-naive] [--evidently-python
PATH]``. Prints a table, ratios, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240611
N_CONTINUOUS = 14  # float columns, the first 5 drifted
N_INTEGER = 3  # many-valued counts, a drifted many-valued count, a 4-valued code
N_CATEGORICAL = 3  # strings with 5, 20, 200 categories, the first drifted

# Run inside every worker: time a drift computation, then trace its memory in a separate run.
_MEASURE = """
import json, resource, sys, time, tracemalloc

def measure(compute, repeat):
    compute()  # warm-up: lazy imports and first-touch allocations are not what is measured
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    compute()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, {
        "seconds": min(times),
        "all_seconds": times,
        "peak_traced_mb": peak / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
"""

_OURS = """
import time
from mlops_bot.drift import DriftOptions, compute_drift, load_dataset
start = time.perf_counter()
reference, current = load_dataset(sys.argv[1]), load_dataset(sys.argv[2])
load_seconds = time.perf_counter() - start
report, stats = measure(lambda: compute_drift(reference, current), int(sys.argv[3]))
single, single_stats = measure(lambda: compute_drift(reference, current, DriftOptions(max_workers=1)), 1)
assert single == report
stats.update(load_seconds=load_seconds, single_thread_seconds=single_stats["seconds"])
stats["columns"] = {n: [c.test, c.statistic, c.p_value, c.drifted] for n, c in report.columns.items()}
stats["drift_share"] = report.drift_share
print(json.dumps(stats))
"""

_NAIVE = """
import collections, math
import pyarrow.parquet as pq
from scipy import stats
from scipy.spatial import distance

def clean(values):
    return [v for v in values if v is not None and not (isinstance(v, float) and not math.isfinite(v))]

def column_drift(ref, cur):
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in ref[:1000] + cur[:1000])
    distinct = len(set(ref) | set(cur))
    if numeric and distinct > 5:
        if len(ref) <= 1000:
            result = stats.ks_2samp(ref, cur)
            return ["ks", float(result.statistic), float(result.pvalue), bool(result.pvalue < 0.05)]
        mean = sum(ref) / len(ref)
        std = max(math.sqrt(sum((v - mean) ** 2 for v in ref) / len(ref)), 0.001)
        value = float(stats.wasserstein_distance(ref, cur)) / std
        return ["wasserstein", value, None, bool(value >= 0.1)]
    ref_counts, cur_counts = collections.Counter(ref), collections.Counter(cur)
    keys = sorted(set(ref_counts) | set(cur_counts), key=str)
    f_ref = [ref_counts[k] for k in keys]
    f_cur = [cur_counts[k] for k in keys]
    if len(ref) <= 1000:
        result = stats.chi2_contingency([f_ref, f_cur], correction=False)
        return ["chisquare", float(result.statistic), float(result.pvalue), bool(result.pvalue < 0.05)]
    value = float(distance.jensenshannon(f_ref, f_cur))
    return ["jensenshannon", value, None, bool(value >= 0.1)]

reference, current = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])

def run():
    columns = {}
    for name in reference.column_names:
        ref = clean(reference.column(name).to_numpy(zero_copy_only=False).tolist())
        cur = clean(current.column(name).to_numpy(zero_copy_only=False).tolist())
        columns[name] = column_drift(ref, cur)
    return columns

columns, stats_ = measure(run, int(sys.argv[3]))
stats_["columns"] = columns
stats_["drift_share"] = sum(c[3] for c in columns.values()) / len(columns)
print(json.dumps(stats_))
"""

_EVIDENTLY = """
import pandas as pd
try:
    from evidently import Report
    from evidently.presets import DataDriftPreset
    new_api = True
except ImportError:  # evidently < 0.7
    from evidently.report import Report
    from evidently.metric_preset import DataDriftPreset
    new_api = False
import evidently
reference, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])

def run():
    report = Report([DataDriftPreset()])
    if new_api:
        return report.run(current, reference)
    report.run(reference_data=reference, current_data=current)
    return report

snapshot, stats_ = measure(run, int(sys.argv[3]))
columns = {}
if new_api:
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config.get("type", "").endswith("ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        p_value_test = "p_value" in config["method"]
        drifted = value < threshold if p_value_test else value >= threshold
        columns[config["column"]] = [config["method"], None if p_value_test else value,
                                     value if p_value_test else None, drifted]
else:
    result = snapshot.as_dict()["metrics"][1]["result"]["drift_by_columns"]
    for name, column in result.items():
        columns[name] = [column["stattest_name"], column["drift_score"], None, column["drift_detected"]]
stats_["columns"] = columns
stats_["drift_share"] = sum(c[3] for c in columns.values()) / max(len(columns), 1)
stats_["version"] = evidently.__version__
print(json.dumps(stats_))
"""


def generate(rows: int, directory: Path) -> tuple[Path, Path]:
    """Reference and current datasets with a known set of drifted columns, written as Parquet."""
    rng = np.random.default_rng(SEED)
    reference: dict[str, Any] = {}
    current: dict[str, Any] = {}
    shapes = ("normal", "lognormal", "exponential", "uniform", "student")
    for i in range(N_CONTINUOUS):
        shape = shapes[i % len(shapes)]
        shift = 0.25 if i < 5 else 0.0  # in reference standard deviations

        def draw(size: int, shape: str = shape) -> np.ndarray:
            if shape == "normal":
                return rng.normal(50, 10, size)
            if shape == "lognormal":
                return rng.lognormal(3, 0.5, size)
            if shape == "exponential":
                return rng.exponential(5, size)
            if shape == "uniform":
                return rng.uniform(0, 100, size)
            return rng.standard_t(5, size)

        ref = draw(rows)
        cur = draw(rows) + shift * ref.std()
        ref[rng.random(rows) < 0.01] = np.nan  # 1 % missing values
        reference[f"num_{i:02d}"], current[f"num_{i:02d}"] = ref, cur
    reference["int_00"], current["int_00"] = rng.poisson(20, rows), rng.poisson(20, rows)
    reference["int_01"], current["int_01"] = rng.poisson(20, rows), rng.poisson(22, rows)
    reference["int_02"], current["int_02"] = rng.integers(0, 4, rows), rng.integers(0, 4, rows)
    for i, size in enumerate((5, 20, 200)[:N_CATEGORICAL]):
        labels = np.array([f"category_{k:03d}" for k in range(size)], dtype=object)
        weights = rng.dirichlet(np.ones(size))
        drifted = rng.dirichlet(np.ones(size)) if i == 0 else weights
        ref = labels[rng.choice(size, rows, p=weights)]
        cur = labels[rng.choice(size, rows, p=drifted)]
        ref[rng.random(rows) < 0.02] = None
        reference[f"cat_{i:02d}"], current[f"cat_{i:02d}"] = ref, cur
    paths = directory / "reference.parquet", directory / "current.parquet"
    for data, path in zip((reference, current), paths, strict=True):
        pq.write_table(pa.table(data), path)
    return paths


def run_worker(python: str, code: str, paths: tuple[Path, Path], repeat: int) -> dict[str, Any]:
    script = textwrap.dedent(_MEASURE) + textwrap.dedent(code)
    completed = subprocess.run(
        [python, "-c", script, str(paths[0]), str(paths[1]), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "EVIDENTLY_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def agreement(ours: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """How far another implementation's distances and verdicts are from ours, over shared columns."""
    diffs, disagreements = [], []
    for name, (_, statistic, p_value, drifted) in ours["columns"].items():
        if name not in other["columns"]:
            continue
        _, other_statistic, other_p, other_drifted = other["columns"][name]
        mine, theirs = (statistic, other_statistic) if p_value is None else (p_value, other_p)
        if mine is not None and theirs is not None:
            diffs.append(abs(mine - theirs))
        if drifted != other_drifted:
            disagreements.append(name)
    return {
        "columns_compared": len(diffs),
        "max_abs_difference": max(diffs) if diffs else math.nan,
        "verdict_disagreements": disagreements,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive Python baseline")
    parser.add_argument("--evidently-python", default="/tmp/evvenv/bin/python")
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        paths = generate(args.rows, Path(tmp))
        print(f"data: 20 columns x {args.rows:,} rows, reference and current ({os.cpu_count()} CPUs)", flush=True)
        results["mlops_bot"] = run_worker(sys.executable, _OURS, paths, args.repeat)
        if Path(args.evidently_python).exists():
            try:
                results["evidently"] = run_worker(args.evidently_python, _EVIDENTLY, paths, args.repeat)
            except RuntimeError as exc:
                print(f"evidently baseline unavailable: {exc}", file=sys.stderr)
        else:
            print(f"evidently baseline skipped: no {args.evidently_python}", file=sys.stderr)
        if not args.no_naive or "evidently" not in results:
            results["naive_scipy"] = run_worker(sys.executable, _NAIVE, paths, args.repeat)

    ours = results["mlops_bot"]
    print(f"\n{'implementation':<16} {'seconds':>9} {'peak traced MB':>15} {'max RSS MB':>11} {'drift share':>12}")
    for name, result in results.items():
        print(
            f"{name:<16} {result['seconds']:>9.3f} {result['peak_traced_mb']:>15.1f} "
            f"{result['max_rss_mb']:>11.1f} {result['drift_share']:>12.3f}"
        )
    print(
        f"mlops_bot: single-threaded {ours['single_thread_seconds']:.3f} s; "
        f"loading both Parquet files {ours['load_seconds']:.3f} s"
    )
    summary: dict[str, Any] = {
        "bench": "drift",
        "rows": args.rows,
        "columns": 20,
        "cpus": os.cpu_count(),
        "mlops_bot": {k: ours[k] for k in ("seconds", "single_thread_seconds", "peak_traced_mb", "max_rss_mb")},
    }
    for name, result in results.items():
        if name == "mlops_bot":
            continue
        speedup = result["seconds"] / ours["seconds"]
        memory = result["peak_traced_mb"] / ours["peak_traced_mb"]
        match = agreement(ours, result)
        print(
            f"vs {name}: {speedup:.1f}x faster, {memory:.1f}x less peak traced memory; "
            f"statistics max |diff| {match['max_abs_difference']:.2e} over {match['columns_compared']} columns, "
            f"verdict disagreements: {match['verdict_disagreements'] or 'none'}"
        )
        summary[name] = {
            "seconds": result["seconds"],
            "peak_traced_mb": result["peak_traced_mb"],
            "max_rss_mb": result["max_rss_mb"],
            "speedup": speedup,
            "memory_ratio": memory,
            **match,
            **({"version": result["version"]} if "version" in result else {}),
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
