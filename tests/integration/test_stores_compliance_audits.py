"""The compliance chain store keeps one promise on DynamoDB (moto) and in memory; a damaged stored
record is shown to verification, never skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.management.reports import compliance
from mlops_bot.storage import keys
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.compliance_audits import (
    ComplianceAuditStore,
    ComplianceRecord,
    DynamoComplianceAuditStore,
    InMemoryComplianceAuditStore,
)
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.pipelines import DynamoPipelineStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.users import DynamoUserStore
from tests.support.aws import create_state
from tests.support.signing import HmacSigner

ENV = compliance.AuditEnvironment(ttl_attribute=lambda: "expires_at")


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@dataclass
class Chain:
    tenant: str
    store: ComplianceAuditStore


@pytest.fixture(params=["dynamodb", "memory"])
def chain(request: pytest.FixtureRequest, table: StateTable) -> Chain:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoComplianceAuditStore(table) if request.param == "dynamodb" else InMemoryComplianceAuditStore()
    return Chain(tenant, store)


def record(tenant: str, sequence: int, previous_hash: str = compliance.GENESIS, **fields: object) -> ComplianceRecord:
    values: dict[str, object] = {
        "id": f"audit-{sequence}",
        "tenant_id": tenant,
        "standard": "sox",
        "scope": ["audit_trail"],
        "requested_by": "key-1",
        "status": "partially_compliant",
        "audit_date": "2026-11-27T10:00:00Z",
        "findings": [{"check": "data_retention", "severity": "medium", "evidence": [], "remediation": None}],
        "checks": [{"check": "data_retention", "status": "fail", "details": "1 of 2"}],
        "risk_score": 2.5,
        "sequence": sequence,
        "previous_hash": previous_hash,
        "record_hash": f"sha256:{sequence:064d}",
        "digital_signature": "kms:ECDSA_SHA_256:c2ln",
        "signature_algorithm": "ECDSA_SHA_256",
        "signing_key_id": "key",
        **fields,
    }
    return ComplianceRecord.model_validate(values)


def test_an_empty_chain_has_no_head(chain: Chain) -> None:
    assert chain.store.head(chain.tenant) is None
    assert chain.store.chain(chain.tenant) == [] and chain.store.audits(chain.tenant) == []


def test_a_sequence_is_taken_once_and_the_head_is_the_newest(chain: Chain) -> None:
    assert chain.store.append(record(chain.tenant, 1))
    assert chain.store.append(record(chain.tenant, 2, "sha256:" + "1".zfill(64)))
    assert not chain.store.append(record(chain.tenant, 2, id="audit-late"))
    head = chain.store.head(chain.tenant)
    assert head is not None and (head.sequence, head.record_hash) == (2, f"sha256:{2:064d}")
    assert [link.filed_as for link in chain.store.chain(chain.tenant)] == [1, 2]
    assert [r.id for r in chain.store.audits(chain.tenant)] == ["audit-2", "audit-1"]
    assert chain.store.head(f"{chain.tenant}-other") is None


def test_a_record_reads_back_as_it_was_signed(chain: Chain) -> None:
    stored = record(chain.tenant, 1, auditor_id=None)
    chain.store.append(stored)
    [link] = chain.store.chain(chain.tenant)
    assert link.record is not None and link.problem is None
    # what the hash covers is the same before and after the round trip through the store
    assert compliance._digest(link.record.model_dump(mode="json")) == compliance._digest(stored.model_dump(mode="json"))
    assert link.record.risk_score == 2.5 and link.record.findings[0]["evidence"] == []


def test_an_unreadable_record_is_a_link_for_verification_and_skipped_by_the_listing(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    store = DynamoComplianceAuditStore(table)
    signer = HmacSigner()
    first = compliance.create_audit(
        _sources(table, store), tenant, compliance.AuditCreate(standard="sox"), "k", ENV, signer
    )
    # a second record filed without most of its fields: had verification skipped it, the chain would look whole
    table.put({**keys.compliance_record_key(tenant, 2), "entity": "compliance_audit", "id": "audit-x", "sequence": 2})
    [one, two] = store.chain(tenant)
    assert one.record is not None and one.record.id == first.id
    assert two.filed_as == 2 and two.record is None and two.problem and "unreadable" in two.problem
    assert [r.id for r in store.audits(tenant)] == [first.id]
    verified = compliance.verify_chain(store, tenant, signer)
    assert verified.verified is False and verified.first_broken_sequence == 2 and verified.records == 2
    head = store.head(tenant)
    assert head is not None and head.sequence == 2  # the next audit files after it, not over it


def _sources(table: StateTable, chain: ComplianceAuditStore) -> compliance.AuditSources:
    return compliance.AuditSources(
        chain=chain,
        audit_log=DynamoAuditLog(table),
        incidents=DynamoIncidentStore(table),
        events=DynamoEventStore(table),
        repositories=DynamoRepositoryStore(table),
        pipelines=DynamoPipelineStore(table),
        api_keys=DynamoApiKeyStore(table),
        users=DynamoUserStore(table),
    )
