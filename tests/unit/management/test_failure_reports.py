"""Failure patterns and failure prediction as services, on the in-memory stores (no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlops_bot.analytics.prediction import Prediction
from mlops_bot.clock import iso
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.management.reports import patterns, prediction
from mlops_bot.stores.events import EventRecord, InMemoryEventStore
from mlops_bot.stores.incidents import Incident, IncidentType, InMemoryIncidentStore, Severity
from mlops_bot.stores.pipelines import InMemoryPipelineStore, Pipeline
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
SKLEARN = "ModuleNotFoundError: No module named 'sklearn'"
ASSERTION = "FAILED tests/test_model.py::test_accuracy - assert 0.61 > 0.9"


class Tenant:
    """One tenant's stores, filled the way the detector fills them: a run's event, and an incident if it failed."""

    def __init__(self) -> None:
        self.incidents = InMemoryIncidentStore()
        self.events = InMemoryEventStore()
        self.repositories = InMemoryRepositoryStore()
        self.pipelines = InMemoryPipelineStore()
        self.run_id = 100

    def enroll(self, full_name: str, tenant_id: str = "t1") -> None:
        assert self.repositories.enroll(Repository(tenant_id=tenant_id, full_name=full_name))

    def run(
        self,
        repository: str,
        hours_ago: float,
        conclusion: str = "success",
        line: str = SKLEARN,
        tenant_id: str = "t1",
        kind: str = "missing-python-module",
    ) -> None:
        self.run_id += 1
        at = iso(NOW - timedelta(hours=hours_ago))
        summary = {
            "event": "workflow_run",
            "action": "completed",
            "run_id": self.run_id,
            "conclusion": conclusion,
            "head_branch": "main",
        }
        event = EventRecord(
            tenant_id=tenant_id,
            repository=repository,
            delivery_id=f"d-{self.run_id}",
            execution_id=f"e-{self.run_id}",
            received_at=at,
            summary=summary,
        )
        assert self.events.record(event, expires=NOW + timedelta(days=30))
        if conclusion == "success":
            return
        incident = Incident(
            id=f"run-{self.run_id}",
            tenant_id=tenant_id,
            repository=repository,
            type=IncidentType.PIPELINE_FAILURE,
            severity=Severity.HIGH,
            description="Workflow 'CI' failure on main",
            detected_at=at,
            metadata={"run_id": self.run_id, "failure_reason": line},
            diagnosis={"category": "dependency_missing", "kind": kind, "evidence": [{"line": 1, "text": line}]},
        )
        self.incidents.open_or_update(incident)

    def churn_history(self) -> None:
        """acme/churn runs every 6 hours for 20 days; sklearn goes missing every fourth day."""
        self.enroll("acme/churn")
        for hours_ago in range(24 * 20, 0, -6):
            self.run("acme/churn", hours_ago, "failure" if hours_ago % 96 == 0 else "success")
        self.run("acme/churn", 30, "failure", ASSERTION, kind="pytest-assertion")

    def predict(self, **request: object) -> Prediction:
        return prediction.predict_failure(
            incidents=self.incidents,
            events=self.events,
            repositories=self.repositories,
            pipelines=self.pipelines,
            tenant_id="t1",
            now=NOW,
            window_hours=24,
            **request,  # type: ignore[arg-type]
        )


@pytest.fixture
def tenant() -> Tenant:
    return Tenant()


def test_recurring_failures_form_one_pattern_with_a_forecast(tenant: Tenant) -> None:
    tenant.churn_history()

    found = patterns.failure_patterns(tenant.incidents, "t1", NOW)

    [sklearn] = found.patterns
    assert (sklearn.type, sklearn.frequency, sklearn.repositories) == ("missing_python_module", 5, ["acme/churn"])
    assert sklearn.predicted_next is not None and sklearn.predicted_next > sklearn.last_occurrence
    assert found.total == 1 and found.min_frequency == 2


def test_since_wins_over_period_and_narrows_the_window(tenant: Tenant) -> None:
    tenant.churn_history()

    recent = patterns.failure_patterns(tenant.incidents, "t1", NOW, period="9d")
    naive_since = (NOW - timedelta(hours=40)).replace(tzinfo=None)
    latest = patterns.failure_patterns(tenant.incidents, "t1", NOW, period="30d", since=naive_since, min_frequency=1)

    assert [p.frequency for p in recent.patterns] == [2]
    assert {p.type: p.frequency for p in latest.patterns} == {"pytest_assertion": 1}
    assert latest.since == "2025-06-28T20:00:00Z"  # a naive `since` is UTC


def test_an_unreadable_period_is_a_validation_failure(tenant: Tenant) -> None:
    with pytest.raises(ValidationFailed, match="Request validation failed") as raised:
        patterns.failure_patterns(tenant.incidents, "t1", NOW, period="fortnight")

    assert "query.period" in str(raised.value.details)


def test_patterns_see_only_the_tenants_own_incidents(tenant: Tenant) -> None:
    tenant.churn_history()
    tenant.run("other/secret", 10, "failure", tenant_id="t2")
    tenant.run("other/secret", 20, "failure", tenant_id="t2")

    mine = patterns.failure_patterns(tenant.incidents, "t1", NOW)
    theirs = patterns.failure_patterns(tenant.incidents, "t2", NOW)

    assert {r for p in mine.patterns for r in p.repositories} == {"acme/churn"}
    assert {r for p in theirs.patterns for r in p.repositories} == {"other/secret"}


def test_a_repository_filter_leaves_out_other_repositories(tenant: Tenant) -> None:
    tenant.churn_history()

    assert patterns.failure_patterns(tenant.incidents, "t1", NOW, repository="acme/quiet").patterns == []
    assert patterns.failure_patterns(tenant.incidents, "t1", NOW, repository="ACME/Churn").total == 1


def test_prediction_learns_from_the_repositorys_runs(tenant: Tenant) -> None:
    tenant.churn_history()

    found = tenant.predict(pipeline_id="acme/churn")

    assert (found.pipeline_id, found.repository, found.prediction_window) == ("acme/churn", "acme/churn", 24)
    assert 0 < found.prediction.failure_probability < 1
    assert found.prediction.most_likely_failure == "missing_python_module"
    assert found.prediction.factors["runs_per_day"] == pytest.approx(4, rel=0.15)


def test_a_registered_pipeline_is_predicted_for_its_repository(tenant: Tenant) -> None:
    tenant.churn_history()
    pipeline = Pipeline(id="p-1", tenant_id="t1", name="Churn CI", repository="acme/churn", created_at=iso(NOW))
    assert tenant.pipelines.create(pipeline, max_pipelines=5)

    found = tenant.predict(pipeline_id="p-1")

    assert (found.pipeline_id, found.repository) == ("p-1", "acme/churn")


def test_a_monitored_repository_without_history_gets_a_low_prediction(tenant: Tenant) -> None:
    tenant.churn_history()
    tenant.enroll("acme/quiet")

    found = tenant.predict(repository="acme/quiet")

    assert found.prediction.failure_probability < 0.01
    assert found.prediction.most_likely_failure is None


@pytest.mark.parametrize(
    ("request_", "title"),
    [
        ({"pipeline_id": "nightly"}, "Pipeline not found"),
        ({"pipeline_id": "unlinked"}, "Pipeline has no repository"),
        ({"repository": "acme/unknown"}, "Repository not found"),
        ({"repository": "other/secret"}, "Repository not found"),  # another tenant's repository
    ],
)
def test_what_the_tenant_does_not_have_is_not_found(tenant: Tenant, request_: dict[str, str], title: str) -> None:
    tenant.churn_history()
    tenant.run("other/secret", 10, "failure", tenant_id="t2")
    unlinked = Pipeline(id="unlinked", tenant_id="t1", name="Unlinked", created_at=iso(NOW))
    assert tenant.pipelines.create(unlinked, max_pipelines=5)

    with pytest.raises(NotFound) as raised:
        tenant.predict(**request_)

    assert raised.value.message == title


def test_the_tenants_events_are_listed_oldest_first_across_repositories(tenant: Tenant) -> None:
    tenant.run("acme/b", 1)
    tenant.run("acme/a", 3)
    tenant.run("acme/a", 2, tenant_id="t2")

    listed = tenant.events.of_tenant("t1")

    assert [(e.repository, e.received_at) for e in listed] == [
        ("acme/a", iso(NOW - timedelta(hours=3))),
        ("acme/b", iso(NOW - timedelta(hours=1))),
    ]
