"""Paging and path parameters a tenant might tamper with: never another tenant's items, never a 5xx."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api


@pytest.fixture
def two_tenants(api: Api) -> Api:
    api.repository("acme/model", tenant="default")
    api.repository("rival/secret-model", tenant="rival")
    api.incident(tenant="rival", repository="rival/secret-model")
    return api


@pytest.mark.parametrize("offset", [0, 1, 2, 50, 2**62])
def test_any_offset_pages_only_the_callers_own_items(two_tenants: Api, offset: int) -> None:
    api = two_tenants
    for path, field in (("/api/v1/repositories", "repositories"), ("/api/v1/issues", "issues")):
        answer = api.client.get(path, headers=api.key("read"), params={"offset": offset, "limit": 100})
        assert answer.status_code == 200
        assert "rival" not in answer.text and answer.json()["total"] == (1 if field == "repositories" else 0)


@pytest.mark.parametrize("params", [{"limit": -1}, {"limit": 0}, {"limit": 10**24}, {"offset": -1}, {"limit": "1e3"}])
def test_out_of_range_paging_is_422_in_the_spec_format(two_tenants: Api, params: dict[str, object]) -> None:
    answer = two_tenants.client.get("/api/v1/repositories", headers=two_tenants.key("read"), params=params)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/repositories/rival%2Fsecret-model/x",
        "/api/v1/repositories/acme/..%2F..%2Frival%2Fsecret-model",
        "/api/v1/repositories/rival/secret-model",
        "/api/v1/issues/..%2F..%2F",
        "/api/v1/issues/TENANT%23rival",
        "/api/tenants/default%2F..%2Frival/usage",
    ],
)
def test_encoded_slashes_and_key_syntax_in_path_parameters_reach_nothing_of_another_tenant(
    two_tenants: Api, path: str
) -> None:
    answer = two_tenants.client.get(path, headers=two_tenants.key("read"))
    assert answer.status_code in (403, 404, 422), path
    assert "secret-model" not in answer.json()["error"].get("message", "")


@pytest.mark.parametrize("given", ["x" * 9_000, "id with spaces", "a/../b", "a\tb", "<script>", ""])
def test_a_request_id_that_is_not_a_short_token_is_replaced_not_echoed(api: Api, given: str) -> None:
    """The caller's `X-Request-ID` is echoed in a header, the error body and the logs: only a short token is."""
    answer = api.client.get("/api/v1/issues/nope", headers={**api.key("read"), "x-request-id": given})
    assert answer.status_code == 404
    echoed = answer.headers["x-request-id"]
    assert echoed != given and 0 < len(echoed) <= 128
    assert answer.json()["error"]["request_id"] == echoed


def test_a_short_request_id_token_is_kept(api: Api) -> None:
    answer = api.client.get("/api/v1/issues/nope", headers={**api.key("read"), "x-request-id": "req-42.a_b:c"})
    assert answer.headers["x-request-id"] == "req-42.a_b:c"
