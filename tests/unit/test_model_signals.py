"""Posted drift reports and model metrics on the in-memory stores: baselines, and incidents when worse."""

from __future__ import annotations

import pytest

from mlops_bot.errors import NotFound
from mlops_bot.monitoring.service import (
    DriftReportIn,
    ModelMetricsIn,
    SignalStores,
    report_drift,
    report_model_metrics,
)
from mlops_bot.stores.events import InMemoryEventStore
from mlops_bot.stores.incidents import IncidentType, InMemoryIncidentStore
from mlops_bot.stores.repositories import InMemoryRepositoryStore, RepositoryConfiguration
from mlops_bot.tenancy.service import enroll_repository
from tests.support.memory import RecordingQueue

TENANT, REPO = "default", "acme/churn"


@pytest.fixture
def stores() -> SignalStores:
    repositories = InMemoryRepositoryStore()
    enroll_repository(repositories, TENANT, REPO, source="test")
    return SignalStores(repositories, InMemoryIncidentStore(), InMemoryEventStore(repositories={(TENANT, REPO)}))


def metrics(ref: str, auc: float) -> ModelMetricsIn:
    return ModelMetricsIn.model_validate({"deployment": {"ref": ref}, "metrics": {"auc": auc, "latency_ms": 40}})


def test_the_first_metrics_are_the_baseline_and_a_healthy_report_moves_it(stores: SignalStores) -> None:
    queue = RecordingQueue()
    first = report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.4.0", 0.91))
    assert first.summary == "First metrics recorded as the baseline" and first.incident_id is None
    healthy = report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.5.0", 0.92))
    assert healthy.summary.startswith("Metrics within thresholds")
    baseline = stores.repositories.model_baseline(TENANT, REPO)
    assert baseline is not None and (baseline.ref, baseline.metrics["auc"]) == ("v1.5.0", 0.92)
    assert queue.sent == []


def test_a_degraded_model_opens_one_incident_and_keeps_the_last_good_baseline(stores: SignalStores) -> None:
    queue = RecordingQueue()
    report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.5.0", 0.92))
    worse = report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.6.0", 0.80))
    assert worse.new_incident and worse.incident_id is not None and "auc 0.92 -> 0.8" in worse.summary
    incident = stores.incidents.get(TENANT, worse.incident_id)
    assert incident is not None and incident.type == IncidentType.MODEL_DEGRADATION
    assert incident.metadata["baseline_ref"] == "v1.5.0"
    again = report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.6.0", 0.80))
    assert again.incident_id == worse.incident_id and not again.new_incident
    baseline = stores.repositories.model_baseline(TENANT, REPO)
    assert baseline is not None and baseline.ref == "v1.5.0"  # the rollback target stays
    assert [m["incident_id"] for m in queue.sent] == [worse.incident_id]


def test_the_repositorys_model_thresholds_decide_what_is_a_degradation(stores: SignalStores) -> None:
    """`model_thresholds` (PUT .../config or `.github/mlops-bot.yml`): a 2% drop passes the default 5%
    rule and opens an incident under a configured 1% rule."""
    queue = RecordingQueue()
    report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.0.0", 0.90))
    assert report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.1.0", 0.882)).incident_id is None
    strict = RepositoryConfiguration.model_validate({"model_thresholds": {"default": {"max_relative_drop": 0.01}}})
    stores.repositories.update_configuration(TENANT, REPO, strict, "2026-01-01T00:00:00Z")
    worse = report_model_metrics(stores, queue, TENANT, REPO, metrics("v1.2.0", 0.864))
    assert worse.new_incident and "auc" in worse.summary


def test_a_drift_report_opens_a_data_drift_incident_only_when_the_dataset_drifted(stores: SignalStores) -> None:
    queue = RecordingQueue()
    columns = {
        f"c{i}": {"test": "psi", "statistic": 0.3 if i < 3 else 0.0, "threshold": 0.1, "drifted": i < 3}
        for i in range(4)
    }
    quiet = DriftReportIn.model_validate({"columns": columns, "drift_share": 0.75, "dataset_drift": False})
    assert report_drift(stores, queue, TENANT, REPO, quiet).incident_id is None
    drifted = quiet.model_copy(update={"dataset_drift": True})
    outcome = report_drift(stores, queue, TENANT, REPO, drifted)
    assert outcome.new_incident and outcome.details == {"drifted_columns": ["c0", "c1", "c2"], "tests": ["psi"]}
    incident = stores.incidents.get(TENANT, outcome.incident_id or "")
    assert incident is not None and incident.type == IncidentType.DATA_DRIFT


def test_signals_for_a_repository_the_tenant_does_not_monitor_are_not_found(stores: SignalStores) -> None:
    with pytest.raises(NotFound):
        report_model_metrics(stores, RecordingQueue(), "other-tenant", REPO, metrics("v1", 0.9))
    assert stores.repositories.model_baseline("other-tenant", REPO) is None
