"""`GET /api/analytics/patterns` and `POST /api/ml/predict` over the app, against moto's table."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlops_bot.access.api_keys import ensure_bootstrap_key, issue
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api import patterns, prediction
from mlops_bot.api.app import create_app
from mlops_bot.api.dependencies import state_table
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import get_settings
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.detection.service import DetectorDependencies, record_event
from mlops_bot.storage import keys
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.pipelines import DynamoPipelineStore, Pipeline
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from mlops_bot.webhooks.models import RepositoryEvent, WorkflowRun
from tests.support.aws import MockState
from tests.support.stores import api_key_stores

ADMIN_KEY = "mlb_integration-admin"
ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}
SKLEARN = "ModuleNotFoundError: No module named 'sklearn'"


@pytest.fixture
def api(aws: MockState) -> Iterator[tuple[TestClient, StateTable]]:
    table = StateTable(aws.table_name)
    ensure_bootstrap_key(api_key_stores(table), ADMIN_KEY)
    app = create_app()
    served = set(app.openapi()["paths"])
    for router in (patterns.router, prediction.router):
        if not served & {str(getattr(route, "path", "")) for route in router.routes}:
            app.include_router(router)  # until the app includes it itself
    app.openapi_schema = None
    app.dependency_overrides[state_table] = lambda: table
    with TestClient(app) as client:
        yield client, table


def failed_run(
    table: StateTable,
    repository: str,
    run_id: int,
    hours_ago: float,
    line: str = SKLEARN,
    tenant_id: str = "default",
    **diagnosis: Any,
) -> None:
    """A failed run as the detector leaves it: the run's event and its diagnosed incident."""
    record(table, repository, run_id, hours_ago, "failure", tenant_id)
    detected = iso(utc_now() - timedelta(hours=hours_ago))
    incident = Incident(
        id=keys.incident_id_for_run(repository, run_id),
        tenant_id=tenant_id,
        repository=repository,
        type="pipeline_failure",
        severity="high",
        description="Workflow 'CI' failure on main: dependency_missing (missing-python-module)",
        detected_at=detected,
        metadata={"workflow_name": "CI", "run_id": run_id, "head_branch": "main", "failure_reason": line},
        diagnosis={
            "category": diagnosis.get("category", "dependency_missing"),
            "kind": diagnosis.get("kind", "missing-python-module"),
            "details": {},
            "evidence": [{"line": 57, "text": line}],
            "confidence": 0.9,
        },
    )
    table.put(incident_item(incident))


def record(
    table: StateTable, repository: str, run_id: int, hours_ago: float, conclusion: str, tenant_id: str = "default"
) -> None:
    """A completed run's event, stored by the detector's own writer."""
    deps = DetectorDependencies(
        settings=get_settings(),
        healing_queue=Queue(""),
        incidents=DynamoIncidentStore(table),
        activity=DynamoEventStore(table),
        flaky_history=DynamoFlakyHistory(table),
    )
    record_event(
        deps,
        RepositoryEvent(
            tenant_id=tenant_id,
            delivery_id=str(uuid.uuid4()),
            execution_id=str(uuid.uuid4()),
            event="workflow_run",
            action="completed",
            received_at=iso(utc_now() - timedelta(hours=hours_ago)),
            repository=repository,
            workflow_run=WorkflowRun(
                id=run_id, name="CI", conclusion=conclusion, status="completed", head_branch="main"
            ),
        ),
    )


def seed(table: StateTable) -> None:
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/churn", "test")
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/quiet", "test")
    run_id = 100
    for hours_ago in range(24 * 20, 0, -6):  # a run every 6 hours for 20 days
        run_id += 1
        if hours_ago % 96 == 0:  # sklearn goes missing every fourth day
            failed_run(table, "acme/churn", run_id, hours_ago)
        else:
            record(table, "acme/churn", run_id, hours_ago, "success")
    failed_run(
        table,
        "acme/churn",
        run_id + 1,
        30,
        "FAILED tests/test_model.py::test_accuracy - assert 0.61 > 0.9",
        category="test_failure",
        kind="pytest-assertion",
    )
    failed_run(table, "other/secret", 1, 10, tenant_id="other")
    failed_run(table, "other/secret", 2, 20, tenant_id="other")


def test_patterns_cluster_the_tenants_incidents(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)

    response = client.get("/api/analytics/patterns", headers=ADMIN)

    assert response.status_code == 200
    body = response.json()
    [sklearn] = body["patterns"]
    assert {k: sklearn[k] for k in ("type", "frequency", "signature", "repositories", "category")} == {
        "type": "missing_python_module",
        "frequency": 5,
        "signature": SKLEARN,
        "repositories": ["acme/churn"],
        "category": "dependency_missing",
    }
    assert sklearn["pattern_id"].startswith("pattern-")
    assert sklearn["predicted_next"] > sklearn["last_occurrence"]
    assert sklearn["confidence"] > 0.9
    assert body["min_frequency"] == 2


