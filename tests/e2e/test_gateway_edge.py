"""The running stack's public edge as an attacker (or a retrying GitHub) sees it: no WebSocket
management endpoint, every refusal in the spec's error format, copies of a delivery cost nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from mlops_bot.local.stack import LocalStack
from tests.support.webhooks import post_webhook, workflow_run


def test_the_websocket_management_endpoint_is_unreachable_on_the_public_port(stack: LocalStack) -> None:
    management = urlsplit(stack.websocket_endpoint)
    assert management.port != stack.config.port and management.hostname == "127.0.0.1"
    for method in ("GET", "POST", "DELETE"):
        answer = httpx.request(method, f"{stack.url}{management.path}/@connections/someone", content=b"{}")
        assert answer.status_code == 404
        assert set(answer.json()["error"]) >= {"code", "message", "details", "request_id", "timestamp"}
    # The functions' own endpoint (loopback only) is there: an unknown connection is API Gateway's 410.
    assert httpx.get(f"{stack.websocket_endpoint}/@connections/someone").status_code == 410


def test_a_method_the_gateway_does_not_route_is_405_with_allow(stack: LocalStack) -> None:
    answer = httpx.request("TRACE", f"{stack.url}/webhooks/github")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in answer.headers["allow"]


def test_concurrent_copies_of_a_delivery_are_accepted_once_over_http(stack: LocalStack) -> None:
    delivery = str(uuid.uuid4())
    payload = workflow_run(9_100_001, "acme/edge-copies", conclusion="success")
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: post_webhook(stack, payload, delivery=delivery), range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 202]
    assert len({a.json()["execution_id"] for a in answers}) == 1


def test_a_repository_name_github_would_refuse_is_400_over_http(stack: LocalStack) -> None:
    answer = post_webhook(stack, workflow_run(9_100_002, "../../etc"))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_REQUEST"
