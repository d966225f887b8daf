"""A signer's odd deliveries (GitHub, or whoever holds the webhook secret): a 4xx or a documented 2xx.

Never a 5xx (GitHub retries those), and never a message the detector cannot read (it would fail
on every receive and end in the dead-letter queue).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import boto3
import pytest

from mlops_bot.messages import RepositoryEvent
from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_webhook_ingress import FAILED_RUN, webhook
from tests.support.aws import MockState


@pytest.fixture
def ingress(aws: MockState) -> Any:
    return load_handler("webhook_ingress")


def answer(ingress: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = ingress.handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


def stored_items(aws: MockState) -> int:
    return int(boto3.client("dynamodb").scan(TableName=aws.table_name, Select="COUNT")["Count"])


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [40, 250, 400, 5000])
def test_a_deeply_nested_pull_request_is_400_not_a_5xx_or_a_poison_message(
    ingress: Any, aws: MockState, depth: int
) -> None:
    raw = (
        '{"action":"opened","repository":{"full_name":"acme/model"},'
        f'"pull_request":{{"number":7,"head":{nested(depth)}}}}}'
    ).encode()
    code, body = answer(ingress, webhook(None, event="pull_request", raw=raw))
    assert code == 400 and body["error"]["code"] == "INVALID_REQUEST"
    assert "nest" in body["error"]["details"]
    assert aws.messages("EventsQueue") == [] and stored_items(aws) == 0


def test_every_queued_event_is_one_the_detector_can_read(ingress: Any, aws: MockState) -> None:
    head = {"ref": "fix", "sha": "abc", "repo": {"full_name": "acme/model", "owner": {"login": "acme"}}}
    payload = {
        "action": "opened",
        "repository": {"full_name": "acme/model"},
        "pull_request": {"number": 7, "head": head},
    }
    assert answer(ingress, webhook(payload, event="pull_request"))[0] == 202
    [queued] = aws.messages("EventsQueue")
    assert RepositoryEvent.model_validate_json(json.dumps(queued)).pull_request is not None


@pytest.mark.parametrize(
    "delivery",
    ["a\nb", "x\r\nX-Evil: 1", "../../x", "TENANT#other", "caf\u00e9-1", "id with spaces", "\u202eevil"],
)
def test_a_delivery_id_github_would_never_send_is_400_and_nothing_is_stored(
    ingress: Any, aws: MockState, delivery: str
) -> None:
    code, body = answer(ingress, webhook(FAILED_RUN, delivery=delivery))
    assert code == 400 and "X-GitHub-Delivery" in body["error"]["details"]
    assert aws.messages("EventsQueue") == [] and stored_items(aws) == 0


@pytest.mark.parametrize(
    "delivery",
    [
        "f09f5083-1ae7-4dec-ad44-e220cc2e270b",
        "788F0C40-A8F2-4A32-AA0B-98DA1873692D",  # upper case, as some proxies forward it
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    ],
)
def test_githubs_delivery_ids_are_admitted(ingress: Any, aws: MockState, delivery: str) -> None:
    assert answer(ingress, webhook(FAILED_RUN, delivery=delivery))[0] == 202


def form(payload: dict[str, Any]) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def test_a_form_encoded_delivery_is_admitted_like_its_json(ingress: Any, aws: MockState) -> None:
    """GitHub's other content type: `application/x-www-form-urlencoded`, the JSON in `payload`."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    code, body = answer(ingress, webhook(None, raw=form(FAILED_RUN), headers=headers))
    assert code == 202, body
    [queued] = aws.messages("EventsQueue")
    assert queued["repository"] == "acme/model" and queued["workflow_run"]["id"] == 42


@pytest.mark.parametrize(
    "raw",
    [
        b"payload=",
        b"other=1",
        b"payload=%7B%7D&payload=%7B%7D",
        urllib.parse.urlencode({"payload": "[1,2]"}).encode(),
        urllib.parse.urlencode({"payload": nested(5000)}).encode(),
        b"payload=%ff%fe",
    ],
    ids=["empty", "no payload", "two payloads", "not an object", "deeply nested", "not utf-8"],
)
def test_a_form_encoded_delivery_without_one_json_payload_is_400(ingress: Any, aws: MockState, raw: bytes) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    code, body = answer(ingress, webhook(None, raw=raw, headers=headers, base64_body=True))
    assert code == 400 and body["error"]["request_id"]
    assert aws.messages("EventsQueue") == [] and stored_items(aws) == 0


def test_a_duplicated_key_is_read_once_and_the_queue_carries_what_was_read(ingress: Any, aws: MockState) -> None:
    """The last value wins (as in Python and JavaScript); the queued message is re-serialised, so no reader differs."""
    raw = json.dumps(FAILED_RUN).replace('"conclusion": "failure"', '"conclusion": "success", "conclusion": "failure"')
    assert answer(ingress, webhook(None, raw=raw.encode()))[0] == 202
    [queued] = aws.messages("EventsQueue")
    assert queued["workflow_run"]["conclusion"] == "failure"


@pytest.mark.parametrize("event", ["star", "workflow_run\x00", "WORKFLOW_RUN", "workflow_run ; push", "../push"])
def test_an_event_type_the_bot_does_not_handle_is_422_and_nothing_is_stored(
    ingress: Any, aws: MockState, event: str
) -> None:
    code, body = answer(ingress, webhook(FAILED_RUN, event=event))
    assert code == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    assert aws.messages("EventsQueue") == [] and stored_items(aws) == 0
