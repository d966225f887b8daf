"""Every field of the two API documents does what it says, or is refused with a 422 (issue 12)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import get_settings
from mlops_bot.healing.service import HealerDependencies, HealingRequest, start_playbook
from mlops_bot.management.platform import system_config
from mlops_bot.management.platform.settings import reset_management_settings
from mlops_bot.storage import keys
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.system_config import DynamoSystemConfigStore
from tests.integration.api.conftest import Api

# ------------------------------------------------------------------------------ issues


def test_issue_status_filter_maps_internal_states_onto_the_documented_ones(api: Api) -> None:
    healing = api.incident(status="healing")
    waiting = api.incident(status="awaiting_human")
    resolved = api.incident(status="resolved", resolved_at=iso(utc_now()))
    api.incident(status="failed")
    headers = api.key("read")

    def ids(status: str) -> set[str]:
        body = api.client.get("/api/v1/issues", headers=headers, params={"status": status}).json()
        return {i["id"] for i in body["issues"]}

    assert ids("open") == {healing["id"], waiting["id"]}
    assert ids("resolved") == {resolved["id"]}
    assert ids("healing") == {healing["id"]}
    listed = api.client.get("/api/v1/issues", headers=headers, params={"status": "open"}).json()["issues"]
    assert {i["status"] for i in listed} == {"open"}
    assert {i["state"] for i in listed} == {"healing", "awaiting_human"}
    refused = api.client.get("/api/v1/issues", headers=headers, params={"status": "closed"})
    assert refused.status_code == 422


def test_issues_carry_executed_at_run_id_affected_files_and_null_resolved_at(api: Api) -> None:
    at = iso(utc_now())
    action: dict[str, Any] = {"action": "open_fix_pr", "status": "completed", "timestamp": at, "details": {}}
    incident = api.incident(
        status="verifying",
        metadata={"workflow_name": "CI", "run_id": 789},
        diagnosis={"category": "dependency", "details": {"file": "src/train.py"}},
        actions_taken=[action],
    )
    body = api.client.get(f"/api/v1/issues/{incident['id']}", headers=api.key("read")).json()
    assert body["resolved_at"] is None
    assert body["status"] == "open"
    assert body["metadata"]["workflow_run_id"] == 789
    assert body["metadata"]["affected_files"] == ["src/train.py"]
    assert body["actions_taken"][0]["executed_at"] == at
    listed = api.client.get("/api/v1/issues", headers=api.key("read")).json()["issues"][0]
    assert "resolved_at" in listed and listed["resolved_at"] is None


# ------------------------------------------------------------------------------ manual healing


def test_manual_actions_outside_the_playbook_catalog_are_refused(api: Api) -> None:
    incident = api.incident(status="failed")
    headers = api.key("write")
    for path in (f"/api/v1/issues/{incident['id']}/resolve", f"/api/failures/{incident['id']}/heal"):
        refused = api.client.post(path, headers=headers, json={"action": "custom_heal"})
        assert refused.status_code == 422, path
        assert "rerun_failed_jobs" in str(refused.json()["error"]["details"])
        drift_only = api.client.post(path, headers=headers, json={"action": "retrain_model"})
        assert drift_only.status_code == 422, path
    assert api.healing_messages() == []


def test_catalog_action_names_reach_the_healer_as_its_repairs(api: Api) -> None:
    incident = api.incident(status="failed")
    response = api.client.post(
        f"/api/failures/{incident['id']}/heal", headers=api.key("write"), json={"action": "create_pull_request"}
    )
    assert response.status_code == 202
    assert api.healing_messages()[0]["body"]["action"] == "open_fix_pr"


def test_manual_parameters_reach_the_playbook_execution_input(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Parameters a repair reads (a rollback's `ref`); the document's `custom_parameter` is refused
    # (test_api_settings_take_effect::test_heal_parameters_no_action_reads_are_refused).
    machines = {"pipeline_failure_fix": api.state_machine_arn, "deployment_failure_response": api.state_machine_arn}
    monkeypatch.setenv("MLOPS_BOT_PLAYBOOK_STATE_MACHINES", json.dumps(machines))
    get_settings.cache_clear()
    incident = api.incident(status="failed", type="deployment_failure")
    response = api.client.post(
        f"/api/v1/issues/{incident['id']}/resolve",
        headers=api.key("write"),
        json={"action": "rollback_deployment", "parameters": {"ref": "v1.4.2"}},
    )
    assert response.status_code == 202
    [message] = api.healing_messages()
    assert message["body"]["parameters"] == {"ref": "v1.4.2"}
    deps = HealerDependencies(
        settings=get_settings(), runner=PlaybookRunner(), incidents=DynamoIncidentStore(api.table)
    )
    started = start_playbook(deps, HealingRequest.model_validate(message["body"]))
    described = boto3.client("stepfunctions").describe_execution(executionArn=started.execution_arn)
    execution_input = json.loads(described["input"])
    assert execution_input["parameters"] == {"ref": "v1.4.2"}
    assert execution_input["action"] == "rollback_deployment"


# ------------------------------------------------------------------------------ repository configuration


def test_custom_playbooks_outside_the_catalog_are_refused_not_stored(api: Api) -> None:
    api.repository("acme/model")
    path = "/api/v1/repositories/acme/model/config"
    headers = api.key("write")
    refused = api.client.put(path, headers=headers, json={"custom_playbooks": ["custom-fix-1", "custom-fix-2"]})
    assert refused.status_code == 422
    assert "custom-fix-1" in str(refused.json()["error"]["details"])
    stored = api.table.get(keys.repository_key("default", "acme/model")) or {}
    assert stored["configuration"].get("custom_playbooks") is None
    accepted = api.client.put(path, headers=headers, json={"custom_playbooks": ["flaky_test_response"]})
    assert accepted.status_code == 200


def test_notification_channels_without_a_destination_are_refused(api: Api) -> None:
    api.repository("acme/model")
    path = "/api/v1/repositories/acme/model/config"
    headers = api.key("write")
    no_url = api.client.put(path, headers=headers, json={"notification_channels": ["slack", "email"]})
    assert no_url.status_code == 422
    assert "slack_webhook_url" in no_url.json()["error"]["details"]
    no_recipients = api.client.put(
        path,
        headers=headers,
        json={"notification_channels": ["slack", "email"], "slack_webhook_url": "https://hooks.slack.com/x"},
    )
    assert no_recipients.status_code == 422
    assert "email_recipients" in no_recipients.json()["error"]["details"]
    assert api.client.put(path, headers=headers, json={"notification_channels": ["webhook"]}).status_code == 422
    complete = api.client.put(
        path,
        headers=headers,
        json={
            "notification_channels": ["slack", "email"],
            "slack_webhook_url": "https://hooks.slack.com/x",
            "email_recipients": ["ops@example.com"],
        },
    )
    assert complete.status_code == 200
    # Stored destinations count: narrowing the channels later needs no repetition.
    assert api.client.put(path, headers=headers, json={"notification_channels": ["email"]}).status_code == 200


# ------------------------------------------------------------------------------ cluster


def test_rebalance_refuses_strategies_it_cannot_do_and_names_what_it_does(api: Api) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=api.state.queues["EventsDeadLetterQueue"], MessageBody="{}")
    refused = api.client.post("/api/cluster/rebalance", headers=api.key(), json={"strategy": "even_distribution"})
    assert refused.status_code == 422
    assert "redrive_dead_letters" in str(refused.json()["error"]["details"])
    dlq = sqs.get_queue_attributes(
        QueueUrl=api.state.queues["EventsDeadLetterQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dlq["Attributes"]["ApproximateNumberOfMessages"] == "1"  # nothing was redriven
    done = api.client.post("/api/cluster/rebalance", headers=api.key(), json={"strategy": "redrive_dead_letters"})
    assert done.status_code == 202
    assert done.json()["description"].startswith("Move every message")


# ------------------------------------------------------------------------------ health


def test_health_status_comes_from_the_detailed_checks(api: Api) -> None:
    # The fixture's GitHub is unreachable: the bot cannot heal, so it is degraded, not healthy.
    assert api.client.get("/health/detailed").json()["status"] == "degraded"
    degraded = api.client.get("/health")
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    boto3.client("sqs").delete_queue(QueueUrl=api.state.queues["EventsQueue"])
    unhealthy = api.client.get("/health")
    assert unhealthy.status_code == 503
    assert unhealthy.json()["status"] == "unhealthy" == api.client.get("/health/detailed").json()["status"]


# ------------------------------------------------------------------------------ playbooks


def test_playbook_versions_and_dates_follow_the_deployed_definition(api: Api) -> None:
    headers = api.key("read")
    first = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=headers).json()
    assert first["version"] == "1.0.0"
    assert first["created_at"] == first["updated_at"]
    again = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=headers).json()
    assert (again["version"], again["created_at"]) == (first["version"], first["created_at"])
    # An earlier deployment recorded another definition: this one is the next revision.
    key = keys.playbook_release_key("pipeline_failure_fix")
    api.table.set_fields(key, {"fingerprint": "an-older-definition", "updated_at": "2025-01-01T00:00:00Z"})
    changed = api.client.get("/api/v1/playbooks", headers=headers).json()
    listed = next(p for p in changed["playbooks"] if p["name"] == "pipeline_failure_fix")
    assert listed["version"] == "1.0.1"
    assert listed["created_at"] == first["created_at"]
    assert listed["updated_at"] > "2025-01-01T00:00:00Z"


def test_playbook_executions_count_every_run_from_the_incidents(api: Api) -> None:
    api.incident(playbook="deployment_failure_response", status="resolved", attempts=2, resolution_time=60)
    api.incident(playbook="deployment_failure_response", status="failed", attempts=3)
    api.incident(playbook="deployment_failure_response", status="healing", attempts=1)
    api.incident(playbook="deployment_failure_response", status="open")  # never run
    body = api.client.get("/api/v1/playbooks/deployment_failure_response", headers=api.key("read")).json()
    assert body["statistics"] == {
        "total_executions": 6,
        "successful_executions": 1,
        "failed_executions": 4,
        "running_executions": 1,
        "success_rate": 0.2,
        "average_execution_time": 60.0,
    }


# ------------------------------------------------------------------------------ errors


def test_healing_guard_errors_name_the_resource_in_an_object(api: Api) -> None:
    missing = api.client.get("/api/pipelines/pipeline-123", headers=api.key("read")).json()["error"]
    assert missing["code"] == "PIPELINE_NOT_FOUND"
    assert missing["details"]["resource_type"] == "pipeline"
    assert missing["details"]["resource_id"] == "pipeline-123"
    heal = api.client.post("/api/failures/inc-missing/heal", headers=api.key("write"), json={}).json()["error"]
    assert heal["details"]["resource_type"] == "failure" and heal["details"]["resource_id"] == "inc-missing"
    unauthenticated = api.client.get("/api/pipelines").json()["error"]
    assert unauthenticated["details"]["resource_type"] == "pipeline"
    # The Management API document keeps its string.
    issue = api.client.get("/api/v1/issues/inc-missing", headers=api.key("read")).json()["error"]
    assert isinstance(issue["details"], str)


# ------------------------------------------------------------------------------ pipelines across tenants


def test_operators_list_pipelines_of_any_tenant_with_tenant_id(api: Api) -> None:
    operator = api.key("admin")
    tenant = api.client.post("/api/tenants", headers=operator, json={"name": "Acme", "admin_email": "a@acme.test"})
    other = tenant.json()["id"]
    theirs = api.client.post("/api/pipelines", headers=api.key("write", tenant=other), json={"name": "Theirs"}).json()
    ours = api.client.post("/api/pipelines", headers=operator, json={"name": "Ours"}).json()
    narrowed = api.client.get("/api/pipelines", headers=operator, params={"tenant_id": other}).json()
    assert [(p["id"], p["tenant_id"]) for p in narrowed["pipelines"]] == [(theirs["id"], other)]
    everything = api.client.get("/api/pipelines", headers=operator).json()
    assert {p["id"] for p in everything["pipelines"]} == {theirs["id"], ours["id"]}
    # A tenant's own admin is no operator: other tenants stay invisible.
    admin = api.key("admin", tenant=other)
    assert api.client.get("/api/pipelines", headers=admin, params={"tenant_id": "default"}).json()["total"] == 0
    assert [p["id"] for p in api.client.get("/api/pipelines", headers=admin).json()["pipelines"]] == [theirs["id"]]


# ------------------------------------------------------------------------------ /metrics


def test_metrics_count_requests_latency_errors_and_healing_outcomes(api: Api) -> None:
    api.incident(playbook="pipeline_failure_fix", status="resolved")
    api.incident(playbook="pipeline_failure_fix", status="failed")
    headers = api.key("read")
    for _ in range(2):
        assert api.client.get("/api/v1/issues", headers=headers).status_code == 200
    assert api.client.get("/api/v1/issues/inc-missing", headers=headers).status_code == 404
    lines = api.client.get("/metrics", headers=headers).text.splitlines()
    assert 'bot_http_requests_total{method="GET",route="/api/v1/issues",status="200"} 2' in lines
    assert 'bot_http_requests_total{method="GET",route="/api/v1/issues/{incident_id}",status="404"} 1' in lines
    assert 'bot_http_request_duration_seconds_count{method="GET",route="/api/v1/issues"} 2' in lines
    assert 'bot_http_request_duration_seconds_bucket{method="GET",route="/api/v1/issues",le="+Inf"} 2' in lines
    assert 'bot_http_request_errors_total{method="GET",route="/api/v1/issues"} 0' in lines
    assert 'bot_healing_outcomes_total{playbook="pipeline_failure_fix",outcome="resolved"} 1' in lines
    assert 'bot_healing_outcomes_total{playbook="pipeline_failure_fix",outcome="failed"} 1' in lines


def test_prometheus_scrapes_with_a_read_key_outside_the_analytics_budget(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_ANALYTICS_RATE_LIMIT", "1")
    reset_management_settings()
    scraper = api.key("read")
    for _ in range(3):
        assert api.client.get("/metrics", headers=scraper).status_code == 200
    assert api.client.get("/api/v1/analytics", headers=scraper).status_code == 200  # the budget is untouched
    assert api.client.get("/metrics").status_code == 401


# ------------------------------------------------------------------------------ system configuration


def test_config_keys_that_describe_the_platform_are_refused_not_stored(api: Api) -> None:
    admin = api.key()
    for body, path in (
        ({"limits": {"max_concurrent_executions": 75}}, "limits.max_concurrent_executions"),
        ({"limits": {"max_file_size_mb": 10}}, "limits.max_file_size_mb"),
        ({"features": {"auto_scaling": False}}, "features.auto_scaling"),
        ({"features": {"predictive_scaling": True}}, "features.predictive_scaling"),
        ({"integrations": {"slack": {"channels_configured": 3}}}, "integrations.slack.channels_configured"),
    ):
        refused = api.client.put("/api/v1/config", headers=admin, json=body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["details"].startswith(f"{path} cannot be changed"), body
    shown = api.client.get("/api/v1/config", headers=admin).json()
    assert shown["limits"]["max_concurrent_executions"] is None
    assert shown["features"]["predictive_scaling"] is False


def test_advanced_analytics_off_leaves_the_summary_only(api: Api) -> None:
    api.event()
    admin = api.key()
    full = api.client.get("/api/v1/analytics", headers=admin).json()
    assert full["timeseries"] and full["top_repositories"]
    switched = api.client.put("/api/v1/config", headers=admin, json={"features": {"advanced_analytics": False}})
    assert switched.status_code == 200
    summary_only = api.client.get("/api/v1/analytics", headers=admin).json()
    assert summary_only["summary"]["total_events"] == 1
    assert summary_only["timeseries"] == {} and summary_only["top_repositories"] == []


def test_integration_switches_silence_a_channel_for_every_repository(api: Api) -> None:
    admin = api.key()
    repository = {"notification_channels": ["slack", "email"], "slack_webhook_url": "https://hooks.slack.com/x"}
    assert (
        api.client.put(
            "/api/v1/config", headers=admin, json={"integrations": {"slack": {"enabled": False}}}
        ).status_code
        == 200
    )
    system_config.forget_current()
    stored = system_config.current(DynamoSystemConfigStore(api.table))
    assert system_config.with_integrations(repository, stored)["notification_channels"] == ["email"]
    api.repository("acme/model")
    configured = api.client.put(
        "/api/v1/repositories/acme/model/config",
        headers=admin,
        json={"notification_channels": ["slack"], "slack_webhook_url": "https://hooks.slack.com/x"},
    )
    assert configured.status_code == 200
    shown = api.client.get("/api/v1/config", headers=admin).json()["integrations"]["slack"]
    assert shown == {"enabled": False, "channels_configured": 1}


# ------------------------------------------------------------------------------ API keys over HTTP


def test_admins_create_list_and_revoke_api_keys_of_their_tenant(api: Api) -> None:
    admin = api.key("admin")
    created = api.client.post("/api/v1/api-keys", headers=admin, json={"name": "monitoring", "permissions": "read"})
    assert created.status_code == 201
    issued = created.json()
    assert issued["key"].startswith("mlb_") and issued["permissions"] == ["read"]
    new_key = {"authorization": f"Bearer {issued['key']}"}
    assert api.client.get("/api/v1/issues", headers=new_key).status_code == 200
    listed = api.client.get("/api/v1/api-keys", headers=admin).json()
    assert issued["id"] in {k["id"] for k in listed["api_keys"]}
    assert "mlb_" not in str(listed)  # never the key again
    assert api.client.get("/api/v1/api-keys", headers=new_key).status_code == 403  # read keys manage nothing
    other_admin = api.key("admin", tenant="tenant-b")
    assert api.client.delete(f"/api/v1/api-keys/{issued['id']}", headers=other_admin).status_code == 404
    revoked = api.client.delete(f"/api/v1/api-keys/{issued['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert api.client.get("/api/v1/issues", headers=new_key).status_code == 401
