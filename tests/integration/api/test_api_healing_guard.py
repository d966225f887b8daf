"""Healing Guard: pipelines, failures and manual heal, tenants, quotas, usage and billing."""

from __future__ import annotations

from datetime import timedelta

from mlops_bot.clock import iso, utc_now
from mlops_bot.management.accounts import usage
from mlops_bot.storage import keys
from tests.integration.api.conftest import Api

# The document's example without `webhook_url` and with the `config` values that apply (its own
# `webhook_url`, `timeout: 300` and `retry_attempts: 3` are refused: test_api_settings_take_effect).
PIPELINE = {
    "name": "Production Deployment",
    "config": {"retry_attempts": 2, "notification_channels": []},
    "repository": "acme/model",
    "workflow": "CI",
}


def _quota(api: Api, tenant: str, **quota: float) -> None:
    api.table.put({**keys.tenant_profile_key(tenant), "name": tenant, "resource_quota": quota})


# ------------------------------------------------------------------------------ pipelines


def test_a_registered_pipeline_reports_metrics_from_its_runs(api: Api) -> None:
    created = api.client.post("/api/pipelines", headers=api.key("write"), json=PIPELINE)
    assert created.status_code == 201
    pipeline = created.json()
    assert pipeline["id"].startswith("pipeline-")
    assert pipeline["metrics"] == {"success_rate": None, "avg_duration": None, "total_runs": 0}
    now = utc_now()
    for minutes, conclusion in ((30, "success"), (20, "failure"), (10, "success"), (5, "success")):
        api.event(received_at=now - timedelta(minutes=minutes), conclusion=conclusion)
    api.event(workflow="Docs", conclusion="failure")  # another workflow of the repository
    api.event(action="requested")  # not a completed run
    failure = api.incident(repository="acme/model", status="resolved")
    body = api.client.get(f"/api/pipelines/{pipeline['id']}", headers=api.key("read")).json()
    assert body["metrics"]["total_runs"] == 4
    assert body["metrics"]["success_rate"] == 75.0
    assert body["status"] == "healthy"
    assert [f["id"] for f in body["recent_failures"]] == [failure["id"]]
    assert body["config"] == {"retry_attempts": 2, "timeout": None, "notification_channels": []}


def test_pipelines_list_and_filters(api: Api) -> None:
    headers = api.key("write")
    api.client.post("/api/pipelines", headers=headers, json=PIPELINE)
    api.client.post("/api/pipelines", headers=headers, json={"name": "Nightly"})
    listing = api.client.get("/api/pipelines", headers=headers).json()
    assert listing["total"] == 2
    assert {p["tenant_id"] for p in listing["pipelines"]} == {"default"}
    assert api.client.get("/api/pipelines", headers=headers, params={"tenant_id": "other"}).json()["total"] == 0
    unknown = api.client.get("/api/pipelines", headers=headers, params={"status": "unknown"}).json()
    assert unknown["total"] == 2


def test_pipeline_registration_is_validated(api: Api) -> None:
    headers = api.key("write")
    for invalid in (
        {"name": ""},
        {"name": "x", "webhook_url": "ftp://nope"},
        {"name": "x", "config": {"retry_attempts": 99}},
        {"name": "x", "repository": "not a repo"},
        {"name": "x", "surprise": True},
    ):
        assert api.client.post("/api/pipelines", headers=headers, json=invalid).status_code == 422, invalid
    assert api.client.post("/api/pipelines", headers=api.key("read"), json=PIPELINE).status_code == 403