def test_patterns_filters_narrow_the_answer(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)

    everything = client.get("/api/analytics/patterns", headers=ADMIN, params={"min_frequency": 1}).json()
    recent = client.get("/api/analytics/patterns", headers=ADMIN, params={"period": "9d"}).json()
    since = (utc_now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    latest = client.get("/api/analytics/patterns", headers=ADMIN, params={"since": since, "min_frequency": 1}).json()
    elsewhere = client.get("/api/analytics/patterns", headers=ADMIN, params={"repository": "acme/quiet"}).json()

    assert {p["type"] for p in everything["patterns"]} == {"missing_python_module", "pytest_assertion"}
    assert [p["frequency"] for p in recent["patterns"]] == [2]
    assert {p["type"]: p["frequency"] for p in latest["patterns"]} == {"pytest_assertion": 1}
    assert elsewhere["patterns"] == []


def test_patterns_stay_inside_the_callers_tenant(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)
    other = issue(api_key_stores(table), "other", "reader", "read").key

    mine = client.get("/api/analytics/patterns", headers=ADMIN).json()
    theirs = client.get("/api/analytics/patterns", headers={"authorization": f"Bearer {other}"}).json()

    assert {r for p in mine["patterns"] for r in p["repositories"]} == {"acme/churn"}
    assert {r for p in theirs["patterns"] for r in p["repositories"]} == {"other/secret"}


@pytest.mark.parametrize(
    ("params", "headers", "status", "code"),
    [
        ({}, {}, 401, "UNAUTHORIZED"),
        ({"period": "forever"}, ADMIN, 422, "VALIDATION_FAILED"),
        ({"min_frequency": 0}, ADMIN, 422, "VALIDATION_FAILED"),
        ({"since": "yesterday"}, ADMIN, 422, "VALIDATION_FAILED"),
    ],
)
def test_patterns_errors_use_the_spec_format(
    api: tuple[TestClient, StateTable], params: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    client, _ = api
    response = client.get("/api/analytics/patterns", headers=headers, params=params)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["request_id"]


def test_predict_answers_for_a_repository(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)

    response = client.post(
        "/api/ml/predict", headers=ADMIN, json={"pipeline_id": "acme/churn", "prediction_window": 24}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["pipeline_id"] == "acme/churn"
    assert body["prediction_window"] == 24
    prediction_body = body["prediction"]
    assert 0 < prediction_body["failure_probability"] < 1
    assert 0 <= prediction_body["confidence"] <= 1
    assert prediction_body["most_likely_failure"] == "missing_python_module"
    assert prediction_body["recommended_actions"][0] == "add_missing_dependency"
    assert prediction_body["factors"]["runs_per_day"] == pytest.approx(4, rel=0.15)
    assert body["model"]["name"] == "decayed-failure-rate-cloglog"


def test_predict_resolves_a_registered_pipeline_to_its_repository(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)
    churn_ci = Pipeline(
        id="pipeline-123", tenant_id="default", name="Churn CI", repository="acme/churn", created_at=iso(utc_now())
    )
    assert DynamoPipelineStore(table).create(churn_ci, max_pipelines=10)

    response = client.post("/api/ml/predict", headers=ADMIN, json={"pipeline_id": "pipeline-123"})

    assert response.status_code == 200
    assert (response.json()["pipeline_id"], response.json()["repository"]) == ("pipeline-123", "acme/churn")
    assert response.json()["prediction_window"] == 24


def test_a_monitored_repository_without_history_gets_a_low_prediction(api: tuple[TestClient, StateTable]) -> None:
    client, table = api
    seed(table)

    response = client.post("/api/ml/predict", headers=ADMIN, json={"repository": "acme/quiet"})

    assert response.status_code == 200
    assert response.json()["prediction"]["failure_probability"] < 0.01
    assert response.json()["prediction"]["most_likely_failure"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"pipeline_id": "acme/unknown"},
        {"pipeline_id": "pipeline-404"},
        {"repository": "other/secret"},  # another tenant's repository does not exist for this caller
    ],
)
def test_predict_unknown_pipelines_are_not_found(api: tuple[TestClient, StateTable], body: dict[str, Any]) -> None:
    client, table = api
    seed(table)

    response = client.post("/api/ml/predict", headers=ADMIN, json=body)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FOUND"
    assert error["request_id"] and error["timestamp"]


@pytest.mark.parametrize(
    "body",
    [
        {"pipeline_id": "acme/churn", "prediction_window": 0},
        {"pipeline_id": "acme/churn", "prediction_window": 721},
        {"pipeline_id": "acme/churn", "prediction_window": "soon"},
        {"prediction_window": 24},
        {"pipeline_id": "acme/churn", "horizon": 24},
    ],
)
def test_predict_invalid_requests_fail_validation(api: tuple[TestClient, StateTable], body: dict[str, Any]) -> None:
    client, _ = api
    response = client.post("/api/ml/predict", headers=ADMIN, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_predict_needs_a_key(api: tuple[TestClient, StateTable]) -> None:
    client, _ = api
    response = client.post("/api/ml/predict", json={"pipeline_id": "acme/churn"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
