"""Compliance audits on the in-memory stores: the checks, the signed chain, and tampering found."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import ServiceUnavailable, ValidationFailed
from mlops_bot.management.reports import compliance
from mlops_bot.stores.api_keys import ApiKeyItem, InMemoryApiKeyStore
from mlops_bot.stores.audit import AuditEntry, InMemoryAuditLog
from mlops_bot.stores.compliance_audits import ComplianceStatus, InMemoryComplianceAuditStore
from mlops_bot.stores.events import EventRecord, InMemoryEventStore
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore
from mlops_bot.stores.pipelines import InMemoryPipelineStore, Pipeline
from mlops_bot.stores.repositories import InMemoryRepositoryStore, Repository, RepositoryConfiguration
from mlops_bot.stores.users import InMemoryUserStore, UserCreation, UserRecord
from tests.support.signing import HmacSigner

TENANT = "t1"


@pytest.fixture
def sources() -> compliance.AuditSources:
    return compliance.AuditSources(
        chain=InMemoryComplianceAuditStore(),
        audit_log=InMemoryAuditLog(),
        incidents=InMemoryIncidentStore(),
        events=InMemoryEventStore(),
        repositories=InMemoryRepositoryStore(),
        pipelines=InMemoryPipelineStore(),
        api_keys=InMemoryApiKeyStore(),
        users=InMemoryUserStore(),
    )


SIGNER = HmacSigner()
TTL_ON = compliance.AuditEnvironment(ttl_attribute=lambda: "expires_at")


def _audit(
    sources: compliance.AuditSources, standard: str = "sox", env: compliance.AuditEnvironment = TTL_ON, **extra: Any
) -> compliance.ComplianceAudit:
    request = compliance.AuditCreate.model_validate({"standard": standard, **extra})
    return compliance.create_audit(sources, TENANT, request, "key-admin", env, SIGNER)


def _check(audit: compliance.ComplianceAudit, name: str) -> compliance.CheckResult:
    return next(c for c in audit.checks if c.check == name)


def _incident(sources: compliance.AuditSources, incident_id: str = "inc-1", **fields: Any) -> Incident:
    incident = Incident(
        id=incident_id,
        tenant_id=TENANT,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at=iso(utc_now()),
        **fields,
    )
    sources.incidents.open_or_update(incident)
    return incident


def _write(sources: compliance.AuditSources, method: str, path: str, details: dict[str, Any], **fields: Any) -> str:
    entry = AuditEntry(
        tenant_id=TENANT,
        repository="acme/model",
        method=method,
        path=path,
        summary="test write",
        dry_run=False,
        result="done",
        details=details,
        **fields,
    )
    return sources.audit_log.record(entry)


def _fix_by_pull_request(sources: compliance.AuditSources, incident_id: str, branch: str = "mlops-bot/fix-1") -> None:
    _write(sources, "PUT", "/repos/acme/model/contents/requirements.txt", {"branch": branch}, incident_id=incident_id)
    _write(sources, "POST", "/repos/acme/model/pulls", {"head": branch, "base": "main"}, incident_id=incident_id)


# ------------------------------------------------------------------------------------ the chain


def test_audits_chain_each_record_to_the_previous_and_the_chain_verifies(sources: compliance.AuditSources) -> None:
    _fix_by_pull_request(sources, _incident(sources).id)
    first = _audit(sources, auditor_id="auditor-456")
    second = _audit(sources, "gdpr")
    assert (first.status, first.risk_score, first.findings) == ("compliant", 0.0, [])
    assert (first.sequence, first.previous_hash) == (1, compliance.GENESIS)
    assert (second.sequence, second.previous_hash) == (2, first.record_hash)
    assert second.digital_signature.startswith("kms:HMAC_SHA_256:")
    verified = compliance.verify_chain(sources.chain, TENANT, SIGNER)
    assert verified == compliance.ChainVerification(verified=True, records=2, first_broken_sequence=None, problems=[])
    assert "1 earlier audit record(s) verified" in _check(second, "compliance_chain").details


def test_an_altered_record_fails_its_hash_and_signature_and_the_next_audit_says_so(
    sources: compliance.AuditSources,
) -> None:
    _write(sources, "PUT", "/repos/acme/model/contents/train.py", {"branch": "main"})
    tampered = _audit(sources)
    _audit(sources)
    assert tampered.status == "non_compliant"
    chain: InMemoryComplianceAuditStore = sources.chain  # type: ignore[assignment]
    stored = chain.records.get((TENANT, 1))
    assert stored is not None
    chain.records.put((TENANT, 1), stored.model_copy(update={"risk_score": 0.0, "status": ComplianceStatus.COMPLIANT}))

    verified = compliance.verify_chain(chain, TENANT, SIGNER)
    assert verified.verified is False and verified.first_broken_sequence == 1
    assert {(p.sequence, p.id, p.problem) for p in verified.problems} == {
        (1, tampered.id, "content does not match its hash"),
        (1, tampered.id, "signature invalid"),
    }
    third = _audit(sources)
    assert _check(third, "compliance_chain").status == "fail"
    assert _check(third, "compliance_chain").severity == "critical"
    assert third.status == "non_compliant"


def test_a_rehashed_forgery_still_fails_the_signature(sources: compliance.AuditSources) -> None:
    _audit(sources)
    chain: InMemoryComplianceAuditStore = sources.chain  # type: ignore[assignment]
    stored = chain.records.get((TENANT, 1))
    assert stored is not None
    forged = stored.model_copy(update={"risk_score": 9.9})
    forged.record_hash = "sha256:" + compliance._digest(forged.model_dump(mode="json")).hex()
    chain.records.put((TENANT, 1), forged)
    verified = compliance.verify_chain(chain, TENANT, SIGNER)
    assert [p.problem for p in verified.problems] == ["signature invalid"]


def test_a_record_signed_with_another_key_is_refused(sources: compliance.AuditSources) -> None:
    request = compliance.AuditCreate(standard="sox")
    compliance.create_audit(sources, TENANT, request, "key-admin", TTL_ON, HmacSigner(b"someone else"))
    verified = compliance.verify_chain(sources.chain, TENANT, SIGNER)
    assert [p.problem for p in verified.problems] == ["signature invalid"]


def test_a_deleted_record_breaks_the_chain_where_it_was(sources: compliance.AuditSources) -> None:
    for _ in range(3):
        _audit(sources)
    chain: InMemoryComplianceAuditStore = sources.chain  # type: ignore[assignment]
    chain.records.delete((TENANT, 2))
    verified = compliance.verify_chain(chain, TENANT, SIGNER)
    assert verified.verified is False and verified.records == 2
    assert verified.first_broken_sequence == 2
    assert {p.problem for p in verified.problems} == {
        "sequence gap or reordering",
        "link to the previous record broken",
    }


def test_swapped_records_are_found_out_of_order(sources: compliance.AuditSources) -> None:
    _audit(sources)
    _audit(sources)
    chain: InMemoryComplianceAuditStore = sources.chain  # type: ignore[assignment]
    one, two = chain.records.get((TENANT, 1)), chain.records.get((TENANT, 2))
    assert one is not None and two is not None
    chain.records.put((TENANT, 1), two)
    chain.records.put((TENANT, 2), one)
    verified = compliance.verify_chain(chain, TENANT, SIGNER)
    assert verified.first_broken_sequence == 1
    assert "sequence gap or reordering" in {p.problem for p in verified.problems}


def test_concurrent_audits_take_consecutive_sequences_and_the_chain_stays_whole(
    sources: compliance.AuditSources,
) -> None:
    done: list[compliance.ComplianceAudit] = []
    start = threading.Barrier(5)

    def run() -> None:
        start.wait()
        done.append(_audit(sources))

    threads = [threading.Thread(target=run) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.sequence for a in done) == [1, 2, 3, 4, 5]
    assert compliance.verify_chain(sources.chain, TENANT, SIGNER).verified is True


def test_a_tenants_chain_is_its_own(sources: compliance.AuditSources) -> None:
    _audit(sources)
    other = compliance.create_audit(sources, "t2", compliance.AuditCreate(standard="sox"), "k", TTL_ON, SIGNER)
    assert other.sequence == 1
    assert compliance.verify_chain(sources.chain, "t2", SIGNER).records == 1


# ------------------------------------------------------------------------------------ the checks


def test_a_code_change_outside_a_pull_request_is_a_high_finding(sources: compliance.AuditSources) -> None:
    change = _write(sources, "PUT", "/repos/acme/model/contents/train.py", {"branch": "mlops-bot/x"})
    audit = _audit(sources)
    [finding] = audit.findings
    assert (finding.check, finding.severity) == ("change_management", "high")
    assert finding.evidence == [f"{change}: no pull request for branch 'mlops-bot/x'"]
    assert audit.status == "non_compliant" and audit.risk_score > 0


def test_an_action_without_its_audit_record_breaks_the_audit_trail(sources: compliance.AuditSources) -> None:
    _incident(sources, actions_taken=[{"action": "add_dependency", "status": "done", "audit_id": "gone"}])
    _write(sources, "POST", "/repos/acme/model/issues", {}, incident_id="inc-unknown")
    check = _check(_audit(sources), "audit_trail")
    assert check.status == "fail"
    assert any("inc-1: action 'add_dependency' has no audit record" in e for e in check.evidence)
    assert any("refers to unknown incident inc-unknown" in e for e in check.evidence)


def test_data_retention_needs_the_tables_ttl_and_an_expiry_on_every_event(sources: compliance.AuditSources) -> None:
    sources.events.record(
        EventRecord(
            tenant_id=TENANT,
            repository="acme/model",
            delivery_id="d-1",
            execution_id="x",
            received_at=iso(utc_now()),
        ),
        expires=utc_now() + timedelta(days=90),
    )
    assert _check(_audit(sources, "gdpr", scope=["data_retention"]), "data_retention").status == "pass"
    ttl_off = compliance.AuditEnvironment(ttl_attribute=lambda: None)
    audit = _audit(sources, "gdpr", env=ttl_off, scope=["data_retention"])
    assert [c.check for c in audit.checks] == ["data_retention"]
    assert _check(audit, "data_retention").evidence == ["table: time to live is not enabled"]
    assert audit.status == "partially_compliant"


def test_secret_material_is_found_in_any_stored_text_without_being_repeated(
    sources: compliance.AuditSources,
) -> None:
    leaked = "ghp_" + "a" * 36
    sources.repositories.enroll(
        Repository(
            tenant_id=TENANT,
            full_name="acme/model",
            configuration=RepositoryConfiguration.model_validate({"webhook_token_note": leaked}),
        )
    )
    sources.pipelines.create(
        Pipeline(
            id="p-1",
            tenant_id=TENANT,
            name="CI",
            webhook_url="https://hooks.example/x?password=hunter2&key=AKIAABCDEFGHIJKLMNOP",
            created_at=iso(utc_now()),
        ),
        max_pipelines=5,
    )
    audit = _audit(sources, "gdpr", scope=["secrets"])
    check = _check(audit, "secret_material")
    assert check.status == "fail" and check.severity == "critical"
    assert "repository acme/model: github_token in 'configuration.webhook_token_note'" in check.evidence
    assert "pipeline p-1: aws_access_key in 'webhook_url'" in check.evidence
    assert leaked not in audit.model_dump_json() and "AKIAABCDEFGHIJKLMNOP" not in audit.model_dump_json()


def test_an_api_key_kept_other_than_as_its_digest_is_a_finding(sources: compliance.AuditSources) -> None:
    sources.api_keys.save(
        ApiKeyItem(key_id="k-1", tenant_id=TENANT, name="ci", key_hash="Z" * 64, created_at=iso(utc_now()))
    )
    check = _check(_audit(sources, "gdpr", scope=["secrets"]), "secret_material")
    assert check.evidence == ["api_key k-1: API key not stored as a SHA-256 digest only"]


def test_a_password_kept_other_than_as_a_scrypt_hash_is_a_finding(sources: compliance.AuditSources) -> None:
    user = UserRecord(
        id="u-1", username="ana", role="read", tenant_id=TENANT, created_at=iso(utc_now()), password_hash="plain"
    )
    assert sources.users.create(user, max_users=5) == UserCreation.CREATED
    check = _check(_audit(sources, "gdpr", scope=["secrets"]), "secret_material")
    assert check.evidence == ["user u-1: password not stored as a scrypt hash only"]


def test_an_api_key_not_rotated_in_90_days_fails_access_control(sources: compliance.AuditSources) -> None:
    old = iso(utc_now() - timedelta(days=120))
    sources.api_keys.save(
        ApiKeyItem(key_id="old", tenant_id=TENANT, name="ci", key_hash="a" * 64, created_at=old, permissions=["admin"])
    )
    sources.api_keys.save(
        ApiKeyItem(key_id="revoked", tenant_id=TENANT, name="x", key_hash="b" * 64, created_at=old, revoked=True)
    )
    check = _check(_audit(sources, scope=["access_control"]), "access_control")
    assert check.status == "fail"
    assert check.evidence == ["API key old (admin) not rotated for 120 days"]


# ------------------------------------------------------------------------------------ requests and listing


def test_a_scope_selecting_no_check_and_a_missing_signer_are_refused(sources: compliance.AuditSources) -> None:
    with pytest.raises(ValidationFailed):
        _audit(sources, "sox", scope=["data_retention"])
    with pytest.raises(ServiceUnavailable):
        compliance.create_audit(sources, TENANT, compliance.AuditCreate(standard="sox"), "k", TTL_ON, None)
    assert sources.chain.head(TENANT) is None


def test_audits_are_listed_newest_first_with_filters(sources: compliance.AuditSources) -> None:
    first = _audit(sources, "sox")
    second = _audit(sources, "gdpr")
    assert [a.id for a in compliance.list_audits(sources.chain, TENANT).audits] == [second.id, first.id]
    assert [a.id for a in compliance.list_audits(sources.chain, TENANT, standard="sox").audits] == [first.id]
    assert compliance.list_audits(sources.chain, TENANT, status="non_compliant").total == 0
    future = utc_now() + timedelta(days=1)
    assert compliance.list_audits(sources.chain, TENANT, start=future.replace(tzinfo=None)).audits == []
