"""The action log: one record per write the bot decided to make, its idempotency record.

An action is keyed by (incident, attempt, repair). `start` claims it once; `finish` stores its
outcome; `mark_recorded` notes that the outcome reached the incident. A playbook step retried after
a crash at any point finds the record and carries on from where it stopped, never acting twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from pydantic import Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, stored_fields


class ActionStatus(StrEnum):
    STARTED = "started"
    RATE_LIMITED = "rate_limited"
    DONE = "done"


class ActionRecord(StoredItem):
    tenant_id: str = Field(min_length=1, max_length=128)
    incident_id: str = Field(min_length=1, max_length=200)
    action_id: str = Field(min_length=1, max_length=200)
    status: ActionStatus = ActionStatus.STARTED
    rule: str | None = Field(default=None, max_length=200)
    started_at: str | None = None
    finished_at: str | None = None
    retry_after: int | None = Field(default=None, ge=0)
    outcome: dict[str, Any] | None = None
    recorded: bool = False  # the outcome is on the incident (actions_taken, status)


class ActionLog(Protocol):
    def get(self, tenant_id: str, incident_id: str, action_id: str) -> ActionRecord | None: ...

    def start(self, record: ActionRecord) -> bool:
        """Claim the action; False when it was claimed before (a retried step)."""
        ...

    def rate_limited(self, tenant_id: str, incident_id: str, action_id: str, retry_after: int) -> None: ...

    def finish(self, tenant_id: str, incident_id: str, action_id: str, outcome: dict[str, Any]) -> None: ...

    def mark_recorded(self, tenant_id: str, incident_id: str, action_id: str) -> None: ...


def _item(record: ActionRecord) -> dict[str, Any]:
    return {
        **keys.action_key(record.tenant_id, record.incident_id, record.action_id),
        "entity": "action",
        **record.model_dump(mode="json", exclude_none=True),
    }


class DynamoActionLog:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, tenant_id: str, incident_id: str, action_id: str) -> ActionRecord | None:
        item = self.table.get(keys.action_key(tenant_id, incident_id, action_id))
        if item is None:
            return None
        # Records written before `recorded` existed reached the incident in the same step.
        legacy = {"recorded": item.get("status") == ActionStatus.DONE.value}
        return ActionRecord.model_validate(
            {
                "tenant_id": tenant_id,
                "incident_id": incident_id,
                "action_id": action_id,
                **legacy,
                **stored_fields(item),
            }
        )

    def start(self, record: ActionRecord) -> bool:
        return self.table.put_new(_item(record.model_copy(update={"started_at": record.started_at or iso(utc_now())})))

    def rate_limited(self, tenant_id: str, incident_id: str, action_id: str, retry_after: int) -> None:
        self.table.set_fields(
            keys.action_key(tenant_id, incident_id, action_id),
            {"status": ActionStatus.RATE_LIMITED.value, "retry_after": retry_after},
        )

    def finish(self, tenant_id: str, incident_id: str, action_id: str, outcome: dict[str, Any]) -> None:
        self.table.set_fields(
            keys.action_key(tenant_id, incident_id, action_id),
            {"status": ActionStatus.DONE.value, "outcome": outcome, "finished_at": iso(utc_now())},
        )

    def mark_recorded(self, tenant_id: str, incident_id: str, action_id: str) -> None:
        self.table.set_fields(keys.action_key(tenant_id, incident_id, action_id), {"recorded": True}, if_exists=True)


class InMemoryActionLog:
    def __init__(self) -> None:
        self.items: MemoryTable[tuple[str, str, str], ActionRecord] = MemoryTable()

    def get(self, tenant_id: str, incident_id: str, action_id: str) -> ActionRecord | None:
        return self.items.get((tenant_id, incident_id, action_id))

    def start(self, record: ActionRecord) -> bool:
        started = record.model_copy(update={"started_at": record.started_at or iso(utc_now())})
        return self.items.put_new((record.tenant_id, record.incident_id, record.action_id), started)

    def _set(self, key: tuple[str, str, str], **changes: Any) -> None:
        self.items.update(key, lambda current: current.model_copy(update=changes))

    def rate_limited(self, tenant_id: str, incident_id: str, action_id: str, retry_after: int) -> None:
        self._set((tenant_id, incident_id, action_id), status=ActionStatus.RATE_LIMITED, retry_after=retry_after)

    def finish(self, tenant_id: str, incident_id: str, action_id: str, outcome: dict[str, Any]) -> None:
        self._set(
            (tenant_id, incident_id, action_id), status=ActionStatus.DONE, outcome=outcome, finished_at=iso(utc_now())
        )

    def mark_recorded(self, tenant_id: str, incident_id: str, action_id: str) -> None:
        self._set((tenant_id, incident_id, action_id), recorded=True)
