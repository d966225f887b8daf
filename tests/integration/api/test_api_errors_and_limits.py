"""The cross-cutting promises: one error format everywhere, rate limits per tenant and category."""

from __future__ import annotations

import pytest

from mlops_bot.api import repositories as repositories_routes
from mlops_bot.management.platform.settings import reset_management_settings
from mlops_bot.storage import keys
from tests.integration.api.conftest import Api

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-window")


def test_unknown_routes_and_methods_use_the_spec_error_format(api: Api) -> None:
    missing = api.client.get("/api/v1/nowhere", headers=api.key())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = api.client.delete("/api/v1/issues", headers=api.key())
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_validation_errors_list_every_field_in_the_spec_format(api: Api) -> None:
    api.repository("acme/model")
    response = api.client.put(
        "/api/v1/repositories/acme/model/config",
        headers=api.key(),
        json={"detection_sensitivity": "extreme", "notification_channels": ["pager"]},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert {f["loc"] for f in error["fields"]} == {"body.detection_sensitivity", "body.notification_channels.0"}
    assert error["request_id"] and error["timestamp"]


def test_a_body_that_is_not_json_is_an_invalid_request(api: Api) -> None:
    api.repository("acme/model")
    response = api.client.put(
        "/api/v1/repositories/acme/model/config",
        headers={**api.key(), "content-type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


def test_an_unexpected_failure_answers_internal_error_without_a_stack_trace(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(repositories_routes.service, "list_repositories", explode)
    response = api.client.get("/api/v1/repositories", headers=api.key())
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


def test_the_caller_request_id_is_echoed(api: Api) -> None:
    response = api.client.get("/api/v1/issues", headers={"x-request-id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    assert response.json()["error"]["request_id"] == "req-42"


def test_management_responses_carry_rate_limit_headers(api: Api) -> None:
    headers = api.key()
    first = api.client.get("/api/v1/issues", headers=headers)
    second = api.client.get("/api/v1/issues", headers=headers)
    for name in RATE_HEADERS:
        assert name in first.headers
    assert first.headers["x-ratelimit-limit"] == "1000"
    assert first.headers["x-ratelimit-window"] == "60"
    assert int(second.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1


def test_health_checks_are_not_rate_limited(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers


def test_the_analytics_limit_answers_429_with_retry_after_for_that_tenant_only(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_ANALYTICS_RATE_LIMIT", "2")
    reset_management_settings()
    mine, theirs = api.key("read"), api.key("read", tenant="tenant-b")
    assert api.client.get("/api/v1/analytics", headers=mine).status_code == 200
    assert api.client.get("/api/v1/analytics", headers=mine).status_code == 200
    limited = api.client.get("/api/v1/analytics", headers=mine)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert 0 < error["retry_after"] <= 60
    assert limited.headers["retry-after"] == str(error["retry_after"])
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-limit"] == "2"
    # management routes count separately, and other tenants have their own window
    assert api.client.get("/api/v1/issues", headers=mine).status_code == 200
    assert api.client.get("/api/v1/analytics", headers=theirs).status_code == 200


def test_the_rate_limit_counter_is_shared_through_the_table(api: Api) -> None:
    headers = api.key()
    api.client.get("/api/v1/issues", headers=headers)
    windows = [
        item
        for item in api.table.table.scan()["Items"]
        if str(item["pk"]).startswith(f"{keys.tenant_pk('default')}#RATE#api:management#")
    ]
    assert len(windows) == 1
    assert int(windows[0]["count"]) == 1
    assert "expires_at" in windows[0]


def test_the_configured_management_limit_applies(api: Api) -> None:
    admin = api.key()
    updated = api.client.put("/api/v1/config", headers=admin, json={"limits": {"rate_limit_per_minute": 3}})
    assert updated.status_code == 200
    assert updated.json()["restart_required"] is False
    reader = api.key("read", tenant="tenant-c")
    answers = [api.client.get("/api/v1/issues", headers=reader).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
