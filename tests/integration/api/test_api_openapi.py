"""The OpenAPI document describes the routes the app serves, with the spec's error body."""

from __future__ import annotations

import re

from tests.integration.api.conftest import Api

SPEC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/health/detailed"),
    ("GET", "/health/ready"),
    ("GET", "/health/live"),
    ("GET", "/api/health"),
    ("GET", "/api/status"),
    ("GET", "/api/v1/repositories"),
    ("GET", "/api/v1/repositories/{owner}/{repo}"),
    ("PUT", "/api/v1/repositories/{owner}/{repo}/config"),
    ("GET", "/api/v1/issues"),
    ("GET", "/api/v1/issues/{incident_id}"),
    ("POST", "/api/v1/issues/{incident_id}/resolve"),
    ("GET", "/api/v1/playbooks"),
    ("GET", "/api/v1/playbooks/{name}"),
    ("PATCH", "/api/v1/playbooks/{name}"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/analytics"),
    ("GET", "/api/v1/config"),
    ("PUT", "/api/v1/config"),
    ("GET", "/api/pipelines"),
    ("POST", "/api/pipelines"),
    ("GET", "/api/pipelines/{pipeline_id}"),
    ("GET", "/api/failures"),
    ("POST", "/api/failures/{failure_id}/heal"),
    ("GET", "/api/tenants"),
    ("POST", "/api/tenants"),
    ("GET", "/api/tenants/{tenant_id}/usage"),
    ("GET", "/api/compliance/audits"),
    ("POST", "/api/compliance/audits"),
    ("GET", "/api/cluster/status"),
    ("POST", "/api/cluster/rebalance"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
}


def test_openapi_lists_the_spec_routes_and_the_app_serves_each(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented >= SPEC_ROUTES
    for method, path in sorted(documented):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = api.client.request(method, concrete)
        # unauthenticated: 401 for protected routes, a real answer for health; never "no such route"
        assert response.status_code not in (404, 405), (method, path, response.status_code)


def test_openapi_documents_bearer_auth_and_the_error_body(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    resolve = document["paths"]["/api/v1/issues/{incident_id}/resolve"]["post"]
    assert resolve["security"] == [{"HTTPBearer": []}]
    assert resolve["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_interactive_docs_are_served(api: Api) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
