"""Repositories, issues and manual resolution, playbooks, system configuration."""

from __future__ import annotations

import json
from datetime import timedelta

from mlops_bot.clock import iso, utc_now
from mlops_bot.healing import catalog
from mlops_bot.storage import keys
from tests.integration.api.conftest import Api

# ------------------------------------------------------------------------------ repositories


def test_repositories_list_with_status_filter_and_pagination(api: Api) -> None:
    for name in ("acme/a", "acme/b", "acme/c"):
        api.repository(name)
    api.table.set_fields(keys.repository_key("default", "acme/b"), {"status": "paused"})
    headers = api.key("read")
    page = api.client.get("/api/v1/repositories", headers=headers, params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 3
    assert [r["full_name"] for r in page["repositories"]] == ["acme/b", "acme/c"]
    paused = api.client.get("/api/v1/repositories", headers=headers, params={"status": "paused"}).json()
    assert [r["full_name"] for r in paused["repositories"]] == ["acme/b"]
    assert api.client.get("/api/v1/repositories", headers=headers, params={"status": "gone"}).status_code == 422


def test_repository_details_have_configuration_statistics_and_recent_issues(api: Api) -> None:
    api.repository("acme/model")
    detected = utc_now() - timedelta(minutes=10)
    api.incident(
        repository="acme/model",
        status="resolved",
        resolution_time=180,
        detected_at=iso(detected),
        timeline=[
            {"event": "issue_detected", "timestamp": iso(detected)},
            {"event": "analysis_started", "timestamp": iso(detected + timedelta(seconds=4))},
        ],
    )
    api.incident(repository="acme/other")
    body = api.client.get("/api/v1/repositories/acme/model", headers=api.key("read")).json()
    assert body["full_name"] == "acme/model"
    assert body["configuration"]["detection_sensitivity"] == "medium"
    assert body["statistics"]["average_response_time"] == 4.0
    [recent] = body["recent_issues"]
    assert recent["resolved"] is True
    assert recent["resolution_time"] == 180


def test_unknown_repository_is_not_found(api: Api) -> None:
    response = api.client.get("/api/v1/repositories/acme/ghost", headers=api.key("read"))
    assert response.status_code == 404


def test_repository_configuration_is_validated_and_stored(api: Api) -> None:
    api.repository("acme/model")
    headers = api.key("write")
    response = api.client.put(
        "/api/v1/repositories/acme/model/config",
        headers=headers,
        json={"auto_fix_enabled": False, "detection_sensitivity": "high", "custom_playbooks": ["pipeline_failure_fix"]},
    )
    assert response.status_code == 200
    assert response.json()["repository"] == "acme/model"
    stored = api.table.get(keys.repository_key("default", "acme/model"))
    assert stored is not None
    assert stored["configuration"] == {  # only what was set: the rest stays the file's to decide
        "auto_fix_enabled": False,
        "detection_sensitivity": "high",
        "custom_playbooks": ["pipeline_failure_fix"],
    }
    unknown = api.client.put("/api/v1/repositories/acme/model/config", headers=headers, json={"colour": "red"})
    assert unknown.status_code == 422
    bad_name = api.client.put(
        "/api/v1/repositories/acme/model/config", headers=headers, json={"custom_playbooks": ["../etc"]}
    )
    assert bad_name.status_code == 422
    empty = api.client.put("/api/v1/repositories/acme/model/config", headers=headers, json={})
    assert empty.status_code == 422
    missing = api.client.put("/api/v1/repositories/acme/ghost/config", headers=headers, json={"auto_fix_enabled": True})
    assert missing.status_code == 404


# ------------------------------------------------------------------------------ issues


def test_issues_filter_and_paginate(api: Api) -> None:
    api.incident(repository="acme/a", severity="high", status="open")
    api.incident(repository="acme/a", severity="medium", status="resolved")
    api.incident(repository="acme/b", severity="high", status="open", type="data_drift")
    headers = api.key("read")
    everything = api.client.get("/api/v1/issues", headers=headers).json()
    assert everything["total"] == 3
    high = api.client.get("/api/v1/issues", headers=headers, params={"severity": "high", "repository": "ACME/A"}).json()
    assert high["total"] == 1
    drift = api.client.get("/api/v1/issues", headers=headers, params={"type": "data_drift"}).json()
    assert [i["repository"] for i in drift["issues"]] == ["acme/b"]
    page = api.client.get("/api/v1/issues", headers=headers, params={"limit": 1, "offset": 2}).json()
    assert len(page["issues"]) == 1 and page["total"] == 3


def test_issue_details_and_not_found(api: Api) -> None:
    incident = api.incident()
    body = api.client.get(f"/api/v1/issues/{incident['id']}", headers=api.key("read")).json()
    assert body["id"] == incident["id"]
    assert body["timeline"][0]["event"] == "issue_detected"
    assert "pk" not in body and "tenant_id" not in body
    assert api.client.get("/api/v1/issues/inc-missing", headers=api.key("read")).status_code == 404


def test_resolve_queues_a_manual_healing_request_and_records_it(api: Api) -> None:
    incident = api.incident(status="failed")
    response = api.client.post(
        f"/api/v1/issues/{incident['id']}/resolve",
        headers=api.key("write"),
        json={"action": "retry_failed_action", "force": False, "parameters": {}},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "Issue resolution triggered"
    assert body["estimated_completion"].endswith("Z")
    [message] = api.healing_messages()
    assert message["tenant_id"] == "default"
    sent = {k: message["body"][k] for k in ("tenant_id", "incident_id", "reason", "action", "request_id", "force")}
    assert sent == {
        "tenant_id": "default",
        "incident_id": incident["id"],
        "reason": "manual",
        "action": "retry_failed_action",
        "request_id": body["execution_id"],
        "force": False,
    }
    stored = api.table.get(keys.incident_key("default", incident["id"]))
    assert stored is not None
    entry = stored["timeline"][-1]
    assert entry["event"] == "manual_heal_requested"
    assert json.loads(entry["details"])["execution_id"] == body["execution_id"]


def test_resolve_without_a_body_heals_with_the_default_action(api: Api) -> None:
    incident = api.incident(status="open")
    response = api.client.post(f"/api/v1/issues/{incident['id']}/resolve", headers=api.key("write"))
    assert response.status_code == 202
    assert api.healing_messages()[0]["body"]["action"] is None


def test_resolve_refuses_while_healing_unless_forced(api: Api) -> None:
    incident = api.incident(status="healing")
    path = f"/api/v1/issues/{incident['id']}/resolve"
    headers = api.key("write")
    refused = api.client.post(path, headers=headers, json={})
    assert refused.status_code == 409
    assert api.healing_messages() == []
    assert api.client.post(path, headers=headers, json={"force": True}).status_code == 202
    assert api.healing_messages()[0]["body"]["force"] is True


def test_resolve_of_an_unknown_issue_is_not_found_and_queues_nothing(api: Api) -> None:
    response = api.client.post("/api/v1/issues/inc-missing/resolve", headers=api.key("write"), json={})
    assert response.status_code == 404
    assert api.healing_messages() == []


def test_resolve_validates_the_action_name(api: Api) -> None:
    incident = api.incident()
    response = api.client.post(
        f"/api/v1/issues/{incident['id']}/resolve", headers=api.key("write"), json={"action": "rm -rf /"}
    )
    assert response.status_code == 422


# ------------------------------------------------------------------------------ playbooks


def test_playbooks_list_the_catalog_with_success_rates_from_incidents(api: Api) -> None:
    for status in ("resolved", "resolved", "resolved", "failed"):
        api.incident(playbook="pipeline_failure_fix", status=status, resolution_time=100)
    api.incident(playbook="pipeline_failure_fix", status="healing")
    body = api.client.get("/api/v1/playbooks", headers=api.key("read")).json()
    assert body["total"] == len(catalog.NAMES) == 5
    by_name = {p["name"]: p for p in body["playbooks"]}
    assert by_name["pipeline_failure_fix"]["success_rate"] == 0.75
    assert by_name["data_drift_response"]["success_rate"] is None
    assert all(p["enabled"] for p in body["playbooks"])


def test_playbook_details_count_finished_executions(api: Api) -> None:
    api.incident(playbook="flaky_test_response", status="resolved", resolution_time=100)
    api.incident(playbook="flaky_test_response", status="resolved", resolution_time=200)
    api.incident(playbook="flaky_test_response", status="failed")
    body = api.client.get("/api/v1/playbooks/flaky_test_response", headers=api.key("read")).json()
    assert body["statistics"] == {
        "total_executions": 3,
        "successful_executions": 2,
        "failed_executions": 1,
        "running_executions": 0,
        "success_rate": 0.6667,
        "average_execution_time": 150.0,
    }
    assert body["actions"][0]["type"] == "rerun_failed_jobs"
    assert api.client.get("/api/v1/playbooks/nope", headers=api.key("read")).status_code == 404


def test_disabling_a_playbook_stores_the_switch_the_healer_reads(api: Api) -> None:
    response = api.client.patch(
        "/api/v1/playbooks/data_drift_response",
        headers=api.key("admin"),
        json={"enabled": False, "reason": "Temporarily disabled for testing"},
    )
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    stored = api.table.get({"pk": "TENANT#default", "sk": "PLAYBOOK#data_drift_response"})
    assert stored is not None
    assert stored["enabled"] is False
    assert stored["reason"] == "Temporarily disabled for testing"
    listed = api.client.get("/api/v1/playbooks/data_drift_response", headers=api.key("read")).json()
    assert listed["enabled"] is False
    invalid = api.client.patch("/api/v1/playbooks/data_drift_response", headers=api.key(), json={"enabled": "maybe"})
    assert invalid.status_code == 422


# ------------------------------------------------------------------------------ configuration


def test_config_shows_defaults_and_integrations(api: Api) -> None:
    body = api.client.get("/api/v1/config", headers=api.key("read")).json()
    assert body["limits"] == {"max_concurrent_executions": None, "rate_limit_per_minute": 1000, "max_file_size_mb": 25}
    assert body["features"]["advanced_analytics"] is True
    assert body["integrations"]["github"]["rate_limit_remaining"] is None  # GitHub unreachable in this test
    assert body["integrations"]["email"] == {"enabled": True}


def test_config_update_is_validated_and_applies_without_restart(api: Api) -> None:
    admin = api.key()
    changed = api.client.put(
        "/api/v1/config",
        headers=admin,
        json={
            "features": {"auto_scaling": True, "predictive_scaling": False},
            "limits": {"rate_limit_per_minute": 1500},
        },
    )
    assert changed.status_code == 200
    assert changed.json()["restart_required"] is False
    body = api.client.get("/api/v1/config", headers=admin).json()
    assert body["limits"]["rate_limit_per_minute"] == 1500
    for invalid in (
        {"limits": {"rate_limit_per_minute": 0}},
        {"limits": {"cpu": 1}},
        {"integrations": {"github": {}}},
        {},
    ):
        assert api.client.put("/api/v1/config", headers=admin, json=invalid).status_code == 422, invalid


def test_only_operators_change_the_system_configuration(api: Api) -> None:
    body = {"features": {"auto_scaling": False}}
    assert api.client.put("/api/v1/config", headers=api.key("write"), json=body).status_code == 403
    tenant_admin = api.key("admin", tenant="tenant-b")
    assert api.client.put("/api/v1/config", headers=tenant_admin, json=body).status_code == 403
