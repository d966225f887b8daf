"""The audit log's whole trail (`AuditLog.trail`, what compliance audits read) on DynamoDB (moto) and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from moto import mock_aws

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.audit import AuditEntry, AuditLog, DynamoAuditLog, InMemoryAuditLog
from tests.support.aws import create_state


@pytest.fixture(scope="module")
def table() -> Iterator[StateTable]:
    with mock_aws():
        yield StateTable(create_state().table_name)


@pytest.fixture(params=["dynamodb", "memory"])
def log(request: pytest.FixtureRequest, table: StateTable) -> AuditLog:
    return DynamoAuditLog(table) if request.param == "dynamodb" else InMemoryAuditLog()


def entry(tenant: str, path: str) -> AuditEntry:
    return AuditEntry(
        tenant_id=tenant,
        repository="acme/model",
        method="POST",
        path=path,
        summary="a write",
        dry_run=False,
        result="done",
        details={"branch": "mlops-bot/fix"},
    )


def test_the_trail_is_every_record_of_the_tenant_oldest_first(log: AuditLog) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    first = log.record(entry(tenant, "/one"))
    second = log.record(entry(tenant, "/two"), idempotency_key="step-2")
    log.record(entry(f"{tenant}-other", "/theirs"))
    trail = log.trail(tenant)
    assert {r.id for r in trail.records} == {first, second}
    assert [r.path for r in trail.records] == ["/one", "/two"]
    assert trail.records[0].details == {"branch": "mlops-bot/fix"}
    assert trail.unreadable == []


def test_an_unreadable_record_is_named_not_fatal(table: StateTable) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    log = DynamoAuditLog(table)
    good = log.record(entry(tenant, "/one"))
    table.put({**keys.audit_key(tenant, "2026-11-27T10:00:00Z", "broken"), "entity": "audit", "id": "broken"})
    trail = log.trail(tenant)
    assert [r.id for r in trail.records] == [good]
    assert trail.unreadable == ["broken"]
