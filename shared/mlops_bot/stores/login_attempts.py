"""Failed logins, counted per scope (a user, a client address, or the pair), with the lock they earned.

An item per scope under the reserved `_system` tenant (the name and the address are hashed into
the scope, so neither is stored in the clear). It is forgotten `forget_after` seconds after its
last failure (TTL), and cleared by a successful login.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys

_WINDOW = 0  # one item per scope: the lock, not a window, decides


class FailedLogins(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scope: str
    failures: int = Field(default=0, ge=0)
    locked_until: int = 0
    expires_at: int = 0


class LoginAttemptStore(Protocol):
    def get(self, scope: str, now: int) -> FailedLogins | None: ...
    def record_failure(
        self, scope: str, now: int, lock_seconds: Callable[[int], int], forget_after: int
    ) -> FailedLogins: ...
    def clear(self, scope: str) -> None: ...


def _key(scope: str) -> dict[str, str]:
    return keys.rate_window_key(keys.SYSTEM_TENANT, f"loginfail:{scope}", _WINDOW)


class DynamoLoginAttemptStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, scope: str, now: int) -> FailedLogins | None:
        item = self.table.get(_key(scope))
        if item is None or int(item.get("expires_at", 0)) <= now:
            return None
        return FailedLogins.model_validate({**item, "scope": scope})

    def record_failure(
        self, scope: str, now: int, lock_seconds: Callable[[int], int], forget_after: int
    ) -> FailedLogins:
        item = self.table.set_fields(
            _key(scope),
            {"expires_at": now + forget_after},
            increments={"failures": 1},
            condition="expires_at > :now",
            condition_values={":now": now},
        )
        if item is None:  # no count yet, or one that expired: start again (TTL deletes lazily)
            item = {"failures": 1, "locked_until": 0}
            self.table.put({**_key(scope), **item, "expires_at": now + forget_after})
        failures = int(item.get("failures", 1))
        lock = lock_seconds(failures)
        locked_until = int(item.get("locked_until", 0))
        if lock > 0:
            locked_until = max(locked_until, now + lock)
            self.table.set_fields(_key(scope), {"locked_until": locked_until})
        return FailedLogins(scope=scope, failures=failures, locked_until=locked_until, expires_at=now + forget_after)

    def clear(self, scope: str) -> None:
        self.table.delete(_key(scope))


class InMemoryLoginAttemptStore:
    def __init__(self) -> None:
        self.counts: dict[str, FailedLogins] = {}
        self._lock = threading.Lock()

    def get(self, scope: str, now: int) -> FailedLogins | None:
        found = self.counts.get(scope)
        return found if found is not None and found.expires_at > now else None

    def record_failure(
        self, scope: str, now: int, lock_seconds: Callable[[int], int], forget_after: int
    ) -> FailedLogins:
        with self._lock:
            previous = self.get(scope, now) or FailedLogins(scope=scope)
            failures = previous.failures + 1
            lock = lock_seconds(failures)
            locked_until = max(previous.locked_until, now + lock) if lock > 0 else previous.locked_until
            self.counts[scope] = FailedLogins(
                scope=scope, failures=failures, locked_until=locked_until, expires_at=now + forget_after
            )
            return self.counts[scope]

    def clear(self, scope: str) -> None:
        self.counts.pop(scope, None)
