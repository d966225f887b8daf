"""The webhook under hostile input: each answered with the right 4xx, nothing stored or queued."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from mlops_bot.webhooks.signature import sign
from tests.integration.conftest import WEBHOOK_SECRET, lambda_context, load_handler
from tests.integration.test_webhook_ingress import FAILED_RUN, webhook
from tests.support.aws import MockState


@pytest.fixture
def ingress(aws: MockState) -> Any:
    return load_handler("webhook_ingress")


def stored_items(aws: MockState) -> int:
    return int(boto3.client("dynamodb").scan(TableName=aws.table_name, Select="COUNT")["Count"])


def answer(ingress: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = ingress.handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("name", "raw", "status"),
    [
        ("truncated", json.dumps(FAILED_RUN).encode()[:-7], 400),
        ("invalid utf-8", b'{"repository": {"full_name": "a/b\xff\xfe"}}', 400),
        ("deeply nested", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, 400),
        ("nul bytes", b"\x00" * 64, 400),
        ("empty", b"", 400),
        ("number", b"42", 400),
        ("huge string field", json.dumps({**FAILED_RUN, "pad": "x" * 27_000_000}).encode(), 413),
    ],
)
def test_hostile_bodies_get_a_4xx_and_leave_no_trace(
    ingress: Any, aws: MockState, name: str, raw: bytes, status: int
) -> None:
    code, body = answer(ingress, webhook(None, raw=raw, event="workflow_run", base64_body=True))
    assert code == status, name
    assert body["error"]["request_id"]
    assert stored_items(aws) == 0
    assert aws.messages("EventsQueue") == []


def test_a_replayed_signature_over_a_changed_body_is_refused(ingress: Any, aws: MockState) -> None:
    original = json.dumps(FAILED_RUN).encode()
    tampered = json.dumps({**FAILED_RUN, "workflow_run": {**FAILED_RUN["workflow_run"], "conclusion": "success"}})
    event = webhook(None, raw=tampered.encode(), headers={"X-Hub-Signature-256": sign(WEBHOOK_SECRET, original)})
    assert answer(ingress, event)[0] == 401
    assert stored_items(aws) == 0


def test_huge_and_odd_headers_do_not_break_admission(ingress: Any, aws: MockState) -> None:
    event = webhook(FAILED_RUN, headers={"X-Padding": "y" * 60_000, "X-GitHub-Delivery": "d" * 200})
    code, body = answer(ingress, event)
    assert code == 400 and "X-GitHub-Delivery" in body["error"]["details"]
    code, _ = answer(ingress, webhook(FAILED_RUN, headers={"X-GitHub-Event": "workflow_run\r\nX-Evil: 1"}))
    assert code == 422
    assert stored_items(aws) == 0


def test_dynamodb_throttling_answers_5xx_and_the_redelivery_recovers(ingress: Any, aws: MockState) -> None:
    from unittest import mock

    from botocore.exceptions import ClientError

    throttled = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
    )
    delivery = str(uuid.uuid4())
    with mock.patch("mlops_bot.adapters.dynamodb.StateTable.put_new", side_effect=throttled):
        code, body = answer(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert code == 500 and body["error"]["code"] == "INTERNAL_ERROR"
    assert "slow down" not in json.dumps(body)  # no internals to the caller
    assert aws.messages("EventsQueue") == []  # never a 2xx for an event that was not stored
    code, body = answer(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert code == 202
    [queued] = aws.messages("EventsQueue")
    assert queued["delivery_id"] == delivery
