"""Tenants: the registry the sweep and the operators walk, each tenant's profile, and its quota counters.

What is stored, and how:
- the registry under the reserved `_system` tenant (`TENANT#_system#TENANTS` / `TENANT#t`), one
  item per tenant, written once (a conditional put: registering again changes nothing); the
  reserved tenant itself is never listed;
- the profile (`TENANT#t` / `PROFILE`): name, admin e-mail, status and the resource quota;
- the counters (`TENANT#t` / `COUNTERS`): `pipeline_count` and `user_count`. This store only reads
  them: `stores.pipelines` and `stores.users` move a counter in the same DynamoDB transaction as
  the pipeline or user it counts, so the counter always equals the number of things counted.

A malformed profile (written before these rules, or by hand) is logged and read as missing by the
listing, never a failed answer; `profile` itself raises `UnreadableProfile` so a caller that needs
the tenant can say so.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import StoredItem
from mlops_bot.stores.pipelines import PIPELINE_COUNTER, InMemoryPipelineStore
from mlops_bot.stores.users import USER_COUNTER, InMemoryUserStore

logger = logging.getLogger("mlops_bot.stores.tenants")

TenantId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Timestamp = Annotated[str, StringConstraints(max_length=40)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ResourceQuota(BaseModel):
    """The spec's `resource_quota`; defaults apply to tenants created without one (e.g. `default`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_pipelines: int = Field(default=100, ge=0, le=100_000)
    max_storage_gb: float = Field(default=500, ge=0, le=1_000_000)
    max_users: int = Field(default=50, ge=0, le=100_000)


class TenantRegistration(StoredItem):
    """A tenant's entry in the registry (`TENANT#_system#TENANTS` / `TENANT#t`)."""

    tenant_id: TenantId
    created_at: Timestamp = ""


class TenantProfile(StoredItem):
    """The tenant's profile (`TENANT#t` / `PROFILE`); profiles written by hand may lack all but the quota."""

    tenant_id: TenantId
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    admin_email: Annotated[str, StringConstraints(max_length=254)] | None = None
    status: TenantStatus = TenantStatus.ACTIVE
    created_at: Timestamp | None = None
    resource_quota: ResourceQuota = Field(default_factory=ResourceQuota)


class TenantCounters(StoredItem):
    """What the quota counters say now (`TENANT#t` / `COUNTERS`); absent counters are zero."""

    pipeline_count: Count = 0
    user_count: Count = 0


class UnreadableProfile(ValueError):
    """The stored profile does not validate (logged with its problems, never its contents)."""


class TenantStore(Protocol):
    def register(self, tenant_id: str, created_at: str) -> bool:
        """Add the tenant to the registry; False (nothing changes) when it is there already."""
        ...

    def registration(self, tenant_id: str) -> TenantRegistration | None: ...

    def registered(self) -> list[TenantRegistration]:
        """Every registered tenant but the reserved `_system` one, by id; malformed entries are skipped."""
        ...

    def save_profile(self, profile: TenantProfile) -> None: ...

    def profile(self, tenant_id: str, *, consistent: bool = True) -> TenantProfile | None:
        """The profile, None when there is none; `UnreadableProfile` when the stored one is malformed."""
        ...

    def quota(self, tenant_id: str) -> ResourceQuota:
        """The tenant's quota (the defaults without a profile); `UnreadableProfile` when malformed."""
        ...

    def counters(self, tenant_id: str) -> TenantCounters: ...


def _registration(item: dict[str, Any]) -> TenantRegistration | None:
    try:
        return TenantRegistration.model_validate(item)
    except ValidationError as exc:
        logger.error(
            "unreadable tenant registration skipped",
            extra={"sk": item.get("sk"), "problems": exc.errors(include_input=False)[:5]},
        )
        return None


