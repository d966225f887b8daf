"""The DynamoDB stores the services take, built on one state table (what the handlers and the API's
dependencies build), for integration and e2e tests that drive a service directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_bot.access.api_keys import ApiKeyStores
from mlops_bot.access.authentication import CredentialStores
from mlops_bot.access.users import AccessStores
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.config import Settings
from mlops_bot.dashboard.broadcast import BroadcastDependencies, ConnectionPoster
from mlops_bot.dashboard.messages import MetricsSources, QueueDepths
from mlops_bot.dashboard.revocation import CredentialCheck
from mlops_bot.healing.actions import ActionDependencies
from mlops_bot.management.accounts.tenants import TenantStores
from mlops_bot.management.reports.records import TenantRecords
from mlops_bot.management.watching.pipelines import PipelineSources
from mlops_bot.stores.actions import DynamoActionLog
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.installations import DynamoInstallationStore
from mlops_bot.stores.login_attempts import DynamoLoginAttemptStore
from mlops_bot.stores.pipelines import DynamoPipelineStore
from mlops_bot.stores.playbook_settings import DynamoPlaybookSettingsStore
from mlops_bot.stores.quarantines import DynamoQuarantineStore
from mlops_bot.stores.repair_claims import DynamoRepairClaimStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.sessions import DynamoSessionStore
from mlops_bot.stores.tenants import DynamoTenantStore
from mlops_bot.stores.usage import DynamoUsageStore
from mlops_bot.stores.users import DynamoUserStore


def api_key_stores(table: StateTable) -> ApiKeyStores:
    return ApiKeyStores(DynamoApiKeyStore(table), DynamoTenantStore(table))


def access_stores(table: StateTable) -> AccessStores:
    return AccessStores(DynamoUserStore(table), DynamoSessionStore(table), DynamoLoginAttemptStore(table), table.name)


def credential_stores(table: StateTable) -> CredentialStores:
    return CredentialStores(DynamoApiKeyStore(table), access_stores(table))


def tenant_stores(table: StateTable) -> TenantStores:
    return TenantStores(DynamoTenantStore(table), DynamoUsageStore(table), access_stores(table))


def action_dependencies(
    settings: Settings,
    table: StateTable,
    github: Callable[[str, int | None], GitHubClient | None],
    **extra: Any,
) -> ActionDependencies:
    """The playbook steps' stores on one table, as functions/playbook_actions/handler.py builds them."""
    return ActionDependencies(
        settings=settings,
        incidents=DynamoIncidentStore(table),
        repositories=DynamoRepositoryStore(table),
        playbook_settings=DynamoPlaybookSettingsStore(table),
        action_log=DynamoActionLog(table),
        activity=DynamoEventStore(table),
        installations=DynamoInstallationStore(table),
        budget=DynamoRepairBudgetStore(table),
        audit_log=DynamoAuditLog(table),
        flaky_history=DynamoFlakyHistory(table),
        quarantines=DynamoQuarantineStore(table),
        repair_claims=DynamoRepairClaimStore(table),
        github=github,
        **extra,
    )


def credential_check(table: StateTable, **timing: Any) -> CredentialCheck:
    return CredentialCheck(DynamoApiKeyStore(table), DynamoSessionStore(table), DynamoUserStore(table), **timing)


def broadcast_dependencies(
    table: StateTable,
    poster: ConnectionPoster,
    queue_depths: QueueDepths | None = None,
    *,
    credentials: CredentialCheck | None = None,
    **extra: Any,
) -> BroadcastDependencies:
    """The broadcaster's stores on one table, as functions/broadcaster/handler.py builds them."""
    return BroadcastDependencies(
        connections=DynamoDashboardConnectionStore(table),
        credentials=credentials or credential_check(table),
        poster=poster,
        metrics_sources=MetricsSources(DynamoIncidentStore(table), queue_depths),
        **extra,
    )


def pipeline_sources(table: StateTable) -> PipelineSources:
    return PipelineSources(DynamoPipelineStore(table), DynamoIncidentStore(table), DynamoEventStore(table))


def tenant_records(table: StateTable) -> TenantRecords:
    return TenantRecords(DynamoIncidentStore(table), DynamoEventStore(table))
