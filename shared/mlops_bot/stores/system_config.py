"""The deployment's system configuration: one item, changed by operators, read through a short cache.

Readers outside the API (notifications) read it through `cached`, at most `max_age` seconds old
per process; a `put` in this process forgets the cached copy at once, others see it within their
`max_age`. A stored item that no longer validates is logged and read as absent (the defaults),
never a failed request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import StoredItem, read_item


class Features(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_scaling: bool = True
    predictive_scaling: bool = False
    advanced_analytics: bool = True


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_concurrent_executions: int | None = None
    rate_limit_per_minute: int = Field(default=1000, ge=1, le=100_000)
    max_file_size_mb: int = Field(default=25, ge=1, le=25)


class Toggle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


class SlackIntegration(Toggle):
    channels_configured: int = Field(default=0, ge=0, le=1000)


class Integrations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack: SlackIntegration = Field(default_factory=SlackIntegration)
    email: Toggle = Field(default_factory=Toggle)


class StoredConfig(StoredItem):
    """The stored document. `limits.model_fields_set` says which limits were ever stored."""

    features: Features = Field(default_factory=Features)
    limits: Limits = Field(default_factory=Limits)
    integrations: Integrations = Field(default_factory=Integrations)
    updated_at: str | None = Field(default=None, max_length=40)
    updated_by: str | None = Field(default=None, max_length=200)


class SystemConfigStore(Protocol):
    def get(self) -> StoredConfig | None:
        """The stored configuration (None when none was ever stored, or it is unreadable: logged)."""
        ...

    def cached(self, *, max_age: float) -> StoredConfig | None:
        """`get`, answered from this process's copy while it is at most `max_age` seconds old."""
        ...

    def put(self, config: StoredConfig) -> None:
        """Replace the stored configuration (and this process's cached copy)."""
        ...


def _read(item: dict[str, object] | None) -> StoredConfig | None:
    return read_item(StoredConfig, item or None, "system configuration")


class _Cache:
    """One cached read per table (or in-memory store), behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, StoredConfig | None]] = {}

    def read(self, name: str, max_age: float, load: Callable[[], StoredConfig | None]) -> StoredConfig | None:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(name)
        if found is not None and now - found[0] <= max_age:
            return found[1].model_copy(deep=True) if found[1] is not None else None
        value = load()
        with self._lock:
            self._entries[name] = (now, value)
        return value.model_copy(deep=True) if value is not None else None

    def forget(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._entries.clear()
            else:
                self._entries.pop(name, None)


_cache = _Cache()  # per process, like a Lambda container's memory: shared by every store of a table


def forget_cached() -> None:
    """Drop every cached copy (a test, or a new app, starts from the table)."""
    _cache.forget()


class DynamoSystemConfigStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self) -> StoredConfig | None:
        return _read(self.table.get(keys.system_config_key(), consistent=False))

    def cached(self, *, max_age: float) -> StoredConfig | None:
        return _cache.read(f"dynamodb:{self.table.name}", max_age, self.get)

    def put(self, config: StoredConfig) -> None:
        self.table.put(
            {
                **keys.system_config_key(),
                "entity": "system_config",
                **config.model_dump(mode="json", exclude_unset=True, exclude_none=True),
            }
        )
        _cache.forget(f"dynamodb:{self.table.name}")


class InMemorySystemConfigStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config: StoredConfig | None = None
        self._cached: tuple[float, StoredConfig | None] | None = None

    def get(self) -> StoredConfig | None:
        with self._lock:
            return self.config.model_copy(deep=True) if self.config is not None else None

    def cached(self, *, max_age: float) -> StoredConfig | None:
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and now - self._cached[0] <= max_age:
                found = self._cached[1]
                return found.model_copy(deep=True) if found is not None else None
        value = self.get()
        with self._lock:
            self._cached = (now, value)
        return value.model_copy(deep=True) if value is not None else None

    def put(self, config: StoredConfig) -> None:
        # through JSON, as DynamoDB would: only what was set is stored, and a second read sees that
        stored = StoredConfig.model_validate_json(config.model_dump_json(exclude_unset=True, exclude_none=True))
        with self._lock:
            self.config = stored
            self._cached = None
