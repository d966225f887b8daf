"""One request can not poison a tenant: what no store can hold is refused at the edge, and a
malformed stored item never turns a listing into a 500."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
import pytest

from mlops_bot.storage import keys
from tests.integration.api.conftest import Api

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400"]
SPEC_ERROR_FIELDS = {"code", "message", "details", "request_id", "timestamp"}


def raw_request(api: Api, method: str, url: str, body: str, headers: dict[str, str]) -> Any:
    return api.client.request(method, url, content=body, headers={**headers, "content-type": "application/json"})


def assert_spec_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) >= SPEC_ERROR_FIELDS
    assert response.json()["error"]["code"] == code


def reads_still_answer(api: Api, admin: dict[str, str]) -> None:
    assert api.client.get("/api/v1/repositories", headers=admin).status_code == 200
    assert api.client.get("/api/v1/repositories/acme/model", headers=admin).status_code == 200
    assert api.client.get("/api/tenants", headers=admin).status_code == 200
    assert api.client.get("/api/tenants/default/usage", headers=admin).status_code == 200


@pytest.mark.parametrize("literal", NON_FINITE)
@pytest.mark.parametrize(
    ("method", "url", "template"),
    [
        (
            "PUT",
            "/api/v1/repositories/acme/model/config",
            '{"model_thresholds": {"default": {"max_relative_drop": %s}}}',
        ),
        ("PUT", "/api/v1/repositories/acme/model/config", '{"drift": {"drift_share": %s}}'),
        (
            "POST",
            "/api/v1/repositories/acme/model/model-metrics",
            '{"deployment": {"ref": "v1"}, "metrics": {"accuracy": %s}}',
        ),
        (
            "POST",
            "/api/v1/repositories/acme/model/drift",
            '{"columns": {"age": {"test": "ks", "statistic": %s, "threshold": 0.1, "drifted": true}},'
            ' "drift_share": 1, "dataset_drift": true}',
        ),
        ("POST", "/api/v1/pipelines", '{"name": "p", "repository": "acme/model", "schedule": %s}'),
        ("PUT", "/api/v1/config", '{"limits": {"rate_limit_per_minute": %s}}'),
    ],
)
def test_non_finite_numbers_are_refused_with_422_and_nothing_is_poisoned(
    api: Api, method: str, url: str, template: str, literal: str
) -> None:
    api.repository("acme/model")
    admin = api.key()
    answer = raw_request(api, method, url, template % literal, admin)
    assert_spec_error(answer, 422, "VALIDATION_FAILED")
    reads_still_answer(api, admin)


@pytest.mark.parametrize("literal", NON_FINITE)
def test_the_models_refuse_non_finite_values_that_get_past_the_parser(api: Api, literal: str) -> None:
    """The item models are the second line: a float('inf') built in Python is refused too."""
    from pydantic import ValidationError

    from mlops_bot.management.watching.repositories import RepositoryConfigUpdate
    from mlops_bot.monitoring.service import DriftReportIn, ModelMetricsIn
    from mlops_bot.stores.repositories import RepositoryConfiguration

    value = float(literal)
    with pytest.raises(ValidationError):
        RepositoryConfigUpdate(model_thresholds={"default": {"max_relative_drop": value}})
    with pytest.raises(ValidationError):
        ModelMetricsIn.model_validate({"deployment": {"ref": "v1"}, "metrics": {"accuracy": value}})
    with pytest.raises(ValidationError):
        DriftReportIn.model_validate({"columns": {}, "drift_share": value, "dataset_drift": False})
    with pytest.raises(ValidationError):
        RepositoryConfiguration.model_validate({"baseline": {"accuracy": value}})


def test_integers_beyond_64_bits_are_refused_with_422(api: Api) -> None:
    api.repository("acme/model")
    answer = raw_request(
        api, "PUT", "/api/v1/config", '{"limits": {"rate_limit_per_minute": 1' + "0" * 40 + "}}", api.key()
    )
    assert_spec_error(answer, 422, "VALIDATION_FAILED")


def test_a_malformed_stored_repository_is_skipped_and_every_read_still_answers(api: Api) -> None:
    """An item written before these rules (here `-Infinity`, which moto keeps) is left out, not a 500."""
    api.repository("acme/model")
    api.repository("acme/poisoned")
    boto3.client("dynamodb").update_item(
        TableName=api.table.name,
        Key={k: {"S": v} for k, v in keys.repository_key("default", "acme/poisoned").items()},
        UpdateExpression="SET configuration.model_thresholds = :t, issues_detected = :n",
        ExpressionAttributeValues={
            ":t": {"M": {"default": {"M": {"max_relative_drop": {"N": "-Infinity"}}}}},
            ":n": {"S": "not a number"},
        },
    )
    admin = api.key()
    listing = api.client.get("/api/v1/repositories", headers=admin)
    assert listing.status_code == 200
    assert [r["full_name"] for r in listing.json()["repositories"]] == ["acme/model"]
    reads_still_answer(api, admin)


def test_the_reader_of_stored_numbers_survives_non_finite_ones(api: Api) -> None:
    api.repository("acme/model")
    table = boto3.resource("dynamodb").Table(api.table.name)
    table.update_item(
        Key=keys.repository_key("default", "acme/model"),
        UpdateExpression="SET model_baseline = :b",
        ExpressionAttributeValues={":b": {"accuracy": Decimal("-Infinity")}},
    )
    reads_still_answer(api, api.key())


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/api/v1/repositories/acme/model/model-metrics",
            {"deployment": {"ref": "v1"}, "metrics": {f"m{i}": 0.5 for i in range(201)}},
        ),
        (
            "/api/v1/repositories/acme/model/model-metrics",
            {"deployment": {"ref": "v1"}, "metrics": {"m" * 129: 0.5}},
        ),
        (
            "/api/v1/repositories/acme/model/model-metrics",
            {"deployment": {"ref": "r" * 3000}, "metrics": {"accuracy": 0.5}},
        ),
        (
            "/api/v1/repositories/acme/model/drift",
            {
                "columns": {
                    f"c{i}": {"test": "ks", "statistic": 0.5, "threshold": 0.1, "drifted": True} for i in range(501)
                },
                "drift_share": 1,
                "dataset_drift": True,
            },
        ),
        (
            "/api/v1/repositories/acme/model/drift",
            {"columns": {}, "drift_share": 0.1, "dataset_drift": False, "reference": "s3://b/" + "k" * 3000},
        ),
    ],
)
def test_too_many_or_too_long_inputs_are_422_not_500(api: Api, url: str, body: dict[str, Any]) -> None:
    api.repository("acme/model")
    assert_spec_error(api.client.post(url, json=body, headers=api.key()), 422, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    "body",
    [
        {"custom_playbooks": [f"p{i}" for i in range(21)]},
        {"email_recipients": ["a" * 300 + "@x.io"]},
        {"model_thresholds": {"metrics": {f"m{i}": {"max_relative_drop": 0.1} for i in range(101)}}},
        {"model_thresholds": {"unknown": 1}},
        {"drift": {"reference": "s3://b/" + "k" * 3000}},
    ],
)
def test_configuration_inputs_are_bounded(api: Api, body: dict[str, Any]) -> None:
    api.repository("acme/model")
    answer = api.client.put("/api/v1/repositories/acme/model/config", json=body, headers=api.key())
    assert_spec_error(answer, 422, "VALIDATION_FAILED")


def test_a_body_beyond_the_edge_limit_is_413(api: Api) -> None:
    api.repository("acme/model")
    body = json.dumps({"drift": {"reference": "x" * 300_000}})
    answer = raw_request(api, "PUT", "/api/v1/repositories/acme/model/config", body, api.key())
    assert_spec_error(answer, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "path",
    [
        "acme/%2E%2E",
        "acme/%2E",
        "acme/mo%23del",
        "acme/mo%07del",
        "-acme/model",
        "a" * 40 + "/model",
        "acme/" + "m" * 101,
    ],
)
def test_repository_names_github_would_refuse_are_422_on_the_management_api(api: Api, path: str) -> None:
    admin = api.key()
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "/config", {"auto_fix_enabled": False}),
        ("POST", "/model-metrics", {"deployment": {"ref": "v1"}, "metrics": {"accuracy": 0.9}}),
    ):
        answer = api.client.request(method, f"/api/v1/repositories/{path}{suffix}", json=body, headers=admin)
        assert_spec_error(answer, 422, "VALIDATION_FAILED")


def test_a_valid_configuration_update_is_stored_and_read_back(api: Api) -> None:
    api.repository("acme/model")
    admin = api.key()
    update = {"model_thresholds": {"default": {"max_relative_drop": 0.1}}, "detection_sensitivity": "high"}
    assert api.client.put("/api/v1/repositories/acme/model/config", json=update, headers=admin).status_code == 200
    configuration = api.client.get("/api/v1/repositories/acme/model", headers=admin).json()["configuration"]
    assert configuration["model_thresholds"] == {"default": {"max_relative_drop": 0.1}}
    assert configuration["detection_sensitivity"] == "high"
    assert configuration["auto_fix_enabled"] is True


def test_a_malformed_tenant_profile_is_left_out_of_the_operators_listing(api: Api) -> None:
    admin = api.key()
    api.table.put({**keys.tenant_registry_key("tenant-broken"), "tenant_id": "tenant-broken", "created_at": "x"})
    api.table.put(
        {**keys.tenant_profile_key("tenant-broken"), "tenant_id": "tenant-broken", "resource_quota": {"max_users": "x"}}
    )
    listing = api.client.get("/api/tenants", headers=admin)
    assert listing.status_code == 200
    ids = [t["id"] for t in listing.json()["tenants"]]
    assert "default" in ids and "tenant-broken" not in ids


def test_a_malformed_stored_pipeline_is_left_out_and_every_pipeline_read_still_answers(api: Api) -> None:
    api.repository("acme/model")
    admin = api.key()
    kept = api.client.post("/api/pipelines", json={"name": "kept", "repository": "acme/model"}, headers=admin)
    poisoned = api.client.post("/api/pipelines", json={"name": "poisoned", "repository": "acme/model"}, headers=admin)
    assert kept.status_code == poisoned.status_code == 201, poisoned.text
    poisoned_id = poisoned.json()["id"]
    boto3.resource("dynamodb").Table(api.table.name).update_item(
        Key=keys.pipeline_key("default", poisoned_id),
        UpdateExpression="SET created_at = :n",
        ExpressionAttributeValues={":n": Decimal("-Infinity")},
    )
    listing = api.client.get("/api/pipelines", headers=admin)
    assert listing.status_code == 200, listing.text
    assert [p["name"] for p in listing.json()["pipelines"]] == ["kept"]
    assert api.client.get(f"/api/pipelines/{poisoned_id}", headers=admin).status_code == 404
    prediction = api.client.post("/api/ml/predict", json={"pipeline_id": poisoned_id}, headers=admin)
    assert prediction.status_code < 500, prediction.text
