"""The webhook ingress as an edge, against moto: duplicates cost nothing, poison never gets in."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from mlops_bot.storage import keys
from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_webhook_ingress import FAILED_RUN, webhook
from tests.support.aws import MockState


@pytest.fixture
def ingress(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MLOPS_BOT_WEBHOOK_RATE_LIMIT", "2")
    return load_handler("webhook_ingress")


def answer(ingress: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = ingress.handler(event, lambda_context())
    return response["statusCode"], json.loads(response["body"])


def table_items(aws: MockState) -> list[dict[str, Any]]:
    return list(boto3.resource("dynamodb").Table(aws.table_name).scan()["Items"])


def test_concurrent_copies_of_one_delivery_spend_the_rate_budget_once(ingress: Any, aws: MockState) -> None:
    copy = webhook(FAILED_RUN, delivery=str(uuid.uuid4()))
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: answer(ingress, copy), range(5)))
    assert sorted(code for code, _ in answers) == [200, 200, 200, 200, 202]
    assert len({body["execution_id"] for _, body in answers}) == 1
    assert {body["status"] for code, body in answers if code == 200} == {"duplicate"}
    assert len(aws.messages("EventsQueue")) == 1
    # The repository's budget is 2 per window: the copies spent one, so a real delivery still gets in.
    assert answer(ingress, webhook(FAILED_RUN))[0] == 202
    code, body = answer(ingress, webhook(FAILED_RUN))
    assert code == 429 and body["error"]["code"] == "RATE_LIMITED"


def test_a_rate_limited_delivery_is_not_recorded_as_seen(ingress: Any, aws: MockState) -> None:
    answer(ingress, webhook(FAILED_RUN))
    answer(ingress, webhook(FAILED_RUN))
    refused = str(uuid.uuid4())
    assert answer(ingress, webhook(FAILED_RUN, delivery=refused))[0] == 429
    stored = boto3.resource("dynamodb").Table(aws.table_name).get_item(Key=keys.delivery_key("default", refused))
    assert "Item" not in stored  # its redelivery, in the next window, is admitted rather than called a duplicate


@pytest.mark.parametrize(
    "full_name",
    ["../../x", "", "acme/mo#del", "acme/mo\u0007del", "acme/..", "acme", "acme/" + "m" * 101, "a" * 40 + "/m"],
)
def test_a_repository_name_github_would_refuse_is_400_and_never_enrolled(
    ingress: Any, aws: MockState, full_name: str
) -> None:
    code, body = answer(ingress, webhook({**FAILED_RUN, "repository": {"full_name": full_name}}))
    assert code == 400 and body["error"]["code"] == "INVALID_REQUEST"
    assert "repository.full_name" in body["error"]["details"]
    assert table_items(aws) == []
    assert aws.messages("EventsQueue") == []


@pytest.mark.parametrize(
    "number",
    [
        '"installation": {"id": 18446744073709551616}',
        '"installation": {"id": 10000000000000000000000000000000000000000}',
        '"installation": {"id": 9223372036854775808}',
        '"installation": {"id": ' + "9" * 5000 + "}",
    ],
)
def test_ids_beyond_64_bits_are_400_at_ingress_not_a_poison_message(ingress: Any, aws: MockState, number: str) -> None:
    raw = json.dumps(FAILED_RUN).replace('"action": "completed"', f'"action": "completed", {number}').encode()
    code, body = answer(ingress, webhook(None, raw=raw))
    assert code == 400 and body["error"]["code"] == "INVALID_REQUEST"
    assert table_items(aws) == []
    assert aws.messages("EventsQueue") == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused_in_the_spec_format(ingress: Any, aws: MockState, literal: str) -> None:
    raw = json.dumps(FAILED_RUN).replace('"run_attempt": 1', f'"run_attempt": 1, "score": {literal}').encode()
    code, body = answer(ingress, webhook(None, raw=raw))
    assert code == 422
    assert set(body["error"]) >= {"code", "message", "details", "request_id", "timestamp"}
    assert table_items(aws) == []


def test_an_oversized_field_is_refused_before_it_reaches_the_queue(ingress: Any, aws: MockState) -> None:
    run = {**FAILED_RUN["workflow_run"], "name": "n" * 300_000}
    code, body = answer(ingress, webhook({**FAILED_RUN, "workflow_run": run}))
    assert code == 400 and "workflow_run.name" in body["error"]["details"]
    assert aws.messages("EventsQueue") == []
