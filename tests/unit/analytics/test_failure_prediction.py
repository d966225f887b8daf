"""Failure prediction: history from stored records, features, the fitted model and its calibration."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from mlops_bot.analytics.prediction import (
    FEATURES,
    NAIVE,
    FailureModel,
    Sample,
    TenantHistory,
    features,
    fit,
    predict,
    training_samples,
)

START = datetime(2025, 6, 2, tzinfo=UTC)
SKLEARN = "ModuleNotFoundError: No module named 'sklearn'"
FLAKE = "FAILED tests/test_sampler.py::test_batch[{i}-4] - AssertionError: shuffled batch came back empty"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class World:
    """Stored-shape events and incidents of one tenant, written the way the detector writes them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.incidents: list[dict[str, Any]] = []
        self.run_id = 1000

    def run(
        self,
        repository: str,
        at: datetime,
        conclusion: str = "success",
        line: str | None = None,
        *,
        category: str = "dependency_missing",
        kind: str = "missing-python-module",
        branch: str = "main",
        known_flaky: bool = False,
        record_event: bool = True,
    ) -> None:
        self.run_id += 1
        if record_event:
            self.events.append(
                {
                    "entity": "event",
                    "repository": repository,
                    "received_at": stamp(at),
                    "summary": {
                        "event": "workflow_run",
                        "action": "completed",
                        "workflow": "CI",
                        "run_id": self.run_id,
                        "run_attempt": 1,
                        "conclusion": conclusion,
                        "head_branch": branch,
                    },
                }
            )
        if conclusion == "failure" and not branch.startswith("mlops-bot/"):
            self.incidents.append(
                {
                    "id": f"inc-{self.run_id}",
                    "repository": repository,
                    "type": "pipeline_failure",
                    "status": "open",
                    "detected_at": stamp(at),
                    "description": "Workflow 'CI' failure on main",
                    "metadata": {"run_id": self.run_id, "workflow_name": "CI", "known_flaky": known_flaky},
                    "diagnosis": {
                        "category": category,
                        "kind": kind,
                        "evidence": [{"line": 88, "text": line or SKLEARN}],
                        "confidence": 0.9,
                    },
                }
            )

    def poisson(
        self,
        repository: str,
        rng: np.random.Generator,
        per_day: float,
        days: float,
        failure: Callable[[float], float],
        start: datetime = START,
    ) -> None:
        """Runs as a Poisson process; each fails with `failure(hours since start)`."""
        hour = 0.0
        while True:
            hour += rng.exponential(24 / per_day)
            if hour > days * 24:
                return
            failed = rng.random() < failure(hour)
            self.run(repository, start + timedelta(hours=hour), "failure" if failed else "success")

    def tenant(self) -> TenantHistory:
        return TenantHistory.from_records(self.events, self.incidents)


def test_history_counts_completed_runs_and_failures_known_only_from_incidents() -> None:
    world = World()
    world.run("acme/churn", START, "success")
    world.run("acme/churn", START + timedelta(hours=1), "failure")
    world.run("acme/churn", START + timedelta(hours=2), "cancelled")
    world.run("acme/churn", START + timedelta(hours=3), "failure", branch="mlops-bot/fix-sklearn")
    world.run("acme/churn", START + timedelta(hours=4), "failure", record_event=False)  # event expired (TTL)
    world.events.append({"repository": "acme/churn", "received_at": stamp(START), "summary": {"event": "push"}})

    history = world.tenant().repository("ACME/Churn")

    assert history is not None
    assert [(r.at - START, r.failed) for r in history.runs] == [
        (timedelta(0), False),
        (timedelta(hours=1), True),
        (timedelta(hours=4), True),
    ]
    assert len(history.patterns) == 1