def test_an_unknown_pipeline_answers_pipeline_not_found(api: Api) -> None:
    response = api.client.get("/api/pipelines/pipeline-missing", headers=api.key("read"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "PIPELINE_NOT_FOUND"


def test_the_pipeline_quota_is_enforced_and_freed_by_deletion(api: Api) -> None:
    _quota(api, "default", max_pipelines=1)
    headers = api.key("write")
    first = api.client.post("/api/pipelines", headers=headers, json=PIPELINE)
    assert first.status_code == 201
    refused = api.client.post("/api/pipelines", headers=headers, json=PIPELINE)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert error["quota"] == {"resource": "pipelines", "limit": 1}
    assert api.client.delete(f"/api/pipelines/{first.json()['id']}", headers=headers).status_code == 204
    assert api.client.post("/api/pipelines", headers=headers, json=PIPELINE).status_code == 201


def test_the_storage_quota_is_enforced(api: Api) -> None:
    _quota(api, "default", max_storage_gb=0)
    response = api.client.post("/api/pipelines", headers=api.key("write"), json=PIPELINE)
    assert response.status_code == 403
    assert response.json()["error"]["quota"]["resource"] == "storage_gb"


# ------------------------------------------------------------------------------ failures


def test_failures_filter_by_severity_status_pipeline_and_dates(api: Api) -> None:
    pipeline = api.client.post("/api/pipelines", headers=api.key("write"), json=PIPELINE).json()
    now = utc_now()
    old = api.incident(repository="acme/model", severity="high", detected_at=iso(now - timedelta(days=10)))
    recent = api.incident(
        repository="acme/model",
        severity="medium",
        status="resolved",
        resolved_at=iso(now),
        actions_taken=[{"action": "rerun_failed_jobs", "status": "done", "timestamp": iso(now)}],
    )
    elsewhere = api.incident(repository="acme/other", severity="high")
    headers = api.key("read")

    def ids(**params: str) -> list[str]:
        response = api.client.get("/api/failures", headers=headers, params=params)
        assert response.status_code == 200
        return [f["id"] for f in response.json()["failures"]]

    assert set(ids()) == {old["id"], recent["id"], elsewhere["id"]}
    assert set(ids(severity="high")) == {old["id"], elsewhere["id"]}
    assert ids(status="resolved") == [recent["id"]]
    assert set(ids(pipeline_id=pipeline["id"])) == {old["id"], recent["id"]}
    assert set(ids(from_date=(now - timedelta(days=1)).date().isoformat())) == {recent["id"], elsewhere["id"]}
    assert ids(to_date=iso(now - timedelta(days=5))) == [old["id"]]
    listed = api.client.get("/api/failures", headers=headers, params={"status": "resolved"}).json()["failures"][0]
    assert listed["pipeline_id"] == pipeline["id"]
    assert listed["healing_actions"] == [
        {"action": "rerun_failed_jobs", "result": "done", "duration": None, "executed_at": iso(now)}
    ]
    assert api.client.get("/api/failures", headers=headers, params={"from_date": "yesterday"}).status_code == 422


def test_heal_queues_a_manual_request(api: Api) -> None:
    incident = api.incident(status="awaiting_human")
    response = api.client.post(
        f"/api/failures/{incident['id']}/heal",
        headers=api.key("write"),
        json={"action": "rerun_failed_jobs"},  # the document's `force_rebuild` is read by no repair: a 422
    )
    assert response.status_code == 202
    body = response.json()
    assert body["failure_id"] == incident["id"]
    assert body["status"] == "queued"
    [message] = api.healing_messages()
    assert message["body"]["reason"] == "manual"
    assert message["body"]["action"] == "rerun_failed_jobs"
    assert api.client.post("/api/failures/inc-missing/heal", headers=api.key("write"), json={}).status_code == 404


# ------------------------------------------------------------------------------ tenants and users


def test_an_operator_creates_a_tenant_whose_admin_can_log_in(api: Api) -> None:
    operator = api.key("admin")
    created = api.client.post(
        "/api/tenants",
        headers=operator,
        json={
            "name": "New Company",
            "admin_email": "admin@newcompany.com",
            "resource_quota": {"max_pipelines": 50, "max_storage_gb": 250, "max_users": 25},
        },
    )
    assert created.status_code == 201
    tenant = created.json()
    assert tenant["resource_quota"] == {"max_pipelines": 50, "max_storage_gb": 250.0, "max_users": 25}
    assert tenant["current_usage"]["users"] == 1
    password = tenant["admin_user"]["initial_password"]
    login = api.client.post(
        "/auth/login", json={"username": "admin@newcompany.com", "password": password, "tenant_id": tenant["id"]}
    )
    assert login.status_code == 200
    assert login.json()["user_info"]["tenant_id"] == tenant["id"]
    listed = api.client.get("/api/tenants", headers=operator).json()
    assert tenant["id"] in {t["id"] for t in listed["tenants"]}
    assert "initial_password" not in str(listed)
    # the new tenant's admin sees only its own tenant
    own = api.client.get("/api/tenants", headers={"authorization": f"Bearer {login.json()['access_token']}"}).json()
    assert [t["id"] for t in own["tenants"]] == [tenant["id"]]


def test_only_operators_create_tenants_and_only_admins_list_them(api: Api) -> None:
    body = {"name": "X", "admin_email": "x@example.com"}
    assert api.client.post("/api/tenants", headers=api.key("admin", tenant="tenant-b"), json=body).status_code == 403
    assert api.client.get("/api/tenants", headers=api.key("write")).status_code == 403
    invalid = api.client.post("/api/tenants", headers=api.key(), json={"name": "X", "admin_email": "not-an-email"})
    assert invalid.status_code == 422
    no_room = api.client.post("/api/tenants", headers=api.key(), json={**body, "resource_quota": {"max_users": 0}})
    assert no_room.status_code == 422


def test_the_user_quota_is_enforced(api: Api) -> None:
    _quota(api, "tenant-q", max_users=1)
    admin = api.key("admin", tenant="tenant-q")
    first = api.client.post(
        "/api/users", headers=admin, json={"username": "one@q.example", "password": "a long enough password"}
    )
    assert first.status_code == 201
    assert first.json()["role"] == "read"
    second = api.client.post(
        "/api/users", headers=admin, json={"username": "two@q.example", "password": "a long enough password"}
    )
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "QUOTA_EXCEEDED"
    taken = api.client.post(
        "/api/users", headers=admin, json={"username": "ONE@q.example", "password": "a long enough password"}
    )
    assert taken.status_code == 409
    # another tenant may use the same name: creating it reveals nothing about tenant-q
    elsewhere = api.client.post(
        "/api/users", headers=api.key(), json={"username": "one@q.example", "password": "a long enough password"}
    )
    assert elsewhere.status_code == 201
    assert [u["username"] for u in api.client.get("/api/users", headers=admin).json()["users"]] == ["one@q.example"]


def test_usage_is_counted_from_records_and_billed_from_the_price_table(api: Api) -> None:
    admin = api.key("admin", tenant="tenant-u")
    now = utc_now()
    for _ in range(3):
        api.event(tenant="tenant-u", conclusion="failure")
    api.event(tenant="tenant-u", action="requested")
    api.incident(
        tenant="tenant-u",
        actions_taken=[
            {"action": "add_dependency", "status": "done", "timestamp": iso(now)},
            {"action": "open_issue", "status": "planned", "timestamp": iso(now)},  # dry run: not billed
        ],
    )
    api.client.get("/api/v1/issues", headers=admin)
    response = api.client.get("/api/tenants/tenant-u/usage", headers=admin)
    assert response.status_code == 200
    body = response.json()
    metrics = body["metrics"]
    assert metrics["pipeline_executions"] == 3
    assert metrics["healing_actions"] == 1
    assert metrics["api_calls"] == 2  # the issues call and this one
    assert 0 < metrics["data_processed_gb"] < 0.001
    prices = usage.PRICE_TABLE
    expected = prices["base_fee"] + 3 * prices["pipeline_execution"] + prices["healing_action"]
    assert body["billing_amount"] == float(expected)
    assert body["usage_period"]["start"].endswith("-01T00:00:00Z")
    last_month = api.client.get("/api/tenants/tenant-u/usage", headers=admin, params={"month": "2020-01"}).json()
    assert last_month["metrics"]["pipeline_executions"] == 0
    assert last_month["usage_period"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-01-31T23:59:59Z"}
