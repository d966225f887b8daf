"""The audit log: one record for every write the bot makes or plans (who, what, why, result).

Records are listed newest first, a page at a time. A write that may be retried (a playbook step,
a scheduled dispatch) passes an idempotency key: the record and a marker for the key are written in
one transaction, so the retry finds the marker and the write is audited once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.base import Page, StoredItem, page_of, query_page, stored_fields, to_dynamo

logger = logging.getLogger(__name__)


class AuditEntry(StoredItem):
    """What a caller records; the store adds `id` and `at`."""

    tenant_id: str = Field(min_length=1, max_length=128)
    installation_id: int | None = None
    repository: str = Field(min_length=1, max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=1000)
    summary: str = Field(max_length=2000)
    incident_id: str | None = Field(default=None, max_length=200)
    playbook: str | None = Field(default=None, max_length=100)
    rule: str | None = Field(default=None, max_length=200)
    dry_run: bool
    result: str = Field(max_length=500)
    details: dict[str, Any] = Field(default_factory=dict)


class AuditRecord(AuditEntry):
    id: str
    at: str


class AuditLog(Protocol):
    def record(self, entry: AuditEntry, *, idempotency_key: str | None = None) -> str:
        """Store the record and return its id; with a key already used, the first record's id."""
        ...

    def page(self, tenant_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[AuditRecord]:
        """Newest first."""
        ...

    def recorded(self, tenant_id: str, idempotency_key: str) -> str | None:
        """The id of the record written with this key, if there is one."""
        ...

    def trail(self, tenant_id: str) -> AuditTrail:
        """Every record of the tenant, oldest first, and where the unreadable ones are (logged)."""
        ...


class DynamoAuditLog:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def record(self, entry: AuditEntry, *, idempotency_key: str | None = None) -> str:
        audit_id, at = str(uuid.uuid4()), iso(utc_now())
        item = {
            **keys.audit_key(entry.tenant_id, at, audit_id),
            "entity": "audit",
            "id": audit_id,
            "at": at,
            **entry.model_dump(mode="json", exclude_none=True),
        }
        if idempotency_key is None:
            self.table.put(item)
            return audit_id
        marker = {**keys.audit_once_key(entry.tenant_id, idempotency_key), "entity": "audit_once", "audit_id": audit_id}
        client = self.table.table.meta.client  # the resource's client: it serialises values itself
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": to_dynamo(marker),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self.table.name, "Item": to_dynamo(item)}},
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            found = self.table.get(keys.audit_once_key(entry.tenant_id, idempotency_key))
            if found is None:
                raise
            return str(found["audit_id"])
        return audit_id

    def page(self, tenant_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[AuditRecord]:
        items, next_cursor = query_page(
            self.table, keys.audit_pk(tenant_id), newest_first=True, limit=limit, cursor=cursor, sk_prefix="AUDIT#"
        )
        return Page(items=[AuditRecord.model_validate(stored_fields(i)) for i in items], cursor=next_cursor)

    def recorded(self, tenant_id: str, idempotency_key: str) -> str | None:
        found = self.table.get(keys.audit_once_key(tenant_id, idempotency_key))
        return str(found["audit_id"]) if found else None

    def trail(self, tenant_id: str) -> AuditTrail:
        trail = AuditTrail()
        for item in self.table.query(keys.audit_pk(tenant_id), "AUDIT#"):
            try:
                trail.records.append(AuditRecord.model_validate(stored_fields(item)))
            except ValidationError as exc:
                where = str(item.get("id") or str(item.get("sk", "")).removeprefix("AUDIT#"))
                logger.warning("unreadable audit record %s: %s", where, exc.errors(include_input=False)[:3])
                trail.unreadable.append(where)
        return trail


class InMemoryAuditLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[AuditRecord] = []
        self.once: dict[tuple[str, str], str] = {}

    def record(self, entry: AuditEntry, *, idempotency_key: str | None = None) -> str:
        with self._lock:
            if idempotency_key is not None and (entry.tenant_id, idempotency_key) in self.once:
                return self.once[(entry.tenant_id, idempotency_key)]
            record = AuditRecord(**entry.model_dump(), id=str(uuid.uuid4()), at=iso(utc_now()))
            self.records.append(record)
            if idempotency_key is not None:
                self.once[(entry.tenant_id, idempotency_key)] = record.id
            return record.id

    def page(self, tenant_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[AuditRecord]:
        mine = sorted((r for r in self.records if r.tenant_id == tenant_id), key=lambda r: (r.at, r.id), reverse=True)
        return page_of(mine, limit, cursor, lambda r: f"{r.at}#{r.id}")

    def recorded(self, tenant_id: str, idempotency_key: str) -> str | None:
        return self.once.get((tenant_id, idempotency_key))

    def trail(self, tenant_id: str) -> AuditTrail:
        with self._lock:
            mine = sorted((r for r in self.records if r.tenant_id == tenant_id), key=lambda r: (r.at, r.id))
            return AuditTrail(records=[r.model_copy(deep=True) for r in mine])


# ------------------------------------------------------------------ the whole trail (compliance audits)


class AuditTrail(BaseModel):
    """A tenant's audit records, oldest first; `unreadable` names the stored ones that no longer validate."""

    records: list[AuditRecord] = Field(default_factory=list)
    unreadable: list[str] = Field(default_factory=list)