def _profile(tenant_id: str, item: dict[str, Any]) -> TenantProfile:
    try:
        return TenantProfile.model_validate({**item, "tenant_id": tenant_id})
    except ValidationError as exc:
        problems = exc.errors(include_input=False)[:5]
        logger.error("unreadable tenant profile", extra={"tenant_id": tenant_id, "problems": problems})
        raise UnreadableProfile(tenant_id) from exc


class DynamoTenantStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def register(self, tenant_id: str, created_at: str) -> bool:
        registration = TenantRegistration(tenant_id=tenant_id, created_at=created_at)
        return self._table.put_new({**keys.tenant_registry_key(tenant_id), **registration.model_dump()})

    def registration(self, tenant_id: str) -> TenantRegistration | None:
        item = self._table.get(keys.tenant_registry_key(tenant_id))
        return _registration(item) if item else None

    def registered(self) -> list[TenantRegistration]:
        items = self._table.query(keys.tenant_registry_pk(), keys.tenant_registry_prefix())
        found = (_registration(item) for item in items)
        return [r for r in found if r is not None and r.tenant_id != keys.SYSTEM_TENANT]

    def save_profile(self, profile: TenantProfile) -> None:
        fields = profile.model_dump(mode="json", exclude_none=True)
        self._table.put({**keys.tenant_profile_key(profile.tenant_id), "entity": "tenant", **fields})

    def profile(self, tenant_id: str, *, consistent: bool = True) -> TenantProfile | None:
        item = self._table.get(keys.tenant_profile_key(tenant_id), consistent=consistent)
        return _profile(tenant_id, item) if item else None

    def quota(self, tenant_id: str) -> ResourceQuota:
        found = self.profile(tenant_id, consistent=False)
        return found.resource_quota if found else ResourceQuota()

    def counters(self, tenant_id: str) -> TenantCounters:
        item = self._table.get(keys.tenant_counters_key(tenant_id)) or {}
        return TenantCounters(
            pipeline_count=int(item.get(PIPELINE_COUNTER, 0)), user_count=int(item.get(USER_COUNTER, 0))
        )


class InMemoryTenantStore:
    """The same promises in dicts; the counters are what the in-memory pipeline and user stores hold."""

    def __init__(self, pipelines: InMemoryPipelineStore | None = None, users: InMemoryUserStore | None = None) -> None:
        self._lock = threading.Lock()
        self._registry: dict[str, TenantRegistration] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
        self._pipelines = pipelines
        self._users = users

    def register(self, tenant_id: str, created_at: str) -> bool:
        registration = TenantRegistration(tenant_id=tenant_id, created_at=created_at)
        with self._lock:
            if tenant_id in self._registry:
                return False
            self._registry[tenant_id] = registration
            return True

    def registration(self, tenant_id: str) -> TenantRegistration | None:
        with self._lock:
            found = self._registry.get(tenant_id)
            return found.model_copy() if found else None

    def registered(self) -> list[TenantRegistration]:
        with self._lock:
            return [r.model_copy() for t, r in sorted(self._registry.items()) if t != keys.SYSTEM_TENANT]

    def save_profile(self, profile: TenantProfile) -> None:
        with self._lock:
            self._profiles[profile.tenant_id] = profile.model_dump(mode="json", exclude_none=True)

    def store_raw_profile(self, tenant_id: str, item: dict[str, Any]) -> None:
        """Keep a profile as found in storage, however malformed (what a unit test of a bad item needs)."""
        with self._lock:
            self._profiles[tenant_id] = dict(item)

    def profile(self, tenant_id: str, *, consistent: bool = True) -> TenantProfile | None:
        with self._lock:
            item = self._profiles.get(tenant_id)
        return _profile(tenant_id, item) if item is not None else None

    def quota(self, tenant_id: str) -> ResourceQuota:
        found = self.profile(tenant_id, consistent=False)
        return found.resource_quota if found else ResourceQuota()

    def counters(self, tenant_id: str) -> TenantCounters:
        return TenantCounters(
            pipeline_count=self._pipelines.count(tenant_id) if self._pipelines else 0,
            user_count=len(self._users.list(tenant_id)) if self._users else 0,
        )
