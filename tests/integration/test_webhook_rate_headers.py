"""Webhook answers carry X-RateLimit-* like the management API's, 429s included (issue 12)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_webhook_ingress import FAILED_RUN, webhook
from tests.support.aws import MockState


def test_webhook_answers_and_429s_carry_rate_limit_headers(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_WEBHOOK_RATE_LIMIT", "2")
    ingress: Any = load_handler("webhook_ingress")
    delivery = str(uuid.uuid4())
    first = ingress.handler(webhook(FAILED_RUN, delivery=delivery), lambda_context())
    assert first["statusCode"] == 202
    assert first["headers"]["X-RateLimit-Limit"] == "2"
    assert first["headers"]["X-RateLimit-Remaining"] == "1"
    assert int(first["headers"]["X-RateLimit-Reset"]) > 0
    assert first["headers"]["X-RateLimit-Window"] == "300"
    duplicate = ingress.handler(webhook(FAILED_RUN, delivery=delivery), lambda_context())
    assert duplicate["statusCode"] == 200
    assert duplicate["headers"]["X-RateLimit-Remaining"] == "1"  # a redelivery is not counted
    assert ingress.handler(webhook(FAILED_RUN), lambda_context())["headers"]["X-RateLimit-Remaining"] == "0"
    limited = ingress.handler(webhook(FAILED_RUN), lambda_context())
    assert limited["statusCode"] == 429
    assert limited["headers"]["X-RateLimit-Remaining"] == "0"
    assert limited["headers"]["X-RateLimit-Limit"] == "2"
    assert limited["headers"]["retry-after"]
