"""What every route can ask for: settings, the state table, adapters, and the checked caller.

The caller is authenticated (API key or JWT), counted against its tenant's rate limit for the
route's category, and checked for the route's permission (read < write < admin), in that order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mlops_bot.access import tokens
from mlops_bot.access.api_keys import ApiKeyStores, Permission, Principal
from mlops_bot.access.authentication import CredentialStores, authenticate
from mlops_bot.access.users import AccessStores
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.fleet import Fleet
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.cache import TimedCache as TimedCache  # where the routes import it from
from mlops_bot.config import Settings, get_settings
from mlops_bot.errors import Forbidden, RateLimited
from mlops_bot.management.accounts import rate_limits, tenants, usage
from mlops_bot.management.platform import system_config
from mlops_bot.management.platform.cluster import FleetLayout, QueuePair
from mlops_bot.management.platform.settings import ManagementSettings, get_management_settings
from mlops_bot.management.reports import request_metrics
from mlops_bot.stores.events import DynamoEventStore, EventStore
from mlops_bot.stores.incidents import DynamoIncidentStore, IncidentStore
from mlops_bot.stores.pipelines import DynamoPipelineStore, PipelineStore
from mlops_bot.stores.rate_windows import RateWindowStore
from mlops_bot.stores.repositories import DynamoRepositoryStore, RepositoryStore
from mlops_bot.stores.system_config import DynamoSystemConfigStore, SystemConfigStore
from mlops_bot.stores.usage import UsageStore

if TYPE_CHECKING:
    from mlops_bot.management.reports.records import TenantRecords
    from mlops_bot.management.watching.pipelines import PipelineSources
    from mlops_bot.monitoring.service import SignalStores
    from mlops_bot.stores.installations import InstallationStore
    from mlops_bot.stores.playbook_settings import PlaybookSettingsStore
    from mlops_bot.stores.request_metrics import RequestMetricsStore


bearer = HTTPBearer(auto_error=False, description="An API key (`mlb_...`) or a JWT access token from /auth/login")


@lru_cache(maxsize=1)
def state_table() -> StateTable:
    return StateTable(get_settings().table_name)


@lru_cache(maxsize=4)
def _queue(url: str) -> Queue:
    return Queue(url)


@lru_cache(maxsize=1)
def fleet() -> Fleet:
    return Fleet()


def forget_cached() -> None:
    """A new app (a new cold start, or a new test) builds its clients again."""
    state_table.cache_clear()
    _queue.cache_clear()
    fleet.cache_clear()
    system_config.forget_current()  # the stored configuration is read afresh too


def settings_dependency() -> Settings:
    return get_settings()


def management_settings() -> ManagementSettings:
    return get_management_settings()


def healing_queue(settings: Settings = Depends(settings_dependency)) -> Queue:  # noqa: B008
    return _queue(settings.healing_queue_url)


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    stores: Annotated[CredentialStores, Depends(credential_stores)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> Principal:
    del credentials  # declared for the OpenAPI security scheme; the header is read as sent
    caller = authenticate(stores, request.headers.get("authorization"), lambda: tokens.signing_secret(settings))
    request.state.principal = caller
    return caller


def stored_config(store: SystemConfigStore, settings: ManagementSettings) -> system_config.StoredConfig:
    """The system configuration through the store's per-process cache (≤ 60 s; a write clears it)."""
    return system_config.current(store, settings.management_rate_limit)


def _limited(category: rate_limits.Category) -> Callable[..., Principal]:
    def dependency(
        request: Request,
        caller: Annotated[Principal, Depends(principal)],
        configured: Annotated[SystemConfigStore, Depends(system_config_store)],
        windows: Annotated[RateWindowStore, Depends(rate_window_store)],
        calls: Annotated[UsageStore, Depends(usage_store)],
        settings: Annotated[ManagementSettings, Depends(management_settings)],
    ) -> Principal:
        if category == "analytics":
            limit = settings.analytics_rate_limit
        else:
            limit = stored_config(configured, settings).limits.rate_limit_per_minute
        decision = rate_limits.count_request(windows, caller.tenant_id, category, limit, settings.rate_window_seconds)
        request.state.rate_limit = decision
        usage.record_api_call(calls, caller.tenant_id)
        if decision.exceeded:
            raise RateLimited("Rate limit exceeded", retry_after=decision.retry_after)
        return caller

    return dependency


# One callable per category, so FastAPI counts a request once however many dependencies ask.
limit_management = _limited("management")
limit_analytics = _limited("analytics")
_LIMITERS = {"management": limit_management, "analytics": limit_analytics}


def require(permission: Permission, category: rate_limits.Category = "management") -> Callable[..., Principal]:
    limiter = _LIMITERS[category]

    def check(caller: Principal = Depends(limiter)) -> Principal:  # noqa: B008 - closures cannot use Annotated here
        if not caller.can(permission):
            raise Forbidden("Insufficient permissions", f"This call needs '{permission}'")
        return caller

    return check


