"""Monitored repositories, and the routes that say which tenant owns a repository or installation.

What is stored, and how:
- the repository item (`TENANT#t` / `REPO#owner/name`, listed through gsi1 `TENANT#t#REPOS`);
- the routing lookups under the `_system` tenant: repository → tenant and installation → tenant,
  first registration wins (a conditional put);
- the tenant registry the scheduled sweep walks.

Items are validated both ways. A write can not store a non-finite number, an unbounded string or
a name GitHub would refuse; a read that meets a malformed item (written before these rules, or
by hand) logs it and leaves it out of the listing instead of failing the whole answer.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.repository_names import RepositoryFullName
from mlops_bot.storage import keys
from mlops_bot.strict_json import finite_tree

logger = logging.getLogger("mlops_bot.stores.repositories")

TenantId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Timestamp = Annotated[str, StringConstraints(max_length=40)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
# A stored configuration stays far below DynamoDB's 400 KB item limit.
MAX_CONFIGURATION_BYTES = 64 * 1024


class RepositoryStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


class Sensitivity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RepositoryConfiguration(BaseModel):
    """The management API's settings for one repository (`.github/mlops-bot.yml` merges under them).

    Fields other parts of the bot add are kept (`extra="allow"`), checked finite like the rest.
    """

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    # None: not set through the API, so `.github/mlops-bot.yml` (or the bot's default) decides.
    # Storing the defaults here would make the API "win" over a file that never lost a setting.
    auto_fix_enabled: bool | None = None
    notification_channels: list[Annotated[str, StringConstraints(max_length=32)]] | None = Field(
        default=None, max_length=10
    )
    detection_sensitivity: Sensitivity | None = None
    custom_playbooks: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=20)

    def effective(self) -> dict[str, Any]:
        """What the API shows: the bot's defaults under whatever was set."""
        return {
            "auto_fix_enabled": True,
            "notification_channels": [],
            "detection_sensitivity": Sensitivity.MEDIUM.value,
            "custom_playbooks": [],
            **self.model_dump(mode="json", exclude_none=True),
        }

    @field_validator("*", mode="after")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return finite_tree(value)

    def model_post_init(self, _context: Any) -> None:
        for name, value in (self.model_extra or {}).items():
            finite_tree(value, name)


