"""Monitored repositories, and the routes that say which tenant owns a repository or installation.

What is stored, and how:
- the repository item (`TENANT#t` / `REPO#owner/name`, listed through gsi1 `TENANT#t#REPOS`);
- the routing lookups under the `_system` tenant: repository → tenant and installation → tenant,
  first registration wins (a conditional put);
- the tenant registry the scheduled sweep walks;
- on the repository item, what the model signals keep: the last good model metrics (the
  baseline a new report is compared with) and the deployment they came from (a rollback's target).

Items are validated both ways. A write can not store a non-finite number, an unbounded string or
a name GitHub would refuse; a read that meets a malformed item (written before these rules, or
by hand) logs it and leaves it out of the listing instead of failing the whole answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.repository_names import RepositoryFullName
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, read_item
from mlops_bot.strict_json import finite_tree

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


class Repository(StoredItem):
    """One monitored repository of one tenant."""

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


MetricName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Reference = Annotated[str, StringConstraints(max_length=2048)]
MAX_METRICS = 200


class ModelBaseline(StoredItem):
    """The last model metrics within the repository's thresholds: what the next report is compared with."""

    metrics: dict[MetricName, float] = Field(max_length=MAX_METRICS)
    ref: Reference
    at: Timestamp | None = None


class ModelDeployment(StoredItem):
    """The deployment of the baseline's model: where a rollback goes."""

    ref: Reference
    environment: Annotated[str, StringConstraints(max_length=255)] = "production"
    sha: Annotated[str, StringConstraints(max_length=64)] | None = None


class Route(StoredItem):
    """Which tenant owns a repository or an installation (first registration wins)."""

    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    created_at: Timestamp | None = None


class RegisteredTenant(StoredItem):
    tenant_id: TenantId
    created_at: Timestamp | None = None


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

    def unenroll(self, tenant_id: str, full_name: str) -> bool:
        """Stop monitoring: the repository item goes, and its route if this tenant holds it (incidents
        and events stay). True when the repository was monitored."""
        ...

    def model_baseline(self, tenant_id: str, full_name: str) -> ModelBaseline | None:
        """The stored baseline; None when there is none (or it is unreadable, logged)."""
        ...

    def record_model_baseline(
        self, tenant_id: str, full_name: str, baseline: ModelBaseline, deployment: ModelDeployment
    ) -> bool:
        """Keep `baseline` and its deployment as the last good ones; False when the repository is
        not monitored (nothing is written)."""
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
        """What a rollback deploys: the commit of the repository's last good deployment when it reported
        one (`deployment.sha`), else its ref; None when none was seen."""
        ...


def _configuration_size_ok(configuration: RepositoryConfiguration) -> RepositoryConfiguration:
    size = len(configuration.model_dump_json())
    if size > MAX_CONFIGURATION_BYTES:
        raise ValueError(f"the configuration is {size} bytes; at most {MAX_CONFIGURATION_BYTES} are kept")
    return configuration


M = TypeVar("M", bound=BaseModel)


def _read(item: dict[str, Any] | None) -> Repository | None:
    return read_item(Repository, item, "repository item")


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

    def unenroll(self, tenant_id: str, full_name: str) -> bool:
        removed = self._table.table.delete_item(Key=keys.repository_key(tenant_id, full_name), ReturnValues="ALL_OLD")
        self._table.delete_if(keys.repository_route_key(full_name), "tenant_id = :tenant", {":tenant": tenant_id})
        return bool(removed.get("Attributes"))

    def model_baseline(self, tenant_id: str, full_name: str) -> ModelBaseline | None:
        item = self._table.get(keys.repository_key(tenant_id, full_name)) or {}
        stored = item.get("model_baseline")
        if not isinstance(stored, dict) or not stored.get("metrics"):
            return None
        return read_item(ModelBaseline, {"pk": item.get("pk"), "sk": item.get("sk"), **stored}, "model baseline")

    def record_model_baseline(
        self, tenant_id: str, full_name: str, baseline: ModelBaseline, deployment: ModelDeployment
    ) -> bool:
        updated = self._table.set_fields(
            keys.repository_key(tenant_id, full_name),
            {
                "model_baseline": baseline.model_dump(mode="json", exclude_none=True),
                "last_good_deployment": deployment.model_dump(mode="json", exclude_none=True),
            },
            if_exists=True,
        )
        return updated is not None

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
        ref = (deployment.get("sha") or deployment.get("ref")) if isinstance(deployment, dict) else None
        return str(ref)[:255] if ref else None