def test_the_unfitted_model_is_poisson_thinning_of_the_decayed_rates() -> None:
    world = World()
    for k in range(600):  # 10 runs a day for 60 days, every fifth one fails
        world.run("acme/churn", START + timedelta(hours=2.4 * k), "failure" if k % 5 == 4 else "success")
    now = START + timedelta(hours=2.4 * 600)
    tenant = world.tenant()
    repository = tenant.repository("acme/churn")
    assert repository is not None

    x = features(tenant, repository, now, 24)

    assert x.runs_per_hour * 24 == pytest.approx(10, rel=0.02)
    assert x.failure_rate == pytest.approx(0.2, abs=0.01)
    expected = 1 - math.exp(-x.runs_per_hour * 24 * x.failure_rate)
    assert FailureModel().probability(x.vector) == pytest.approx(expected, rel=1e-3)


def test_fit_recovers_the_coefficients_that_generated_the_outcomes() -> None:
    rng = np.random.default_rng(11)
    truth = (-0.4, 0.7, 0.2, 0.3, 0.8, 1.2, 0.5)
    samples = []
    for i in range(10_000):
        x = (
            1.0,
            rng.normal(-1.5, 1.2),
            rng.normal(-2, 1.5),
            rng.normal(-1.8, 1.0),
            float(rng.random() < 0.2),
            rng.random(),
            float(rng.random() < 0.3),
        )
        p = 1 - math.exp(-math.exp(sum(b * v for b, v in zip(truth, x, strict=True))))
        samples.append(Sample(x, bool(rng.random() < p), "acme/churn", START + timedelta(hours=i)))

    model = fit(samples)

    assert model.fitted
    assert model.coefficients == pytest.approx(truth, abs=0.15)


@pytest.mark.parametrize(
    "outcomes",
    [[], [True] * 100, [False] * 100, [True, False] * 10],
    ids=["none", "only-failures", "only-passes", "too-few"],
)
def test_without_enough_of_both_outcomes_the_naive_model_stands(outcomes: list[bool]) -> None:
    samples = [Sample((1.0, -2.0, -2.0, -2.0, 0.0, 0.0, 0.0), y, "acme/churn", START) for y in outcomes]
    model = fit(samples)
    assert (model.coefficients, model.fitted, model.training_samples) == (NAIVE, False, len(outcomes))


def test_held_out_predictions_beat_the_base_rate_and_match_observed_frequencies() -> None:
    """Repositories with different, drifting failure rates: fitted on 70 % of time, scored on the rest."""
    rng = np.random.default_rng(5)
    world = World()
    days = 90
    for r in range(16):
        base = rng.beta(1.2, 8)
        per_day = float(rng.uniform(1, 12))
        broken = sorted(rng.uniform(0, days * 24, size=3))

        def failure(hour: float, base: float = base, broken: Any = broken) -> float:
            return 0.9 if any(b <= hour < b + 8 for b in broken) else base

        world.poisson(f"acme/model-{r}", rng, per_day, days, failure)
    tenant = world.tenant()
    cut = START + timedelta(days=days * 0.7)
    train = training_samples(tenant, 24, START, cut)
    test = training_samples(tenant, 24, cut, START + timedelta(days=days))

    model = fit(train)
    predicted = np.array([model.probability(s.vector) for s in test])
    observed = np.array([float(s.failed) for s in test])
    base_rate = np.mean([float(s.failed) for s in train])

    assert model.fitted
    assert np.mean((predicted - observed) ** 2) < 0.9 * np.mean((base_rate - observed) ** 2)
    assert predicted.mean() == pytest.approx(observed.mean(), abs=0.05)
    assert all(s.at >= cut for s in test)
    assert all(s.at + timedelta(hours=24) <= cut for s in train)


def test_a_failing_repository_is_predicted_to_fail_more_than_a_healthy_one() -> None:
    rng = np.random.default_rng(2)
    world = World()
    world.poisson("acme/healthy", rng, 8, 30, lambda _: 0.02)
    world.poisson("acme/failing", rng, 8, 30, lambda h: 0.6 if h > 25 * 24 else 0.02)
    world.poisson("acme/idle", rng, 8, 5, lambda _: 0.3)  # stopped running 25 days ago
    tenant = world.tenant()
    now = START + timedelta(days=30)

    healthy, failing, idle = (
        predict(tenant, name, now, 24).prediction.failure_probability
        for name in ("acme/healthy", "acme/failing", "acme/idle")
    )

    assert failing > 0.5 > healthy
    assert idle < healthy


