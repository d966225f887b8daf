"""`GET /dashboard`: the page, its assets, its security headers, and the routes its script calls."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mlops_bot.api.app import create_app
from mlops_bot.api.dashboard_page import STATIC, router


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app()
    app.include_router(router)
    with TestClient(app) as test_client:
        yield test_client


def test_the_page_is_served_with_a_policy_that_allows_no_inline_or_foreign_script(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "connect-src 'self' ws://testserver wss://testserver" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script for the policy to allow
    assert '<meta name="mlops-bot-websocket" content="">' in page.text  # same host: /ws/dashboard


def test_a_configured_websocket_api_is_named_in_the_page_and_allowed_by_the_policy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_DASHBOARD_WEBSOCKET_URL", 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod"><b>')
    page = client.get("/dashboard")
    assert 'content="wss://abc.execute-api.eu-west-1.amazonaws.com/prod&quot;&gt;&lt;b&gt;"' in page.text
    assert "wss://abc.execute-api.eu-west-1.amazonaws.com" in page.headers["content-security-policy"]


def test_assets_are_served_and_anything_else_is_not_found(client: TestClient) -> None:
    script = client.get("/dashboard/dashboard.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/dashboard/dashboard.css").headers["content-type"].startswith("text/css")
    missing = client.get("/dashboard/..%2Fapp.py")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


def test_the_script_only_calls_routes_the_api_has_and_never_writes_html(client: TestClient) -> None:
    script = (STATIC / "dashboard.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    called = set(re.findall(r'api\(\s*[`"](/[^`"?$]+)', script))
    assert called >= {"/api/v1/issues", "/api/v1/repositories", "/api/v1/analytics", "/api/cluster/status"}
    paths = set(client.get("/openapi.json").json()["paths"])
    # `/api/v1/api-keys/${id}` is captured up to its parameter: a route with a parameter there must exist.
    fixed, parameterised = {c for c in called if not c.endswith("/")}, {c for c in called if c.endswith("/")}
    assert fixed <= paths
    assert all(any(p.startswith(c + "{") for p in paths) for c in parameterised), parameterised
