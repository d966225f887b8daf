"""A signed webhook in over HTTP -> queue -> detector -> DynamoDB -> healer -> Step Functions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.local.stack import LocalStack
from mlops_bot.storage import keys
from tests.e2e.conftest import ADMIN_KEY, eventually
from tests.support.webhooks import post_webhook as signed_post
from tests.support.webhooks import workflow_run


def post_webhook(
    stack: LocalStack, payload: dict[str, Any], event: str = "workflow_run", delivery: str | None = None
) -> httpx.Response:
    return signed_post(stack, payload, event, delivery)


def failed_run(run_id: int, repository: str = "acme/e2e-model") -> dict[str, Any]:
    return workflow_run(run_id, repository)


def test_health_is_ready_once_the_stack_has_started(stack: LocalStack) -> None:
    ready = httpx.get(f"{stack.url}/health/ready")
    assert ready.status_code == 200
    assert {c["status"] for c in ready.json()["components"].values()} == {"healthy"}
    assert httpx.get(f"{stack.url}/health/live").status_code == 200


def test_failed_run_is_accepted_consumed_and_healed_in_dry_run(stack: LocalStack) -> None:
    response = post_webhook(stack, failed_run(5001))
    assert response.status_code == 202
    execution_id = response.json()["execution_id"]
    table = StateTable(stack.table_name())
    incident_id = keys.incident_id_for_run("acme/e2e-model", 5001)

    def executed() -> dict[str, Any] | None:
        item = table.get(keys.incident_key("default", incident_id))
        return item if item and item.get("actions_taken") else None

    incident = eventually(executed)
    assert [t["event"] for t in incident["timeline"]] == ["issue_detected", "analysis_started", "action_executed"]
    assert incident["actions_taken"][0]["status"] == "planned"  # dry run: recorded, not written
    events = table.query(keys.repository_events_pk("default", "acme/e2e-model"), "EVENT#")
    assert any(e["execution_id"] == execution_id for e in events)
    sfn = stack.client("stepfunctions")
    arn = stack.physical["PipelineFixStateMachine"]["Ref"]
    runs = eventually(
        lambda: [
            e
            for e in sfn.list_executions(stateMachineArn=arn)["executions"]
            if e["name"].startswith(incident_id) and e["status"] == "SUCCEEDED"
        ]
    )
    assert len(runs) == 1
    audit = table.query(keys.audit_pk("default"), "AUDIT#")
    assert any(a["incident_id"] == incident_id and a["dry_run"] for a in audit)


def test_the_management_api_shows_the_incident(stack: LocalStack) -> None:
    post_webhook(stack, failed_run(5002))
    incident_id = keys.incident_id_for_run("acme/e2e-model", 5002)
    auth = {"authorization": f"Bearer {ADMIN_KEY}"}
    found = eventually(lambda: httpx.get(f"{stack.url}/api/v1/issues/{incident_id}", headers=auth).status_code == 200)
    assert found
    listing = httpx.get(f"{stack.url}/api/v1/issues", headers=auth, params={"repository": "acme/e2e-model"})
    assert incident_id in {i["id"] for i in listing.json()["issues"]}
    unauthorised = httpx.get(f"{stack.url}/api/v1/issues")
    assert unauthorised.status_code == 401
    assert unauthorised.json()["error"]["code"] == "UNAUTHORIZED"


def test_redelivery_over_http_returns_the_first_execution_id(stack: LocalStack) -> None:
    delivery = str(uuid.uuid4())
    first = post_webhook(stack, failed_run(5003), delivery=delivery)
    again = post_webhook(stack, failed_run(5003), delivery=delivery)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["execution_id"] == first.json()["execution_id"]
    table = StateTable(stack.table_name())
    incident_id = keys.incident_id_for_run("acme/e2e-model", 5003)
    incident = eventually(lambda: table.get(keys.incident_key("default", incident_id)))
    assert incident["occurrences"] == 1


def test_a_poison_message_lands_in_the_dead_letter_queue(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url("EventsQueue"), MessageBody='{"not": "an event"}')
    good = post_webhook(stack, failed_run(5004))
    assert good.status_code == 202
    dlq = stack.queue_url("EventsDeadLetterQueue")

    def dead_letters() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])

    [dead] = eventually(dead_letters, timeout=60)
    assert json.loads(dead["Body"]) == {"not": "an event"}
    table = StateTable(stack.table_name())
    assert table.get(keys.incident_key("default", keys.incident_id_for_run("acme/e2e-model", 5004)))


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/api/v1/unknown", 404)])
def test_unknown_routes_use_the_spec_error_format(stack: LocalStack, path: str, status: int) -> None:
    response = httpx.get(f"{stack.url}{path}", headers={"authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == status
    assert response.json()["error"]["code"] == "NOT_FOUND"
