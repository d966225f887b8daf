"""Is the failure predictor calibrated? A synthetic tenant with known failure processes, split in time.

The world (seeded numpy, so every run of the bench sees the same history):

- each repository runs CI as a Poisson process (its own rate, fewer runs at night and at weekends);
- flaky tests fail any run with a repository-specific probability (a quarter of the repositories
  are badly flaky); the bot flags a repository's flaky tests as known after the third flake;
- transient network failures hit any run with a small probability;
- breakages (a missing module, a failing test, a syntax error, a missing data file, a dependency
  conflict) start at random and fail most runs until someone fixes them hours later;
- a third of the repositories have a periodic external failure (an expiring token, a late nightly
  export) that fails the first run after each due time.

Every run becomes a stored-shape event, every failed run an incident with a diagnosis and a real-looking
evidence line, and the predictor reads them through `TenantHistory.from_records`, as the route does.
The model is fitted on origins whose label windows end in the first 70 % of the time and evaluated
on origins in the remaining 30 % (features there use all history before each origin, as in
production). The baseline is the global base rate of the training labels, measured in the same run.

Run: .venv/bin/python bench/bench_prediction.py [--repositories 40] [--days 120] [--window 24 6] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

from mlops_bot.analytics.prediction import (
    FailureModel,
    Sample,
    TenantHistory,
    fit,
    predict,
    training_samples,
)

START = datetime(2025, 3, 3, tzinfo=UTC)
MODULES = ("sklearn", "torch", "cv2", "yaml", "xgboost", "transformers")
BREAKAGES = (
    ("dependency_missing", "missing-python-module", "ModuleNotFoundError: No module named '{module}'"),
    ("test_failure", "pytest-assertion", "FAILED tests/test_model.py::test_accuracy - assert {a:.2f} > 0.90"),
    ("syntax_error", "python-syntax-error", "SyntaxError: '(' was never closed"),
    (
        "data_missing",
        "data-file-not-found",
        "FileNotFoundError: [Errno 2] No such file or directory: 'data/{day}/train.csv'",
    ),
    (
        "dependency_resolution",
        "pip-resolution-impossible",
        "ERROR: Cannot install pydantic-core==2.{a2} and pydantic==2.13.5 because these package versions "
        "have conflicting dependencies.",
    ),
)
FLAKY = (
    "flaky_test",
    "inconsistent-outcome",
    "FAILED tests/test_sampler.py::test_batch[{i}-4] - AssertionError: shuffled batch came back empty",
)
TRANSIENT = (
    "network_transient",
    "connection-refused",
    "curl: (7) Failed to connect to 10.0.{o3}.{o4} port 443 after {ms} ms: Couldn't connect to server",
)
PERIODIC = (
    ("permission_denied", "http-403", "curl: (22) The requested URL returned error: 403"),
    (
        "data_missing",
        "data-file-not-found",
        "FileNotFoundError: [Errno 2] No such file or directory: 'exports/{day}/features.parquet'",
    ),
    (
        "timeout",
        "job-timeout",
        "##[error]The job running on runner GitHub Actions {n} has exceeded the maximum execution time of 360 minutes.",
    ),
)


def _run_times(rng: np.random.Generator, per_day: float, days: int) -> list[float]:
    """Run hours (from START) of a Poisson process thinned by time of day and day of week."""
    peak = per_day / 24 * 1.6
    hours: list[float] = []
    t = 0.0
    while True:
        t += rng.exponential(1 / peak)
        if t >= days * 24:
            return hours
        moment = START + timedelta(hours=t)
        factor = (0.35 if moment.hour < 7 else 1.0) * (0.25 if moment.weekday() >= 5 else 1.0)
        if rng.random() < factor:
            hours.append(t)


def simulate(seed: int, repositories: int, days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    events: list[dict[str, Any]] = []
    incidents: list[dict[str, Any]] = []
    run_id = 10_000
    for r in range(repositories):
        name = f"acme/model-{r:02d}"
        per_day = float(np.clip(rng.lognormal(np.log(6), 0.9), 0.3, 60))
        flaky = float(rng.beta(2, 15) if rng.random() < 0.25 else rng.beta(1, 60))
        transient = float(rng.beta(1, 150))
        breakage_gap_days = float(rng.uniform(7, 40))
        breakages: list[tuple[float, float, tuple[str, str, str], dict[str, Any]]] = []
        t = rng.exponential(breakage_gap_days * 24)
        while t < days * 24:
            cause = BREAKAGES[int(rng.integers(len(BREAKAGES)))]
            detail = {"module": MODULES[int(rng.integers(len(MODULES)))], "a": rng.uniform(0.4, 0.85)}
            breakages.append((t, t + 0.5 + rng.exponential(10), cause, detail))
            t += rng.exponential(breakage_gap_days * 24)
        due: list[float] = []
        periodic = PERIODIC[int(rng.integers(len(PERIODIC)))] if rng.random() < 0.35 else None
        if periodic:
            period = rng.uniform(2, 8) * 24
            t = rng.uniform(0, period)
            while t < days * 24:
                due.append(t + rng.normal(0, 0.05 * period))
                t += period
        flakes = 0
        next_due = 0
        for hour in _run_times(rng, per_day, days):
            run_id += 1
            at = START + timedelta(hours=hour)
            cause: tuple[str, str, str] | None = None
            while next_due < len(due) and due[next_due] < hour - 12:
                next_due += 1  # nobody ran in time: that occurrence passed unnoticed
            values: dict[str, Any] = {
                "day": (at - timedelta(days=1)).date().isoformat(),
                "i": int(rng.integers(1, 9)),
                "o3": int(rng.integers(256)),
                "o4": int(rng.integers(256)),
                "ms": int(rng.integers(1, 3000)),
                "n": int(rng.integers(1, 40)),
                "a2": int(rng.integers(0, 9)),
            }
            if periodic and next_due < len(due) and due[next_due] <= hour:
                cause, next_due = periodic, next_due + 1
            if cause is None:
                for begin, end, broken, detail in breakages:
                    if begin <= hour < end and rng.random() < 0.9:
                        cause = broken
                        values.update(detail)
                        break
            known_flaky = False
            if cause is None and rng.random() < flaky:
                cause, flakes = FLAKY, flakes + 1
                known_flaky = flakes > 3
            if cause is None and rng.random() < transient:
                cause = TRANSIENT
            stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            events.append(
                {
                    "entity": "event",
                    "repository": name,
                    "received_at": stamp,
                    "summary": {
                        "event": "workflow_run",
                        "action": "completed",
                        "workflow": "CI",
                        "run_id": run_id,
                        "run_attempt": 1,
                        "conclusion": "failure" if cause else "success",
                        "head_branch": "main",
                    },
                }
            )
            if cause:
                category, kind, line = cause
                incidents.append(
                    {
                        "id": f"inc-{run_id}",
                        "repository": name,
                        "type": "pipeline_failure",
                        "severity": "high",
                        "status": "resolved",
                        "detected_at": stamp,
                        "description": f"Workflow 'CI' failure on main: {category} ({kind})",
                        "metadata": {"workflow_name": "CI", "run_id": run_id, "known_flaky": known_flaky},
                        "diagnosis": {
                            "category": category,
                            "kind": kind,
                            "details": {},
                            "evidence": [{"line": int(rng.integers(20, 400)), "text": line.format(**values)}],
                            "confidence": 0.9,
                        },
                    }
                )
    return events, incidents


def brier(predicted: np.ndarray, observed: np.ndarray) -> float:
    return float(np.mean((predicted - observed) ** 2))


def reliability(predicted: np.ndarray, observed: np.ndarray) -> list[tuple[str, int, float, float]]:
    rows = []
    bins = np.minimum((predicted * 10).astype(int), 9)
    for b in range(10):
        chosen = bins == b
        if chosen.any():
            rows.append(
                (
                    f"{b / 10:.1f}-{(b + 1) / 10:.1f}",
                    int(chosen.sum()),
                    predicted[chosen].mean(),
                    observed[chosen].mean(),
                )
            )
        else:
            rows.append((f"{b / 10:.1f}-{(b + 1) / 10:.1f}", 0, float("nan"), float("nan")))
    return rows


def evaluate(tenant: TenantHistory, window: int, days: int) -> None:
    cut = START + timedelta(days=days * 0.7)
    end = START + timedelta(days=days)
    train = training_samples(tenant, window, START, cut, max_samples=10**7)
    test = training_samples(tenant, window, cut, end, max_samples=10**7)
    model = fit(train)
    naive = FailureModel()
    observed = np.array([float(s.failed) for s in test])
    base_rate = float(np.mean([float(s.failed) for s in train]))

    def predictions(chosen: FailureModel, samples: list[Sample]) -> np.ndarray:
        return np.array([chosen.probability(s.vector) for s in samples])

    fitted_p, naive_p = predictions(model, test), predictions(naive, test)
    baseline_p = np.full_like(observed, base_rate)
    b_model, b_naive, b_base = brier(fitted_p, observed), brier(naive_p, observed), brier(baseline_p, observed)
    print(f"\n== window {window} h: {len(train)} training origins (labels end by {cut:%Y-%m-%d}), {len(test)} held-out")
    print(f"held-out failure rate {observed.mean():.3f}; training base rate {base_rate:.3f}")
    print(f"coefficients (fitted={model.fitted}): " + ", ".join(f"{c:+.3f}" for c in model.coefficients))
    print(f"Brier  model {b_model:.4f}   naive (unfitted) {b_naive:.4f}   baseline (base rate) {b_base:.4f}")
    print(
        f"ratio  model/baseline {b_model / b_base:.3f} (skill {1 - b_model / b_base:+.3f});"
        f" naive/baseline {b_naive / b_base:.3f}"
    )
    print("reliability (held-out, model):   bin        n   mean predicted   observed")
    for label, n, mean_p, freq in reliability(fitted_p, observed):
        print(f"                                 {label}  {n:6d}   {mean_p:14.3f}   {freq:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=40)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--window", type=int, nargs="+", default=[24, 6])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    events, incidents = simulate(args.seed, args.repositories, args.days)
    tenant = TenantHistory.from_records(events, incidents)
    print(
        f"synthetic tenant: {args.repositories} repositories, {args.days} days, seed {args.seed}:"
        f" {len(events)} runs, {len(incidents)} failed ({len(incidents) / len(events):.3f})"
    )
    for window in args.window:
        evaluate(tenant, window, args.days)
    # what one API call costs: fit on the tenant's whole history (capped origins) and predict
    started = time.perf_counter()
    result = predict(tenant, "acme/model-00", START + timedelta(days=args.days), 24)
    elapsed = time.perf_counter() - started
    print(
        f"\none API-path prediction (fit on {result.model.training_samples} origins + predict): {elapsed:.2f} s;"
        f" acme/model-00 P(failure in 24 h) = {result.prediction.failure_probability}"
    )


if __name__ == "__main__":
    main()
