"""The management API on the running local stack, over HTTP, as an operator drives it."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.cli import main
from mlops_bot.clock import iso, utc_now
from mlops_bot.local.stack import LocalStack
from mlops_bot.storage import keys
from mlops_bot.webhooks.models import RepositoryEvent
from tests.e2e.conftest import ADMIN_KEY, eventually
from tests.support.webhooks import post_webhook, workflow_run

ADMIN = {"authorization": f"Bearer {ADMIN_KEY}"}


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _failed_run(stack: LocalStack, run_id: int, repository: str = "acme/e2e-mgmt") -> str:
    response = post_webhook(stack, workflow_run(run_id, repository, branch="dev"))
    assert response.status_code == 202
    return keys.incident_id_for_run(repository, run_id)


def test_a_cli_key_reads_with_rate_limit_headers_and_cannot_write(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = _cli(capsys, "generate-api-key", "--name", "e2e-reader", "--permissions", "read")
    reader = {"authorization": f"Bearer {issued['key']}"}
    listing = httpx.get(f"{stack.url}/api/v1/issues", headers=reader)
    assert listing.status_code == 200
    assert listing.headers["x-ratelimit-limit"] == "1000"
    assert int(listing.headers["x-ratelimit-remaining"]) < 1000
    denied = httpx.post(f"{stack.url}/api/v1/issues/inc-x/resolve", headers=reader, json={})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "FORBIDDEN"
    _cli(capsys, "revoke-api-key", "--id", issued["id"])
    assert httpx.get(f"{stack.url}/api/v1/issues", headers=reader).status_code == 401


def test_a_user_logs_in_and_uses_the_access_token(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("e2e password that is long\n"))
    _cli(capsys, "create-user", "--username", "ops@e2e.example", "--role", "write", "--password-stdin")
    login = httpx.post(
        f"{stack.url}/auth/login", json={"username": "ops@e2e.example", "password": "e2e password that is long"}
    )
    assert login.status_code == 200
    tokens = login.json()
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{stack.url}/api/v1/playbooks", headers=bearer).json()["total"] == 5
    refreshed = httpx.post(f"{stack.url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    assert httpx.post(f"{stack.url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_manual_resolution_reaches_the_healer(stack: LocalStack) -> None:
    incident_id = _failed_run(stack, 7101)
    path = f"{stack.url}/api/v1/issues/{incident_id}"
    eventually(lambda: httpx.get(path, headers=ADMIN).status_code == 200)
    response = httpx.post(f"{path}/resolve", headers=ADMIN, json={"action": "open_issue", "force": True})
    assert response.status_code == 202
    execution_id = response.json()["execution_id"]
    timeline = httpx.get(path, headers=ADMIN).json()["timeline"]
    assert any(e["event"] == "manual_heal_requested" and execution_id in e.get("details", "") for e in timeline)
    sfn = stack.client("stepfunctions")
    machine = stack.physical["PipelineFixStateMachine"]["Ref"]
    started = eventually(
        lambda: [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if execution_id in e["name"]],
        timeout=60,
    )
    assert len(started) == 1


def test_cluster_status_and_dead_letter_redrive(stack: LocalStack) -> None:
    status = httpx.get(f"{stack.url}/api/cluster/status", headers=ADMIN)
    assert status.status_code == 200
    body = status.json()
    roles = {n["role"] for n in body["nodes"]}
    assert {"ingress", "queue_consumer", "playbook_worker", "scheduler"} <= roles
    assert body["healthy_nodes"] == body["total_nodes"]
    assert {q["role"] for q in body["queues"]} == {"events", "healing"}

    delivery = f"redrive-{uuid.uuid4()}"
    event = RepositoryEvent(
        tenant_id="default",
        delivery_id=delivery,
        execution_id=str(uuid.uuid4()),
        event="push",
        received_at=iso(utc_now()),
        repository="acme/e2e-redrive",
        ref="refs/heads/dev",
    )
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url("EventsDeadLetterQueue"), MessageBody=event.model_dump_json())
    rebalance = httpx.post(f"{stack.url}/api/cluster/rebalance", headers=ADMIN, json={}, timeout=30)
    assert rebalance.status_code == 202
    assert rebalance.json()["total_moved"] == 1
    table = StateTable(stack.table_name())
    recorded = eventually(
        lambda: [
            e
            for e in table.query(keys.repository_events_pk("default", "acme/e2e-redrive"), "EVENT#")
            if e["delivery_id"] == delivery
        ],
        timeout=60,
    )
    assert len(recorded) == 1


def test_a_compliance_audit_is_signed_with_the_stack_key(stack: LocalStack) -> None:
    created = httpx.post(f"{stack.url}/api/compliance/audits", headers=ADMIN, json={"standard": "gdpr"}, timeout=30)
    assert created.status_code == 201
    audit: dict[str, Any] = created.json()
    assert audit["signing_key_id"] == stack.physical["ComplianceSigningKey"]["Ref"]
    assert _check_passed(audit, "data_retention")  # the template's table expires items on `expires_at`
    verified = httpx.get(f"{stack.url}/api/compliance/audits/verify", headers=ADMIN).json()
    assert verified["verified"] is True


def _check_passed(audit: dict[str, Any], name: str) -> bool:
    return any(c["check"] == name and c["status"] == "pass" for c in audit["checks"])


def test_metrics_analytics_and_openapi_over_http(stack: LocalStack) -> None:
    _failed_run(stack, 7102)
    metrics = eventually(
        lambda: (
            (r := httpx.get(f"{stack.url}/metrics", headers=ADMIN)).status_code == 200
            and "bot_issues_detected_total{" in r.text
            and r.text
        )
    )
    assert 'repo="acme/e2e-mgmt"' in metrics
    analytics = httpx.get(f"{stack.url}/api/v1/analytics", headers=ADMIN, params={"period": "1h"})
    assert analytics.status_code == 200
    assert analytics.json()["summary"]["total_events"] >= 1
    document = httpx.get(f"{stack.url}/openapi.json").json()
    assert "/api/cluster/rebalance" in document["paths"]
    assert httpx.get(f"{stack.url}/docs").status_code == 200
