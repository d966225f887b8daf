"""The webhook ingress handler against moto: every answer GitHub can get, and exactly-once queueing."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from unittest import mock

import boto3
import pytest

from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.webhooks.signature import sign
from tests.integration.conftest import WEBHOOK_SECRET, lambda_context, load_handler
from tests.support.aws import MockState

FAILED_RUN = {
    "action": "completed",
    "workflow_run": {
        "id": 42,
        "name": "CI",
        "conclusion": "failure",
        "status": "completed",
        "head_branch": "main",
        "head_sha": "abc123",
        "run_attempt": 1,
    },
    "repository": {"full_name": "acme/model"},
    "sender": {"login": "dana"},
}


def webhook(
    payload: Any,
    event: str = "workflow_run",
    delivery: str | None = None,
    secret: str = WEBHOOK_SECRET,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    body = raw if raw is not None else json.dumps(payload).encode()
    all_headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }
    all_headers.update(headers or {})
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/github",
        "rawPath": "/webhooks/github",
        "headers": {k: v for k, v in all_headers.items() if v is not None},
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8", "replace"),
        "isBase64Encoded": base64_body,
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/github"}, "requestId": "r1"},
    }


@pytest.fixture
def ingress(aws: MockState) -> Any:
    return load_handler("webhook_ingress")


def call(ingress: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = ingress.handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


def test_signed_failed_run_is_accepted_and_queued_once(ingress: Any, aws: MockState) -> None:
    status, body = call(ingress, webhook(FAILED_RUN))
    assert status == 202
    assert body["status"] == "accepted"
    assert body["message"] == "Webhook processed successfully"
    uuid.UUID(body["execution_id"])
    [queued] = aws.messages("EventsQueue")
    assert queued["execution_id"] == body["execution_id"]
    assert queued["tenant_id"] == "default"
    assert queued["workflow_run"]["conclusion"] == "failure"


def test_redelivery_answers_with_the_first_execution_id_and_queues_nothing(ingress: Any, aws: MockState) -> None:
    delivery = str(uuid.uuid4())
    first_status, first = call(ingress, webhook(FAILED_RUN, delivery=delivery))
    again_status, again = call(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert first_status == 202
    assert again_status == 200
    assert again["execution_id"] == first["execution_id"]
    assert len(aws.messages("EventsQueue")) == 1


def test_delivery_record_has_a_ttl(ingress: Any, aws: MockState) -> None:
    delivery = str(uuid.uuid4())
    call(ingress, webhook(FAILED_RUN, delivery=delivery))
    item = boto3.resource("dynamodb").Table(aws.table_name).get_item(Key=keys.delivery_key("default", delivery))
    assert int(item["Item"]["expires_at"]) > 0
    assert item["Item"]["status"] == "queued"


def test_the_delivery_ttl_is_the_deployments(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_DELIVERY_TTL_DAYS", "2")
    ingress = load_handler("webhook_ingress")
    delivery = str(uuid.uuid4())
    call(ingress, webhook(FAILED_RUN, delivery=delivery))
    item = boto3.resource("dynamodb").Table(aws.table_name).get_item(Key=keys.delivery_key("default", delivery))
    days = (int(item["Item"]["expires_at"]) - time.time()) / 86_400
    assert 1.9 < days <= 2.0


def test_a_queue_outage_is_not_lost_the_redelivery_sends_it(ingress: Any, aws: MockState) -> None:
    delivery = str(uuid.uuid4())
    with mock.patch("mlops_bot.adapters.sqs.Queue.send", side_effect=RuntimeError("SQS unavailable")):
        status, body = call(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert status == 500
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert aws.messages("EventsQueue") == []
    status, body = call(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert status == 202
    [queued] = aws.messages("EventsQueue")
    assert queued["execution_id"] == body["execution_id"]


def test_ping_answers_200(ingress: Any, aws: MockState) -> None:
    status, body = call(ingress, webhook({"zen": "Design for failure.", "hook_id": 1}, event="ping"))
    assert status == 200
    assert body["status"] == "pong"
    assert aws.messages("EventsQueue") == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"secret": "wrong-secret"},
        {"headers": {"X-Hub-Signature-256": None}},
        {"headers": {"X-Hub-Signature-256": "sha256=deadbeef"}},
    ],
)
def test_bad_or_missing_signature_is_401(ingress: Any, aws: MockState, overrides: dict[str, Any]) -> None:
    status, body = call(ingress, webhook(FAILED_RUN, **overrides))
    assert status == 401
    assert body["error"]["code"] == "UNAUTHORIZED"
    assert body["error"]["request_id"]
    assert aws.messages("EventsQueue") == []


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_github_headers_are_400(ingress: Any, aws: MockState, missing: str) -> None:
    status, body = call(ingress, webhook(FAILED_RUN, headers={missing: None}))
    assert status == 400
    assert body["error"]["code"] == "INVALID_REQUEST"
    assert missing in body["error"]["details"]


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        (b"not json at all", "push"),
        (b"[1, 2, 3]", "push"),
        (json.dumps({"action": "completed", "repository": {"full_name": "a/b"}}).encode(), "workflow_run"),
        (
            json.dumps({"workflow_run": {"id": "not-a-number"}, "repository": {"full_name": "a/b"}}).encode(),
            "workflow_run",
        ),
        (json.dumps({"ref": "refs/heads/main"}).encode(), "push"),
    ],
)
def test_malformed_bodies_are_400(ingress: Any, aws: MockState, raw: bytes, event: str) -> None:
    status, body = call(ingress, webhook(None, raw=raw, event=event))
    assert status == 400
    assert body["error"]["code"] == "INVALID_REQUEST"


def test_base64_bodies_from_api_gateway_are_verified_over_the_raw_bytes(ingress: Any, aws: MockState) -> None:
    status, _ = call(ingress, webhook(FAILED_RUN, base64_body=True))
    assert status == 202


def test_payload_over_githubs_25_mb_limit_is_413(ingress: Any, aws: MockState) -> None:
    raw = json.dumps({"repository": {"full_name": "a/b"}, "pad": "x" * (25 * 1024 * 1024)}).encode()
    status, body = call(ingress, webhook(None, raw=raw, event="push"))
    assert status == 413
    assert body["error"]["request_id"]


def test_the_deployments_body_limit_and_rate_window_apply(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLOPS_BOT_MAX_WEBHOOK_BYTES and MLOPS_BOT_WEBHOOK_RATE_WINDOW_SECONDS, not only their defaults."""
    monkeypatch.setenv("MLOPS_BOT_MAX_WEBHOOK_BYTES", "2048")
    monkeypatch.setenv("MLOPS_BOT_WEBHOOK_RATE_WINDOW_SECONDS", "600")
    ingress = load_handler("webhook_ingress")
    raw = json.dumps({"repository": {"full_name": "a/b"}, "pad": "x" * 4096}).encode()
    assert call(ingress, webhook(None, raw=raw, event="push"))[0] == 413
    accepted = ingress.handler(webhook(FAILED_RUN), lambda_context())
    assert accepted["statusCode"] == 202
    assert accepted["headers"]["X-RateLimit-Window"] == "600"


