"""Every role against every route: what docs/api.md's "Roles and tenants" table promises.

`ROUTES` classifies every operation of the OpenAPI document; a new route must be added here (and
to the doc) or `test_every_route_is_classified` fails. Insufficient roles get 403 before anything
else happens (the permission is checked before the body is read); sufficient ones never get 401
or 403, whatever else the placeholder request earns them (404, 422...).
"""

from __future__ import annotations

from typing import Any, Literal

import pytest

from tests.integration.api.conftest import Api

Needs = Literal["none", "read", "write", "admin", "operator"]
TENANT = "tenant-perm"
TENANT_BODY = {"name": "Permission Test", "admin_email": "admin@perm.example"}

ROUTES: list[tuple[str, str, Needs, dict[str, Any] | None]] = [
    ("GET", "/health", "none", None),
    ("GET", "/api/health", "none", None),
    ("GET", "/health/live", "none", None),
    ("GET", "/health/ready", "none", None),
    ("GET", "/health/detailed", "none", None),
    ("POST", "/auth/login", "none", None),
    ("POST", "/auth/refresh", "none", None),
    ("POST", "/auth/revoke", "none", None),
    ("GET", "/api/v1/installations/setup", "none", None),  # GitHub's redirect: the signed state is the credential
    ("POST", "/api/v1/installations/setup", "none", {}),
    ("GET", "/api/status", "read", None),
    ("GET", "/api/v1/repositories", "read", None),
    ("GET", "/api/v1/repositories/acme/model", "read", None),
    ("GET", "/api/v1/installations", "read", None),
    ("GET", "/api/v1/installations/777", "read", None),
    ("GET", "/api/v1/issues", "read", None),
    ("GET", "/api/v1/issues/inc-unknown", "read", None),
    ("GET", "/api/v1/playbooks", "read", None),
    ("GET", "/api/v1/playbooks/pipeline_failure_fix", "read", None),
    ("GET", "/api/v1/config", "read", None),
    ("GET", "/metrics", "read", None),
    ("GET", "/api/v1/analytics", "read", None),
    ("GET", "/api/pipelines", "read", None),
    ("GET", "/api/pipelines/pipeline-unknown", "read", None),
    ("GET", "/api/failures", "read", None),
    ("GET", "/api/analytics/patterns", "read", None),
    ("POST", "/api/ml/predict", "read", {}),
    ("PUT", "/api/v1/repositories/acme/model/config", "write", {}),
    ("POST", "/api/v1/issues/inc-unknown/resolve", "write", {}),
    ("POST", "/api/pipelines", "write", {}),
    ("DELETE", "/api/pipelines/pipeline-unknown", "write", None),
    ("POST", "/api/failures/inc-unknown/heal", "write", {}),
    ("POST", "/api/v1/repositories/acme/model/drift", "write", {}),
    ("POST", "/api/v1/repositories/acme/model/model-metrics", "write", {}),
    ("POST", "/api/v1/installations/claims", "admin", None),
    ("POST", "/api/v1/installations/777/claim", "admin", {}),
    ("POST", "/api/v1/repositories", "admin", {}),
    ("DELETE", "/api/v1/repositories/acme/model", "admin", None),
    ("GET", "/api/users", "admin", None),
    ("GET", "/api/v1/api-keys", "admin", None),
    ("POST", "/api/v1/api-keys", "admin", {}),
    ("DELETE", "/api/v1/api-keys/key-unknown", "admin", None),
    ("POST", "/api/users", "admin", {}),
    ("PATCH", "/api/v1/playbooks/pipeline_failure_fix", "admin", {}),
    ("GET", "/api/tenants", "admin", None),
    ("GET", f"/api/tenants/{TENANT}/usage", "admin", None),
    ("GET", "/api/compliance/audits", "admin", None),
    ("POST", "/api/compliance/audits", "admin", {}),
    ("GET", "/api/compliance/audits/verify", "admin", None),
    ("POST", "/api/tenants", "operator", TENANT_BODY),
    ("PUT", "/api/v1/config", "operator", {}),
    ("GET", "/api/cluster/status", "operator", None),
    ("POST", "/api/cluster/rebalance", "operator", {}),
]
RANK = {"none": 0, "read": 1, "write": 2, "admin": 3, "operator": 4}


def _template(path: str) -> str:
    concrete = {
        "/acme/model": "/{owner}/{repo}",
        "/inc-unknown": "/{incident_id}",
        "/pipeline_failure_fix": "/{name}",
        "/pipeline-unknown": "/{pipeline_id}",
        "/key-unknown": "/{key_id}",
        f"/{TENANT}/": "/{tenant_id}/",
        "/777": "/{installation_id}",
    }
    for value, name in concrete.items():
        path = path.replace(value, name)
    if path.startswith("/api/failures/{incident_id}"):
        path = path.replace("{incident_id}", "{failure_id}")
    return path


def test_every_route_is_classified(api: Api) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in api.client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    assert documented == {(method, _template(path)) for method, path, _, _ in ROUTES}


@pytest.mark.parametrize("role", ["read", "write", "admin", "operator"])
def test_each_role_reaches_exactly_the_routes_its_permission_allows(api: Api, role: str) -> None:
    headers = api.key("admin") if role == "operator" else api.key(role, tenant=TENANT)  # type: ignore[arg-type]
    wrong: list[tuple[str, str, int]] = []
    for method, path, needs, body in ROUTES:
        if needs == "none":
            continue
        response = api.client.request(method, path, headers=headers, json=body)
        allowed = RANK[role] >= RANK[needs]
        if allowed == (response.status_code in (401, 403)):
            wrong.append((method, path, response.status_code))
    assert wrong == []
