"""The bounds on the bot's writes to a repository: the daily write budget and the circuit breaker.

The budget is one counter item per repository per UTC day (TTL two days). A write is counted once
per `write_id`: a step retried after a crash does not spend the budget twice. The breaker lives on
the repository item (`consecutive_failed_healings`, status `paused`).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.storage import keys


class RepositoryStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class RepairBudgetStore(Protocol):
    def take_write(self, tenant_id: str, repository: str, day: str, *, write_id: str | None, expires: datetime) -> int:
        """Count one write (once per `write_id`) and return the day's writes so far."""
        ...

    def paused(self, tenant_id: str, repository: str) -> bool: ...

    def auto_fix_disabled(self, tenant_id: str, repository: str) -> bool: ...

    def record_success(self, tenant_id: str, repository: str) -> None: ...

    def record_failure(self, tenant_id: str, repository: str, *, pause_at: int) -> bool:
        """Count a failed healing; True when this one paused the repository."""
        ...


class DynamoRepairBudgetStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def take_write(self, tenant_id: str, repository: str, day: str, *, write_id: str | None, expires: datetime) -> int:
        key = keys.write_budget_key(tenant_id, repository, day)
        if write_id is None:
            return self.table.increment(key, "writes", expires_at=epoch_seconds(expires))
        try:
            response = self.table.table.update_item(
                Key=key,
                UpdateExpression="ADD writes :one, write_ids :ids SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(write_ids) OR NOT contains(write_ids, :id)",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":ids": {write_id},
                    ":id": write_id,
                    ":expires": epoch_seconds(expires),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return int((self.table.get(key) or {}).get("writes", 0))  # this write was counted already
        return int(str(response["Attributes"]["writes"]))

    def _repository(self, tenant_id: str, repository: str) -> dict[str, Any]:
        return self.table.get(keys.repository_key(tenant_id, repository)) or {}

    def paused(self, tenant_id: str, repository: str) -> bool:
        return self._repository(tenant_id, repository).get("status") == RepositoryStatus.PAUSED.value

    def auto_fix_disabled(self, tenant_id: str, repository: str) -> bool:
        return (self._repository(tenant_id, repository).get("configuration") or {}).get("auto_fix_enabled") is False

    def record_success(self, tenant_id: str, repository: str) -> None:
        self.table.set_fields(
            keys.repository_key(tenant_id, repository),
            {"consecutive_failed_healings": 0},
            increments={"repairs_successful": 1},
            if_exists=True,
        )

    def record_failure(self, tenant_id: str, repository: str, *, pause_at: int) -> bool:
        key = keys.repository_key(tenant_id, repository)
        item = self.table.set_fields(
            key, {}, increments={"consecutive_failed_healings": 1, "repairs_failed": 1}, if_exists=True
        )
        if int((item or {}).get("consecutive_failed_healings", 0)) < pause_at:
            return False
        paused = self.table.set_fields(
            key,
            {"status": RepositoryStatus.PAUSED.value, "paused_at": iso(utc_now()), "paused_reason": "circuit_breaker"},
            if_exists=True,
            condition="attribute_not_exists(#s0) OR #s0 <> :paused",  # `#s0`: the first SET field, `status`
            condition_values={":paused": RepositoryStatus.PAUSED.value},
        )
        return paused is not None


class InMemoryRepairBudgetStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.writes: Counter[tuple[str, str, str]] = Counter()
        self.write_ids: dict[tuple[str, str, str], set[str]] = {}
        self.status: dict[tuple[str, str], RepositoryStatus] = {}
        self.failures: Counter[tuple[str, str]] = Counter()
        self.auto_fix_off: set[tuple[str, str]] = set()

    def take_write(self, tenant_id: str, repository: str, day: str, *, write_id: str | None, expires: datetime) -> int:
        key = (tenant_id, repository.lower(), day)
        with self._lock:
            seen = self.write_ids.setdefault(key, set())
            if write_id is None or write_id not in seen:
                self.writes[key] += 1
                if write_id is not None:
                    seen.add(write_id)
            return self.writes[key]

    def paused(self, tenant_id: str, repository: str) -> bool:
        return self.status.get((tenant_id, repository.lower())) == RepositoryStatus.PAUSED

    def auto_fix_disabled(self, tenant_id: str, repository: str) -> bool:
        return (tenant_id, repository.lower()) in self.auto_fix_off

    def record_success(self, tenant_id: str, repository: str) -> None:
        with self._lock:
            self.failures[(tenant_id, repository.lower())] = 0

    def record_failure(self, tenant_id: str, repository: str, *, pause_at: int) -> bool:
        key = (tenant_id, repository.lower())
        with self._lock:
            self.failures[key] += 1
            if self.failures[key] < pause_at or self.status.get(key) == RepositoryStatus.PAUSED:
                return False
            self.status[key] = RepositoryStatus.PAUSED
            return True
