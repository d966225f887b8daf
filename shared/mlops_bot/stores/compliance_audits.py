"""Compliance audits, kept per tenant as a hash chain: record `n` is filed under sequence `n`.

`append` writes a record only where no record is filed yet (a conditional write), so two audits
racing for the next sequence cannot both take it; the loser re-reads the `head` and tries the next.
`chain` gives back every filed record, oldest first, *including* the ones that no longer validate
(as an unreadable link, with where it is filed): verifying the chain must see a damaged record,
never skip it. `audits` is the listing for display, which logs and skips such a record.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, stored_fields

logger = logging.getLogger(__name__)

SEQUENCE_PREFIX = "AUDIT#"


class ComplianceStandard(StrEnum):
    SOX = "sox"
    GDPR = "gdpr"
    HIPAA = "hipaa"
    PCI_DSS = "pci_dss"


class ComplianceStatus(StrEnum):
    COMPLIANT = "compliant"
    PARTIALLY_COMPLIANT = "partially_compliant"
    NON_COMPLIANT = "non_compliant"


class ComplianceRecord(StoredItem):
    """One signed audit of the chain, with the spec's field names."""

    id: str = Field(min_length=1, max_length=100)
    tenant_id: str = Field(min_length=1, max_length=128)
    standard: ComplianceStandard
    scope: list[str] = Field(default_factory=list, max_length=8)
    auditor_id: str | None = Field(default=None, max_length=128)
    requested_by: str = Field(max_length=200)
    status: ComplianceStatus
    audit_date: str = Field(max_length=40)
    findings: list[dict[str, Any]] = Field(default_factory=list)
    checks: list[dict[str, Any]] = Field(default_factory=list)
    risk_score: float = Field(ge=0, le=10)
    sequence: int = Field(ge=1)
    previous_hash: str = Field(max_length=100)
    record_hash: str = Field(max_length=100)
    digital_signature: str = Field(max_length=2000)
    signature_algorithm: str = Field(max_length=100)
    signing_key_id: str = Field(max_length=2048)


class ChainHead(BaseModel):
    """What the next record links to: the newest filed sequence and the hash stored with it."""

    sequence: int
    record_hash: str


class ChainLink(BaseModel):
    """A filed record: where it is filed, and the record (None when it no longer validates)."""

    filed_as: int
    record: ComplianceRecord | None
    problem: str | None = None


class ComplianceAuditStore(Protocol):
    def append(self, record: ComplianceRecord) -> bool:
        """File the record under its sequence; False (nothing written) when that sequence is taken."""
        ...

    def head(self, tenant_id: str) -> ChainHead | None:
        """The newest filed record's sequence and hash; None for an empty chain."""
        ...

    def chain(self, tenant_id: str) -> list[ChainLink]:
        """Every filed record, oldest first, unreadable ones included."""
        ...

    def audits(self, tenant_id: str) -> list[ComplianceRecord]:
        """The readable records, newest first (an unreadable one is logged and skipped)."""
        ...


def _filed_as(sort_key: str) -> int | None:
    number = sort_key.removeprefix(SEQUENCE_PREFIX)
    return int(number) if number.isdigit() else None


def _link(item: dict[str, Any]) -> ChainLink | None:
    filed_as = _filed_as(str(item.get("sk", "")))
    if filed_as is None:
        return None
    try:
        return ChainLink(filed_as=filed_as, record=ComplianceRecord.model_validate(stored_fields(item)))
    except ValidationError as exc:
        problems = exc.errors(include_input=False)[:3]
        logger.warning("unreadable compliance record at sequence %s: %s", filed_as, problems)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in problems)
        return ChainLink(filed_as=filed_as, record=None, problem=f"record unreadable ({fields})")


class DynamoComplianceAuditStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def append(self, record: ComplianceRecord) -> bool:
        return self.table.put_new(
            {
                **keys.compliance_record_key(record.tenant_id, record.sequence),
                "entity": "compliance_audit",
                **record.model_dump(mode="json", exclude_none=True),
            }
        )

    def head(self, tenant_id: str) -> ChainHead | None:
        newest = self.table.query(keys.compliance_pk(tenant_id), SEQUENCE_PREFIX, newest_first=True, limit=1)
        if not newest:
            return None
        filed_as = _filed_as(str(newest[0].get("sk", "")))
        if filed_as is None:
            return None
        return ChainHead(sequence=filed_as, record_hash=str(newest[0].get("record_hash", "")))

    def chain(self, tenant_id: str) -> list[ChainLink]:
        found = (_link(i) for i in self.table.query(keys.compliance_pk(tenant_id), SEQUENCE_PREFIX))
        return [link for link in found if link is not None]

    def audits(self, tenant_id: str) -> list[ComplianceRecord]:
        return [link.record for link in reversed(self.chain(tenant_id)) if link.record is not None]


class InMemoryComplianceAuditStore:
    """The same promises as `DynamoComplianceAuditStore`, for unit tests of the service.

    `records` is keyed by (tenant, filed sequence): a test may file a tampered copy anywhere.
    """

    def __init__(self) -> None:
        self.records: MemoryTable[tuple[str, int], ComplianceRecord] = MemoryTable()

    def append(self, record: ComplianceRecord) -> bool:
        # through JSON, as DynamoDB would keep it (an integral float comes back as it went in)
        stored = ComplianceRecord.model_validate_json(record.model_dump_json())
        return self.records.put_new((record.tenant_id, record.sequence), stored)

    def _filed(self, tenant_id: str) -> list[tuple[int, ComplianceRecord]]:
        known = self.records.keys()  # a MemoryTable, not a dict
        filed = [key[1] for key in known if key[0] == tenant_id]
        found = [(sequence, self.records.get((tenant_id, sequence))) for sequence in sorted(filed)]
        return [(sequence, record) for sequence, record in found if record is not None]

    def head(self, tenant_id: str) -> ChainHead | None:
        filed = self._filed(tenant_id)
        if not filed:
            return None
        sequence, record = filed[-1]
        return ChainHead(sequence=sequence, record_hash=record.record_hash)

    def chain(self, tenant_id: str) -> list[ChainLink]:
        return [ChainLink(filed_as=sequence, record=record) for sequence, record in self._filed(tenant_id)]

    def audits(self, tenant_id: str) -> list[ComplianceRecord]:
        return [record for _, record in reversed(self._filed(tenant_id))]
