"""The detector consuming SQS batches: records, incidents, partial batch failures."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.integration.conftest import lambda_context, load_handler
from tests.support.aws import MockState


def queued_event(delivery: str, conclusion: str = "failure", run_id: int = 42, **extra: Any) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tenant_id": "default",
        "delivery_id": delivery,
        "execution_id": f"exec-{delivery}",
        "event": "workflow_run",
        "action": "completed",
        "received_at": f"2026-11-25T09:00:00.{delivery[-6:].zfill(6)}Z",
        "repository": "acme/model",
        "workflow_run": {
            "id": run_id,
            "name": "CI",
            "conclusion": conclusion,
            "head_branch": "main",
            "head_sha": "abc",
            "run_attempt": 1,
        },
        **extra,
    }


def batch(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"rh{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.fixture
def detector(aws: MockState) -> Any:
    enroll_repository(DynamoRepositoryStore(StateTable(aws.table_name)), "default", "acme/model", source="test")
    return load_handler("detector")


def test_failed_run_opens_one_incident_and_queues_it_for_healing(detector: Any, aws: MockState) -> None:
    result = detector.handler(batch(queued_event("000001")), lambda_context())
    assert result == {"batchItemFailures": []}
    table = StateTable(aws.table_name)
    incident = table.get(keys.incident_key("default", keys.incident_id_for_run("acme/model", 42)))
    assert incident is not None
    assert incident["type"] == "pipeline_failure"
    assert incident["status"] == "open"
    assert incident["timeline"][0]["event"] == "issue_detected"
    assert incident["metadata"]["run_id"] == 42
    [healing] = aws.messages("HealingQueue")
    assert healing["incident_id"] == incident["id"]
    repo = table.get(keys.repository_key("default", "acme/model"))
    assert repo is not None and repo["total_events"] == 1 and repo["issues_detected"] == 1


def test_the_same_failure_seen_again_updates_the_incident(detector: Any, aws: MockState) -> None:
    detector.handler(batch(queued_event("000001")), lambda_context())
    detector.handler(batch(queued_event("000002")), lambda_context())  # a re-run failing again
    table = StateTable(aws.table_name)
    incidents = table.query(keys.incidents_index("default"), by_index=True)
    assert len(incidents) == 1
    assert incidents[0]["occurrences"] == 2
    assert [t["event"] for t in incidents[0]["timeline"]] == ["issue_detected", "failure_repeated"]
    assert len(aws.messages("HealingQueue")) == 1


def test_a_message_delivered_twice_by_sqs_counts_once(detector: Any, aws: MockState) -> None:
    detector.handler(batch(queued_event("000001", conclusion="success")), lambda_context())
    detector.handler(batch(queued_event("000001", conclusion="success")), lambda_context())
    repo = StateTable(aws.table_name).get(keys.repository_key("default", "acme/model"))
    assert repo is not None and repo["total_events"] == 1


def test_successful_runs_are_recorded_without_an_incident(detector: Any, aws: MockState) -> None:
    detector.handler(batch(queued_event("000003", conclusion="success")), lambda_context())
    table = StateTable(aws.table_name)
    assert table.query(keys.incidents_index("default"), by_index=True) == []
    events = table.query(keys.repository_events_pk("default", "acme/model"), "EVENT#")
    assert events[0]["summary"]["conclusion"] == "success"


def test_events_are_kept_for_the_deployments_ttl(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_EVENT_TTL_DAYS", "3")
    enroll_repository(DynamoRepositoryStore(StateTable(aws.table_name)), "default", "acme/model", source="test")
    detector = load_handler("detector")
    detector.handler(batch(queued_event("000006", conclusion="success")), lambda_context())
    [event] = StateTable(aws.table_name).query(keys.repository_events_pk("default", "acme/model"), "EVENT#")
    days = (int(event["expires_at"]) - time.time()) / 86_400
    assert 2.9 < days <= 3.0


def test_a_poison_message_fails_alone(detector: Any, aws: MockState) -> None:
    result = detector.handler(
        batch(queued_event("000004"), "{not json", {"unexpected": "shape"}, queued_event("000005", run_id=43)),
        lambda_context(),
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert len(StateTable(aws.table_name).query(keys.incidents_index("default"), by_index=True)) == 2
