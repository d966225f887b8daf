"""Compliance audits: real checks over the tenant's records, a KMS-signed hash chain, tampering detected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mlops_bot.healing import audit
from mlops_bot.management.platform.settings import reset_management_settings
from mlops_bot.storage import keys
from mlops_bot.stores.audit import DynamoAuditLog
from tests.integration.api.conftest import Api


def _write(
    api: Api, method: str, path: str, incident_id: str, details: dict[str, Any], tenant: str = "default"
) -> None:
    audit.record(
        DynamoAuditLog(api.table),
        audit.AuditRecord(
            tenant_id=tenant,
            repository="acme/model",
            method=method,
            path=path,
            summary="test write",
            incident_id=incident_id,
            playbook="pipeline_failure_fix",
            dry_run=False,
            result="done",
            details=details,
        ),
    )


def _fix_by_pull_request(api: Api, incident_id: str, branch: str = "mlops-bot/fix-1") -> None:
    _write(api, "POST", "/repos/acme/model/git/refs", incident_id, {"from": "main"})
    _write(api, "PUT", "/repos/acme/model/contents/requirements.txt", incident_id, {"branch": branch, "diff": "+x"})
    _write(api, "POST", "/repos/acme/model/pulls", incident_id, {"head": branch, "base": "main"})


def _audit(api: Api, standard: str = "sox", **extra: Any) -> Any:
    return api.client.post("/api/compliance/audits", headers=api.key(), json={"standard": standard, **extra})


def _check(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in body["checks"] if c["check"] == name)


def test_a_sox_audit_of_clean_records_is_compliant_and_signed(api: Api) -> None:
    incident = api.incident()
    _fix_by_pull_request(api, incident["id"])
    response = _audit(api, auditor_id="auditor-456")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "compliant"
    assert body["risk_score"] == 0.0
    assert body["findings"] == []
    assert {c["check"] for c in body["checks"]} == {
        "change_management",
        "audit_trail",
        "compliance_chain",
        "access_control",
    }
    assert "1 automated code change(s)" in _check(body, "change_management")["details"]
    assert body["record_hash"].startswith("sha256:")
    assert body["digital_signature"].startswith("kms:ECDSA_SHA_256:")
    assert body["sequence"] == 1


def test_a_code_change_without_a_pull_request_is_a_finding(api: Api) -> None:
    incident = api.incident()
    _write(api, "PUT", "/repos/acme/model/contents/train.py", incident["id"], {"branch": "main"})
    body = _audit(api).json()
    assert body["status"] == "non_compliant"
    [finding] = body["findings"]
    assert finding["check"] == "change_management"
    assert finding["severity"] == "high"
    assert "'main'" in finding["evidence"][0]
    assert body["risk_score"] > 0


def test_secret_material_in_clear_is_found_without_being_repeated(api: Api) -> None:
    api.repository("acme/model")
    leaked = "ghp_" + "a" * 36
    api.table.set_fields(
        keys.repository_key("default", "acme/model"),
        {"configuration": {"auto_fix_enabled": True, "webhook_token_note": leaked}},
    )
    body = _audit(api, "gdpr").json()
    check = _check(body, "secret_material")
    assert check["status"] == "fail"
    assert "github_token" in check["evidence"][0]
    assert leaked not in str(body)


def test_expired_data_must_have_a_ttl(api: Api) -> None:
    event = api.event()
    api.table.table.update_item(Key={"pk": event["pk"], "sk": event["sk"]}, UpdateExpression="REMOVE expires_at")
    body = _audit(api, "gdpr", scope=["data_retention"]).json()
    assert [c["check"] for c in body["checks"]] == ["data_retention"]
    assert _check(body, "data_retention")["status"] == "fail"
    assert body["status"] == "partially_compliant"


def test_audits_chain_and_list_with_filters(api: Api) -> None:
    first = _audit(api, "sox").json()
    second = _audit(api, "gdpr").json()
    assert second["sequence"] == 2
    assert second["previous_hash"] == first["record_hash"]
    headers = api.key("admin")
    listed = api.client.get("/api/compliance/audits", headers=headers).json()
    assert [a["id"] for a in listed["audits"]] == [second["id"], first["id"]]
    only_sox = api.client.get("/api/compliance/audits", headers=headers, params={"standard": "sox"}).json()
    assert [a["id"] for a in only_sox["audits"]] == [first["id"]]
    future = api.client.get("/api/compliance/audits", headers=headers, params={"from_date": "2999-01-01"}).json()
    assert future["audits"] == []
    verified = api.client.get("/api/compliance/audits/verify", headers=headers).json()
    assert verified == {"verified": True, "records": 2, "first_broken_sequence": None, "problems": []}


def test_altering_a_stored_audit_record_is_detected(api: Api) -> None:
    incident = api.incident()
    _write(api, "PUT", "/repos/acme/model/contents/train.py", incident["id"], {"branch": "main"})
    tampered = _audit(api).json()
    _audit(api)
    # someone with table access makes the first audit look better
    api.table.table.update_item(
        Key=keys.compliance_record_key("default", 1),
        UpdateExpression="SET risk_score = :zero, #s = :ok",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":zero": Decimal("0"), ":ok": "compliant"},
    )
    verified = api.client.get("/api/compliance/audits/verify", headers=api.key("admin")).json()
    assert verified["verified"] is False
    assert verified["first_broken_sequence"] == 1
    assert {p["problem"] for p in verified["problems"]} == {"content does not match its hash", "signature invalid"}
    assert {(p["sequence"], p["id"]) for p in verified["problems"]} == {(1, tampered["id"])}
    # and the next audit reports it as a critical finding
    third = _audit(api).json()
    chain = _check(third, "compliance_chain")
    assert chain["status"] == "fail"
    assert chain["severity"] == "critical"
    assert third["status"] == "non_compliant"


def test_a_rehashed_forgery_still_fails_the_signature(api: Api) -> None:
    from mlops_bot.management.reports import compliance

    _audit(api)
    stored = api.table.get(keys.compliance_record_key("default", 1))
    assert stored is not None
    stored["risk_score"] = 9.9
    stored["record_hash"] = "sha256:" + compliance._digest(stored).hex()  # the forger can hash, not sign
    api.table.put(stored)
    verified = api.client.get("/api/compliance/audits/verify", headers=api.key("admin")).json()
    assert [p["problem"] for p in verified["problems"]] == ["signature invalid"]


def test_deleting_an_audit_record_breaks_the_chain(api: Api) -> None:
    for _ in range(3):
        _audit(api)
    api.table.delete(keys.compliance_record_key("default", 2))
    verified = api.client.get("/api/compliance/audits/verify", headers=api.key("admin")).json()
    assert verified["verified"] is False
    assert verified["first_broken_sequence"] == 2


def test_audit_requests_are_validated(api: Api) -> None:
    assert _audit(api, "iso9001").status_code == 422
    assert _audit(api, "sox", scope=["astrology"]).status_code == 422
    no_overlap = _audit(api, "sox", scope=["data_retention"])
    assert no_overlap.status_code == 422
    assert (
        api.client.post("/api/compliance/audits", headers=api.key("write"), json={"standard": "sox"}).status_code == 403
    )


def test_audits_need_a_signing_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_BOT_COMPLIANCE_KEY_ID")
    reset_management_settings()
    response = _audit(api)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