def test_an_event_the_bot_does_not_handle_is_422(ingress: Any, aws: MockState) -> None:
    status, body = call(ingress, webhook({"repository": {"full_name": "a/b"}}, event="star"))
    assert status == 422
    assert body["error"]["code"] == "VALIDATION_FAILED"


def test_rate_limit_per_repository_is_429_with_retry_after(
    ingress: Any, aws: MockState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_WEBHOOK_RATE_LIMIT", "2")
    ingress = load_handler("webhook_ingress")
    assert call(ingress, webhook(FAILED_RUN))[0] == 202
    assert call(ingress, webhook(FAILED_RUN))[0] == 202
    response = ingress.handler(webhook(FAILED_RUN), lambda_context())
    assert response["statusCode"] == 429
    assert int(response["headers"]["retry-after"]) > 0
    assert json.loads(response["body"])["error"]["code"] == "RATE_LIMITED"
    other = {**FAILED_RUN, "repository": {"full_name": "acme/other"}}
    assert call(ingress, webhook(other))[0] == 202


def test_unknown_repository_is_ignored_when_auto_enrolment_is_off(
    aws: MockState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_AUTO_ENROLL", "false")
    ingress = load_handler("webhook_ingress")
    status, body = call(ingress, webhook(FAILED_RUN))
    assert status == 202
    assert body["status"] == "ignored"
    assert aws.messages("EventsQueue") == []


def test_installation_routes_events_to_its_tenant(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops_bot.adapters.dynamodb import StateTable
    from mlops_bot.tenancy.service import register_installation

    monkeypatch.setenv("MLOPS_BOT_AUTO_ENROLL", "false")
    register_installation(DynamoRepositoryStore(StateTable(aws.table_name)), "team-vision", 777)
    ingress = load_handler("webhook_ingress")
    status, _ = call(ingress, webhook({**FAILED_RUN, "installation": {"id": 777}}))
    assert status == 202
    [queued] = aws.messages("EventsQueue")
    assert queued["tenant_id"] == "team-vision"
    repo = StateTable(aws.table_name).get(keys.repository_key("team-vision", "acme/model"))
    assert repo is not None and repo["status"] == "active"
