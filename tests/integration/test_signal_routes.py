"""Pipelines report drift and model metrics; each becomes an incident (or a new baseline)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlops_bot.access.api_keys import ensure_bootstrap_key
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.stores import api_key_stores

KEY = "mlb_signals-admin"
AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(aws: MockState) -> TestClient:
    from mlops_bot.api.app import create_app  # a new app forgets the clients of the last (api.dependencies)

    table = StateTable(aws.table_name)
    ensure_bootstrap_key(api_key_stores(table), KEY)
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/churn", source="test")
    return TestClient(create_app())


def report(drifted: int, total: int = 4) -> dict[str, Any]:
    columns = {
        f"c{i}": {
            "test": "wasserstein",
            "statistic": 0.3 if i < drifted else 0.01,
            "p_value": None,
            "threshold": 0.1,
            "drifted": i < drifted,
        }
        for i in range(total)
    }
    return {
        "columns": columns,
        "drift_share": drifted / total,
        "dataset_drift": drifted / total >= 0.5,
        "reference": "s3://data/ref.parquet",
        "current": "s3://data/cur.parquet",
    }


def test_dataset_drift_opens_one_incident_and_queues_healing(client: TestClient, aws: MockState) -> None:
    first = client.post("/api/v1/repositories/acme/churn/drift", json=report(3), headers=AUTH)
    assert first.status_code == 201
    body = first.json()
    assert body["new_incident"] and "drift score 0.75" in body["summary"]
    again = client.post("/api/v1/repositories/acme/churn/drift", json=report(3), headers=AUTH)
    assert again.status_code == 200 and again.json()["incident_id"] == body["incident_id"]
    [queued] = aws.messages("HealingQueue")
    assert queued["incident_id"] == body["incident_id"]
    incident = StateTable(aws.table_name).get(keys.incident_key("default", body["incident_id"]))
    assert incident is not None and incident["type"] == "data_drift"
    assert incident["metadata"]["drifted_columns"] == ["c0", "c1", "c2"]


def test_no_dataset_drift_no_incident(client: TestClient, aws: MockState) -> None:
    response = client.post("/api/v1/repositories/acme/churn/drift", json=report(1), headers=AUTH)
    assert response.status_code == 200 and response.json()["incident_id"] is None
    assert aws.messages("HealingQueue") == []


def test_model_metrics_set_a_baseline_then_degradation_opens_an_incident(client: TestClient, aws: MockState) -> None:
    url = "/api/v1/repositories/acme/churn/model-metrics"
    good = {"deployment": {"ref": "v1.4.0", "environment": "production"}, "metrics": {"auc": 0.91, "latency_ms": 40}}
    assert client.post(url, json=good, headers=AUTH).json()["summary"].startswith("First metrics")
    better = {"deployment": {"ref": "v1.5.0"}, "metrics": {"auc": 0.92, "latency_ms": 41}}
    assert client.post(url, json=better, headers=AUTH).status_code == 200
    worse = {"deployment": {"ref": "v1.6.0"}, "metrics": {"auc": 0.80, "latency_ms": 41}}
    response = client.post(url, json=worse, headers=AUTH)
    assert response.status_code == 201
    assert "auc" in response.json()["summary"]
    repo = StateTable(aws.table_name).get(keys.repository_key("default", "acme/churn"))
    assert repo is not None and repo["last_good_deployment"]["ref"] == "v1.5.0"  # the rollback target


def test_signals_need_write_permission_and_a_known_repository(client: TestClient) -> None:
    assert client.post("/api/v1/repositories/acme/churn/drift", json=report(3)).status_code == 401
    missing = client.post("/api/v1/repositories/acme/nope/drift", json=report(3), headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    bad = client.post("/api/v1/repositories/acme/churn/model-metrics", json={"metrics": {}}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_new_app_queues_healing_on_its_own_queue(
    client: TestClient, aws: MockState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The healing queue comes from the app's settings: a new app (a new deployment's settings, the next
    test's queues) never sends to the queue an earlier app in the same process used."""
    from mlops_bot.api.app import create_app
    from mlops_bot.config import reset_settings

    assert client.post("/api/v1/repositories/acme/churn/drift", json=report(3), headers=AUTH).status_code == 201
    aws.empty()  # new queues, as the next test (or another deployment) has
    table = StateTable(aws.table_name)
    ensure_bootstrap_key(api_key_stores(table), KEY)
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/churn", source="test")
    monkeypatch.setenv("MLOPS_BOT_HEALING_QUEUE_URL", aws.queues["HealingQueue"])
    reset_settings()  # as a new process would read them
    moved = TestClient(create_app()).post("/api/v1/repositories/acme/churn/drift", json=report(3), headers=AUTH)
    assert moved.status_code == 201, moved.text
    [queued] = aws.messages("HealingQueue")
    assert queued["incident_id"] == moved.json()["incident_id"]