def test_a_recurring_pattern_due_in_the_window_is_a_feature() -> None:
    world = World()
    for day in range(0, 28, 7):  # every Monday at 06:00 the weekly export is missing
        for hour in range(0, 24 * 7, 3):
            at = START + timedelta(days=day, hours=hour)
            failed = hour == 6
            world.run(
                "acme/weekly",
                at,
                "failure" if failed else "success",
                "FileNotFoundError: [Errno 2] No such file or directory: 'exports/week/features.parquet'",
                category="data_missing",
                kind="data-file-not-found",
            )
    tenant = world.tenant()
    repository = tenant.repository("acme/weekly")
    assert repository is not None

    monday_noon = features(tenant, repository, START + timedelta(days=21, hours=12), 48)
    sunday_noon = features(tenant, repository, START + timedelta(days=27, hours=12), 48)

    assert monday_noon.pattern_due < 0.05
    assert sunday_noon.pattern_due > 0.8


def test_the_prediction_names_the_likely_failure_and_what_to_do() -> None:
    rng = np.random.default_rng(4)
    world = World()
    world.poisson("acme/churn", rng, 6, 20, lambda _: 0.0)
    for day, flaky in ((3, False), (8, False), (15, False), (16, True), (18, False), (19, True)):
        at = START + timedelta(days=day, hours=5)
        if flaky:
            world.run(
                "acme/churn",
                at,
                "failure",
                FLAKE.format(i=day),
                category="flaky_test",
                kind="inconsistent-outcome",
                known_flaky=True,
            )
        else:
            world.run("acme/churn", at, "failure", SKLEARN)

    result = predict(world.tenant(), "acme/churn", START + timedelta(days=20), 24, pipeline_id="pipe-1")

    body = result.model_dump()
    assert body["pipeline_id"] == "pipe-1"
    assert set(body["prediction"]) >= {
        "failure_probability",
        "most_likely_failure",
        "confidence",
        "recommended_actions",
    }
    assert body["prediction"]["most_likely_failure"] == "missing_python_module"
    assert body["prediction"]["recommended_actions"][:1] == ["add_missing_dependency"]
    assert "quarantine_flaky_tests" in body["prediction"]["recommended_actions"]
    assert body["prediction"]["factors"]["known_flaky"] > 0.5
    assert [m["type"] for m in body["prediction"]["failure_modes"]] == ["missing_python_module", "inconsistent_outcome"]
    assert body["model"]["name"] == "decayed-failure-rate-cloglog"
    assert list(body["model"]["coefficients"]) == list(FEATURES)
    low, high = body["prediction"]["probability_interval"]
    assert low <= body["prediction"]["failure_probability"] <= high


def test_more_history_means_more_confidence() -> None:
    def confidence(runs: int) -> float:
        world = World()
        for k in range(runs):
            world.run("acme/churn", START + timedelta(hours=4 * k), "failure" if k % 4 == 0 else "success")
        now = START + timedelta(hours=4 * runs)
        return predict(world.tenant(), "acme/churn", now, 24, model=FailureModel()).prediction.confidence

    assert confidence(8) < confidence(80) < confidence(400)


def test_unknown_repositories_and_bad_windows_are_refused() -> None:
    world = World()
    world.run("acme/churn", START)
    tenant = world.tenant()
    with pytest.raises(KeyError):
        predict(tenant, "acme/other", START, 24)
    with pytest.raises(ValueError, match="prediction_window"):
        predict(tenant, "acme/churn", START, 0)
    known = TenantHistory.from_records([], [], known_repositories=["acme/new"])
    assert predict(known, "acme/new", START, 24).prediction.failure_probability < 0.01
