"""The running stack's public port as an attacker sees it: no WebSocket management endpoint, and
every refusal of the gateway in the spec's error format."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from mlops_bot.local.stack import LocalStack


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
