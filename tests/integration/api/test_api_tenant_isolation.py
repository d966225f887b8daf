"""Every route that names a resource, called with another tenant's credentials, answers 404 and leaks nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_bot.access import users
from mlops_bot.storage import keys
from tests.integration.api.conftest import Api
from tests.support.stores import access_stores

OWNER = "tenant-a"
INTRUDER = "tenant-b"


@pytest.fixture
def owned(api: Api) -> dict[str, Any]:
    """Tenant A's repository, incident, pipeline and compliance audit."""
    api.repository("acme/secret-model", tenant=OWNER)
    incident = api.incident(tenant=OWNER, repository="acme/secret-model", description="tenant A's confidential failure")
    owner_admin = api.key("admin", tenant=OWNER)
    pipeline = api.client.post(
        "/api/pipelines",
        headers=owner_admin,
        json={"name": "A's pipeline", "repository": "acme/secret-model"},
    ).json()
    audit = api.client.post("/api/compliance/audits", headers=owner_admin, json={"standard": "sox"}).json()
    return {"incident": incident["id"], "pipeline": pipeline["id"], "audit": audit["id"]}


def _routes(owned: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    incident, pipeline = owned["incident"], owned["pipeline"]
    return [
        ("GET", f"/api/v1/issues/{incident}", None),
        ("POST", f"/api/v1/issues/{incident}/resolve", {"force": True}),
        ("GET", "/api/v1/repositories/acme/secret-model", None),
        ("PUT", "/api/v1/repositories/acme/secret-model/config", {"auto_fix_enabled": False}),
        ("GET", f"/api/pipelines/{pipeline}", None),
        ("DELETE", f"/api/pipelines/{pipeline}", None),
        ("POST", f"/api/failures/{incident}/heal", {"force": True}),
        ("GET", f"/api/tenants/{OWNER}/usage", None),
    ]


@pytest.mark.parametrize("credential", ["api_key", "jwt"])
def test_every_id_route_answers_404_to_another_tenant(api: Api, owned: dict[str, Any], credential: str) -> None:
    if credential == "api_key":
        intruder = api.key("admin", tenant=INTRUDER)
    else:
        users.create_user(access_stores(api.table), INTRUDER, "mallory@b.example", "a long enough password", "admin")
        token = api.client.post(
            "/auth/login",
            json={"username": "mallory@b.example", "password": "a long enough password", "tenant_id": INTRUDER},
        ).json()["access_token"]
        intruder = {"authorization": f"Bearer {token}"}
    for method, path, body in _routes(owned):
        response = api.client.request(method, path, headers=intruder, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "confidential" not in response.text and "secret-model" not in response.json()["error"]["message"]
    # nothing changed or was queued on tenant A's behalf
    assert api.healing_messages() == []
    stored = api.table.get(keys.repository_key(OWNER, "acme/secret-model"))
    assert stored is not None and stored["configuration"].get("auto_fix_enabled") is None  # untouched
    assert api.table.get(keys.pipeline_key(OWNER, owned["pipeline"])) is not None
    # and the owner still reaches all of it
    owner = api.key("admin", tenant=OWNER)
    assert api.client.get(f"/api/v1/issues/{owned['incident']}", headers=owner).status_code == 200
    assert api.client.get(f"/api/pipelines/{owned['pipeline']}", headers=owner).status_code == 200


def test_lists_never_show_another_tenants_records(api: Api, owned: dict[str, Any]) -> None:
    intruder = api.key("admin", tenant=INTRUDER)
    for path, field in (
        ("/api/v1/issues", "issues"),
        ("/api/v1/repositories", "repositories"),
        ("/api/pipelines", "pipelines"),
        ("/api/failures", "failures"),
        ("/api/compliance/audits", "audits"),
        ("/api/users", "users"),
    ):
        response = api.client.get(path, headers=intruder)
        assert response.status_code == 200, path
        assert response.json()[field] == [], path
    assert [t["id"] for t in api.client.get("/api/tenants", headers=intruder).json()["tenants"]] == [INTRUDER]
    listed_by_filter = api.client.get("/api/pipelines", headers=intruder, params={"tenant_id": OWNER}).json()
    assert listed_by_filter["pipelines"] == []
    playbook = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=intruder).json()
    assert playbook["statistics"]["total_executions"] == 0
    analytics = api.client.get("/api/v1/analytics", headers=intruder).json()
    assert analytics["summary"]["issues_detected"] == 0
    assert "secret-model" not in api.client.get("/metrics", headers=intruder).text


def test_a_playbook_switch_is_per_tenant(api: Api) -> None:
    api.client.patch(
        "/api/v1/playbooks/pipeline_failure_fix", headers=api.key("admin", tenant=OWNER), json={"enabled": False}
    )
    theirs = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=api.key("read", tenant=INTRUDER))
    assert theirs.json()["enabled"] is True