def require_operator(
    caller: Annotated[Principal, Depends(require("admin"))],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> Principal:
    if not tenants.is_operator(caller, settings.operator_tenant):
        raise Forbidden("Insufficient permissions", "Only operators (admins of the operator tenant) may do this")
    return caller


def authenticated_unlimited(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """Health-category routes that still need a caller: authenticated, never rate limited."""
    if not caller.can("read"):
        raise Forbidden("Insufficient permissions", "This call needs 'read'")
    return caller


def fleet_layout(
    request: Request,
    settings: Annotated[Settings, Depends(settings_dependency)],
    management: Annotated[ManagementSettings, Depends(management_settings)],
) -> FleetLayout:
    context = request.scope.get("aws.context")
    own = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    queues = [
        QueuePair(role=role, url=url, dead_letter_url=dlq)
        for role, url, dlq in (
            ("events", settings.events_queue_url, management.events_dlq_url),
            ("healing", settings.healing_queue_url, management.healing_dlq_url),
        )
        if url and dlq
    ]
    return FleetLayout(
        cluster_id=f"mlops-bot-{settings.environment}",
        functions=management.fleet_function_names,
        queues=queues,
        state_machines=settings.playbook_state_machines,
        own_function=str(own) if own else None,
    )


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def observe_request(request: Request, status: int, seconds: float) -> None:
    """Count an authenticated request for `/metrics` under its route template (not its raw path)."""
    caller = getattr(request.state, "principal", None)
    route = getattr(request.scope.get("route"), "path", None)
    if caller is None or route is None:
        return
    request_metrics.record(request_metrics_store(), caller.tenant_id, request.method, str(route), status, seconds)


# The typed stores a route's service takes, each built on the state table (the only place the
# table goes). Stores whose Protocol is not imported above are imported when a request first asks
# for them.


def signal_stores(table: Annotated[StateTable, Depends(state_table)]) -> SignalStores:
    from mlops_bot.monitoring.service import SignalStores

    return SignalStores(DynamoRepositoryStore(table), DynamoIncidentStore(table), DynamoEventStore(table))


def access_stores(table: Annotated[StateTable, Depends(state_table)]) -> AccessStores:
    from mlops_bot.stores.login_attempts import DynamoLoginAttemptStore
    from mlops_bot.stores.sessions import DynamoSessionStore
    from mlops_bot.stores.users import DynamoUserStore

    return AccessStores(DynamoUserStore(table), DynamoSessionStore(table), DynamoLoginAttemptStore(table), table.name)


def credential_stores(
    table: Annotated[StateTable, Depends(state_table)],
    access: Annotated[AccessStores, Depends(access_stores)],
) -> CredentialStores:
    from mlops_bot.stores.api_keys import DynamoApiKeyStore

    return CredentialStores(DynamoApiKeyStore(table), access)


def api_key_stores(table: Annotated[StateTable, Depends(state_table)]) -> ApiKeyStores:
    from mlops_bot.stores.api_keys import DynamoApiKeyStore
    from mlops_bot.stores.tenants import DynamoTenantStore

    return ApiKeyStores(DynamoApiKeyStore(table), DynamoTenantStore(table))


def usage_store(table: Annotated[StateTable, Depends(state_table)]) -> UsageStore:
    from mlops_bot.stores.usage import DynamoUsageStore

    return DynamoUsageStore(table)


def tenant_stores(
    table: Annotated[StateTable, Depends(state_table)],
    counted: Annotated[UsageStore, Depends(usage_store)],
    access: Annotated[AccessStores, Depends(access_stores)],
) -> tenants.TenantStores:
    from mlops_bot.stores.tenants import DynamoTenantStore

    return tenants.TenantStores(DynamoTenantStore(table), counted, access)


def rate_window_store(table: Annotated[StateTable, Depends(state_table)]) -> RateWindowStore:
    from mlops_bot.stores.rate_windows import DynamoRateWindowStore

    return DynamoRateWindowStore(table)


def system_config_store(table: Annotated[StateTable, Depends(state_table)]) -> SystemConfigStore:
    return DynamoSystemConfigStore(table)


def incident_store(table: Annotated[StateTable, Depends(state_table)]) -> IncidentStore:
    return DynamoIncidentStore(table)


def event_store(table: Annotated[StateTable, Depends(state_table)]) -> EventStore:
    return DynamoEventStore(table)


def repository_store(table: Annotated[StateTable, Depends(state_table)]) -> RepositoryStore:
    return DynamoRepositoryStore(table)


def pipeline_store(table: Annotated[StateTable, Depends(state_table)]) -> PipelineStore:
    return DynamoPipelineStore(table)


def installation_store(table: Annotated[StateTable, Depends(state_table)]) -> InstallationStore:
    from mlops_bot.stores.installations import DynamoInstallationStore

    return DynamoInstallationStore(table)


def playbook_settings_store(table: Annotated[StateTable, Depends(state_table)]) -> PlaybookSettingsStore:
    from mlops_bot.stores.playbook_settings import DynamoPlaybookSettingsStore

    return DynamoPlaybookSettingsStore(table)


def pipeline_sources(
    pipelines: Annotated[PipelineStore, Depends(pipeline_store)],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    events: Annotated[EventStore, Depends(event_store)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    settings: Annotated[Settings, Depends(settings_dependency)],
) -> PipelineSources:
    from mlops_bot.management.watching.pipelines import PipelineSources

    return PipelineSources(pipelines, incidents, events, repositories, settings.max_attempts_per_incident)


def tenant_records(
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    events: Annotated[EventStore, Depends(event_store)],
) -> TenantRecords:
    from mlops_bot.management.reports.records import TenantRecords

    return TenantRecords(incidents, events)


def request_metrics_store() -> RequestMetricsStore:
    """On the cached table: `observe_request` counts outside a route's dependencies."""
    from mlops_bot.stores.request_metrics import DynamoRequestMetricsStore

    return DynamoRequestMetricsStore(state_table())
