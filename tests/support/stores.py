"""The DynamoDB stores the services take, built on one state table (what the handlers and the API's
dependencies build), for integration and e2e tests that drive a service directly."""

from __future__ import annotations

from mlops_bot.access.api_keys import ApiKeyStores
from mlops_bot.access.authentication import CredentialStores
from mlops_bot.access.users import AccessStores
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.management.accounts.tenants import TenantStores
from mlops_bot.management.reports.records import TenantRecords
from mlops_bot.management.watching.pipelines import PipelineSources
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.login_attempts import DynamoLoginAttemptStore
from mlops_bot.stores.pipelines import DynamoPipelineStore
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


def pipeline_sources(table: StateTable) -> PipelineSources:
    return PipelineSources(DynamoPipelineStore(table), DynamoIncidentStore(table), DynamoEventStore(table))


def tenant_records(table: StateTable) -> TenantRecords:
    return TenantRecords(DynamoIncidentStore(table), DynamoEventStore(table))
