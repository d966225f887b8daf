"""The local gateway is an edge too: only the template's routes on the public port, refusals in the
spec's error format, and API Gateway's WebSocket management endpoint on a listener of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlops_bot.local.gateway import create_gateway, create_management_endpoint
from mlops_bot.local.runtime import LocalFunctions
from mlops_bot.local.template import Route, Template
from mlops_bot.local.websocket import LocalWebSocketApi, websocket_apis

ROOT = Path(__file__).resolve().parents[2]
SPEC_ERROR_FIELDS = {"code", "message", "details", "request_id", "timestamp"}


@pytest.fixture(scope="module")
def gateway() -> tuple[TestClient, TestClient]:
    template = Template.load(ROOT / "template.yaml")
    functions = LocalFunctions(template.functions(), "test", "us-east-1", "123456789012")
    sockets = [
        LocalWebSocketApi(spec, functions, stage="local", path="/ws/dashboard") for spec in websocket_apis(template)
    ]
    extra = [route for api in sockets for route in api.starlette_routes()]
    public = TestClient(create_gateway(template.http_routes(), functions, extra))
    management = TestClient(create_management_endpoint(extra))
    return public, management


def assert_spec_error(answer: object, status: int, code: str) -> None:
    from httpx import Response

    assert isinstance(answer, Response)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert set(error) >= SPEC_ERROR_FIELDS and error["code"] == code
    assert answer.headers["x-request-id"] == error["request_id"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_the_websocket_management_endpoint_is_not_served_on_the_public_port(
    gateway: tuple[TestClient, TestClient], method: str
) -> None:
    public, _ = gateway
    answer = public.request(method, "/_websocket/local/@connections/anyone", content=b'{"type": "x"}')
    assert_spec_error(answer, 404, "NOT_FOUND")


def test_the_management_endpoint_answers_on_its_own_listener(gateway: tuple[TestClient, TestClient]) -> None:
    _, management = gateway
    answer = management.get("/_websocket/local/@connections/unknown")
    assert answer.status_code == 410  # API Gateway's GoneException: the endpoint is there, the connection is not
    assert_spec_error(management.get("/api/v1/repositories"), 404, "NOT_FOUND")


@pytest.fixture(scope="module")
def webhook_only() -> TestClient:
    """A gateway with one route (the ingress's), where the gateway itself must answer the rest."""
    template = Template.load(ROOT / "template.yaml")
    functions = LocalFunctions(template.functions(), "test", "us-east-1", "123456789012")
    return TestClient(create_gateway([Route("POST", "/webhooks/github", "WebhookIngressFunction")], functions))


def test_an_unknown_route_is_404_in_the_spec_format(webhook_only: TestClient) -> None:
    assert_spec_error(webhook_only.get("/no/such/route"), 404, "NOT_FOUND")
    assert_spec_error(webhook_only.post("/webhooks/nothing-here", content=b"{}"), 404, "NOT_FOUND")
    assert_spec_error(webhook_only.get("/"), 404, "NOT_FOUND")


def test_a_wrong_method_is_405_in_the_spec_format_with_allow(webhook_only: TestClient) -> None:
    for method in ("GET", "PUT", "DELETE", "TRACE"):
        answer = webhook_only.request(method, "/webhooks/github")
        assert_spec_error(answer, 405, "METHOD_NOT_ALLOWED")
        assert answer.headers["allow"] == "POST"
    assert_spec_error(webhook_only.request("TRACE", "/no/such/route"), 404, "NOT_FOUND")


def test_a_method_outside_the_template_is_405_listing_what_the_catch_all_allows(
    gateway: tuple[TestClient, TestClient],
) -> None:
    public, _ = gateway
    answer = public.request("TRACE", "/api/v1/repositories")
    assert_spec_error(answer, 405, "METHOD_NOT_ALLOWED")
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "POST", "PUT", "DELETE"}


def test_the_caller_request_id_is_echoed_in_gateway_errors(webhook_only: TestClient) -> None:
    answer = webhook_only.get("/no/such/route", headers={"x-request-id": "trace-me-1"})
    assert answer.json()["error"]["request_id"] == "trace-me-1"