def _owner(item: dict[str, Any] | None) -> str | None:
    route = read_item(Route, item, "route") if item and item.get("tenant_id") else None
    return route.tenant_id if route else None


def _now() -> str:
    return iso(utc_now())


class InMemoryRepositoryStore:
    """The same promises in memory, for unit tests of the services."""

    def __init__(self) -> None:
        self.repositories: MemoryTable[tuple[str, str], Repository] = MemoryTable()
        self.baselines: MemoryTable[tuple[str, str], ModelBaseline] = MemoryTable()
        self.good_deployments: MemoryTable[tuple[str, str], ModelDeployment] = MemoryTable()
        self.repository_routes: MemoryTable[str, Route] = MemoryTable()
        self.installation_routes: MemoryTable[int, Route] = MemoryTable()
        self.tenants: MemoryTable[str, RegisteredTenant] = MemoryTable()

    def get(self, tenant_id: str, full_name: str) -> Repository | None:
        return self.repositories.get((tenant_id, full_name.lower()))

    def of_tenant(self, tenant_id: str) -> list[Repository]:
        mine = self.repositories.values(where=lambda key: key[0] == tenant_id)
        return sorted(mine, key=lambda r: r.full_name.lower())

    def enroll(self, repository: Repository) -> bool:
        _configuration_size_ok(repository.configuration)
        stored = Repository.model_validate(repository.model_dump())  # validated like a write to DynamoDB
        return self.repositories.put_new((repository.tenant_id, repository.full_name.lower()), stored)

    def update_configuration(
        self, tenant_id: str, full_name: str, configuration: RepositoryConfiguration, updated_at: str
    ) -> Repository | None:
        _configuration_size_ok(configuration)
        return self.repositories.update(
            (tenant_id, full_name.lower()),
            lambda current: current.model_copy(
                update={"configuration": configuration.model_copy(deep=True), "configuration_updated_at": updated_at}
            ),
        )

    def unenroll(self, tenant_id: str, full_name: str) -> bool:
        key = (tenant_id, full_name.lower())
        existed = self.repositories.get(key) is not None
        self.repositories.delete(key)
        route = self.repository_routes.get(full_name.lower())
        if route is not None and route.tenant_id == tenant_id:
            self.repository_routes.delete(full_name.lower())
        return existed

    def model_baseline(self, tenant_id: str, full_name: str) -> ModelBaseline | None:
        return self.baselines.get((tenant_id, full_name.lower()))

    def record_model_baseline(
        self, tenant_id: str, full_name: str, baseline: ModelBaseline, deployment: ModelDeployment
    ) -> bool:
        key = (tenant_id, full_name.lower())
        if self.repositories.get(key) is None:
            return False
        self.baselines.put(key, ModelBaseline.model_validate(baseline.model_dump()))
        self.good_deployments.put(key, ModelDeployment.model_validate(deployment.model_dump()))
        return True

    def repository_owner(self, full_name: str) -> str | None:
        route = self.repository_routes.get(full_name.lower())
        return route.tenant_id if route else None

    def claim_repository(self, full_name: str, tenant_id: str) -> str:
        self.repository_routes.put_new(full_name.lower(), Route(tenant_id=tenant_id, created_at=_now()))
        return self.repository_owner(full_name) or tenant_id

    def installation_owner(self, installation_id: int) -> str | None:
        route = self.installation_routes.get(installation_id)
        return route.tenant_id if route else None

    def claim_installation(self, installation_id: int, tenant_id: str) -> str:
        self.installation_routes.put_new(installation_id, Route(tenant_id=tenant_id, created_at=_now()))
        return self.installation_owner(installation_id) or tenant_id

    def register_tenant(self, tenant_id: str, created_at: str) -> None:
        self.tenants.put_new(tenant_id, RegisteredTenant(tenant_id=tenant_id, created_at=created_at))

    def last_good_ref(self, tenant_id: str, full_name: str) -> str | None:
        deployment = self.good_deployments.get((tenant_id, full_name.lower()))
        return (deployment.sha or deployment.ref) if deployment else None