class Repository(BaseModel):
    """One monitored repository of one tenant."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    tenant_id: TenantId
    full_name: RepositoryFullName
    status: RepositoryStatus = RepositoryStatus.ACTIVE
    enrolled_by: Annotated[str, StringConstraints(max_length=64)] = "api"
    created_at: Timestamp | None = None
    last_event: Timestamp | None = None
    total_events: Count = 0
    issues_detected: Count = 0
    repairs_attempted: Count = 0
    repairs_successful: Count = 0
    repairs_failed: Count = 0
    configuration: RepositoryConfiguration = Field(default_factory=RepositoryConfiguration)
    configuration_updated_at: Timestamp | None = None


class RepositoryStore(Protocol):
    def get(self, tenant_id: str, full_name: str) -> Repository | None:
        """The repository, or None when it is not monitored (or its stored item is unreadable, logged)."""
        ...

    def of_tenant(self, tenant_id: str) -> list[Repository]:
        """Every readable repository of the tenant, by name; malformed items are logged and skipped."""
        ...

    def enroll(self, repository: Repository) -> bool:
        """Store a new repository; False when the tenant already monitors it (nothing changes)."""
        ...

    def update_configuration(
        self, tenant_id: str, full_name: str, configuration: RepositoryConfiguration, updated_at: str
    ) -> Repository | None:
        """Replace the configuration; None when the repository is not monitored."""
        ...

    def repository_owner(self, full_name: str) -> str | None: ...

    def claim_repository(self, full_name: str, tenant_id: str) -> str:
        """Route the repository to `tenant_id` unless another tenant has it; returns the owner."""
        ...

    def installation_owner(self, installation_id: int) -> str | None: ...

    def claim_installation(self, installation_id: int, tenant_id: str) -> str:
        """Route the installation to `tenant_id` unless already routed; returns the owner."""
        ...

    def register_tenant(self, tenant_id: str, created_at: str) -> None:
        """Add the tenant to the registry the scheduled sweep walks (idempotent)."""
        ...

    def last_good_ref(self, tenant_id: str, full_name: str) -> str | None:
        """The ref of the repository's last successful deployment (a rollback's target), if one was seen."""
        ...


def _configuration_size_ok(configuration: RepositoryConfiguration) -> RepositoryConfiguration:
    size = len(configuration.model_dump_json())
    if size > MAX_CONFIGURATION_BYTES:
        raise ValueError(f"the configuration is {size} bytes; at most {MAX_CONFIGURATION_BYTES} are kept")
    return configuration


def _read(item: dict[str, Any] | None) -> Repository | None:
    if item is None:
        return None
    try:
        return Repository.model_validate(item)
    except ValidationError as exc:
        logger.error(
            "unreadable repository item skipped",
            extra={"pk": item.get("pk"), "sk": item.get("sk"), "problems": exc.errors(include_input=False)[:5]},
        )
        return None


class DynamoRepositoryStore:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def get(self, tenant_id: str, full_name: str) -> Repository | None:
        return _read(self._table.get(keys.repository_key(tenant_id, full_name)))

    def of_tenant(self, tenant_id: str) -> list[Repository]:
        found = (_read(item) for item in self._table.query(keys.tenant_pk(tenant_id), "REPO#"))
        return [repository for repository in found if repository is not None]

    def enroll(self, repository: Repository) -> bool:
        _configuration_size_ok(repository.configuration)
        return self._table.put_new(
            {
                **keys.repository_key(repository.tenant_id, repository.full_name),
                "gsi1pk": keys.repositories_index(repository.tenant_id),
                "gsi1sk": repository.full_name.lower(),
                "entity": "repository",
                **repository.model_dump(mode="json", exclude_none=True),
            }
        )

    def update_configuration(
        self, tenant_id: str, full_name: str, configuration: RepositoryConfiguration, updated_at: str
    ) -> Repository | None:
        _configuration_size_ok(configuration)
        updated = self._table.set_fields(
            keys.repository_key(tenant_id, full_name),
            {
                "configuration": configuration.model_dump(mode="json", exclude_none=True),
                "configuration_updated_at": updated_at,
            },
            if_exists=True,
        )
        return _read(updated)

    def repository_owner(self, full_name: str) -> str | None:
        return _owner(self._table.get(keys.repository_route_key(full_name), consistent=False))

    def claim_repository(self, full_name: str, tenant_id: str) -> str:
        route = {**keys.repository_route_key(full_name), "tenant_id": tenant_id, "created_at": _now()}
        if self._table.put_new(route):
            return tenant_id
        return _owner(self._table.get(keys.repository_route_key(full_name))) or tenant_id

    def installation_owner(self, installation_id: int) -> str | None:
        return _owner(self._table.get(keys.installation_route_key(installation_id), consistent=False))

    def claim_installation(self, installation_id: int, tenant_id: str) -> str:
        route = {
            **keys.installation_route_key(installation_id),
            "tenant_id": tenant_id,
            "installation_id": installation_id,
            "created_at": _now(),
        }
        if self._table.put_new(route):
            return tenant_id
        return _owner(self._table.get(keys.installation_route_key(installation_id))) or tenant_id

    def register_tenant(self, tenant_id: str, created_at: str) -> None:
        self._table.put_new({**keys.tenant_registry_key(tenant_id), "tenant_id": tenant_id, "created_at": created_at})

    def last_good_ref(self, tenant_id: str, full_name: str) -> str | None:
        item = self._table.get(keys.repository_key(tenant_id, full_name), consistent=False) or {}
        deployment = item.get("last_good_deployment")
        ref = deployment.get("ref") if isinstance(deployment, dict) else None
        return str(ref)[:255] if ref else None


def _owner(item: dict[str, Any] | None) -> str | None:
    return str(item["tenant_id"]) if item and item.get("tenant_id") else None


def _now() -> str:
    return iso(utc_now())


class InMemoryRepositoryStore:
    """The same promises in a dict, for unit tests of the services."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.repositories: dict[tuple[str, str], Repository] = {}
        self.repository_routes: dict[str, str] = {}
        self.installation_routes: dict[int, str] = {}
        self.tenants: set[str] = set()

    def get(self, tenant_id: str, full_name: str) -> Repository | None:
        with self._lock:
            found = self.repositories.get((tenant_id, full_name.lower()))
            return found.model_copy(deep=True) if found else None

    def of_tenant(self, tenant_id: str) -> list[Repository]:
        with self._lock:
            mine = sorted((name, r) for (tenant, name), r in self.repositories.items() if tenant == tenant_id)
            return [r.model_copy(deep=True) for _, r in mine]

    def enroll(self, repository: Repository) -> bool:
        _configuration_size_ok(repository.configuration)
        key = (repository.tenant_id, repository.full_name.lower())
        with self._lock:
            if key in self.repositories:
                return False
            self.repositories[key] = Repository.model_validate(repository.model_dump())
            return True

    def update_configuration(
        self, tenant_id: str, full_name: str, configuration: RepositoryConfiguration, updated_at: str
    ) -> Repository | None:
        _configuration_size_ok(configuration)
        key = (tenant_id, full_name.lower())
        with self._lock:
            current = self.repositories.get(key)
            if current is None:
                return None
            updated = current.model_copy(
                update={"configuration": configuration.model_copy(deep=True), "configuration_updated_at": updated_at}
            )
            self.repositories[key] = updated
            return updated.model_copy(deep=True)

    def repository_owner(self, full_name: str) -> str | None:
        with self._lock:
            return self.repository_routes.get(full_name.lower())

    def claim_repository(self, full_name: str, tenant_id: str) -> str:
        with self._lock:
            return self.repository_routes.setdefault(full_name.lower(), tenant_id)

    def installation_owner(self, installation_id: int) -> str | None:
        with self._lock:
            return self.installation_routes.get(installation_id)

    def claim_installation(self, installation_id: int, tenant_id: str) -> str:
        with self._lock:
            return self.installation_routes.setdefault(installation_id, tenant_id)

    def register_tenant(self, tenant_id: str, created_at: str) -> None:
        with self._lock:
            self.tenants.add(tenant_id)

    @cached_property
    def good_refs(self) -> dict[tuple[str, str], str]:
        """(tenant, repository) → the ref of its last good deployment."""
        return {}

    def last_good_ref(self, tenant_id: str, full_name: str) -> str | None:
        return self.good_refs.get((tenant_id, full_name.lower()))
