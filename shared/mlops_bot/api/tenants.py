"""Multi-tenant management (/api/tenants): admins; all tenants for operators, their own for others."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import management_settings, require, tenant_records, tenant_stores
from mlops_bot.management.accounts import tenants as service
from mlops_bot.management.accounts import usage
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.management.reports.records import TenantRecords

router = APIRouter(prefix="/api/tenants", tags=["tenants"])


@router.get("", response_model=service.TenantList)
def list_tenants(
    caller: Annotated[Principal, Depends(require("admin"))],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    stores: Annotated[service.TenantStores, Depends(tenant_stores)],
) -> service.TenantList:
    return service.list_tenants(stores, caller, settings.operator_tenant)


@router.post("", response_model=service.TenantCreated, status_code=201)
def create_tenant(
    body: service.TenantCreate,
    caller: Annotated[Principal, Depends(require("admin"))],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    stores: Annotated[service.TenantStores, Depends(tenant_stores)],
) -> service.TenantCreated:
    """Operators only. The answer holds the admin user's initial password, shown this once."""
    return service.create_tenant(stores, caller, settings.operator_tenant, body)


@router.get("/{tenant_id}/usage", response_model=usage.TenantUsage)
def tenant_usage(
    tenant_id: str,
    caller: Annotated[Principal, Depends(require("admin"))],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    stores: Annotated[service.TenantStores, Depends(tenant_stores)],
    records: Annotated[TenantRecords, Depends(tenant_records)],
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; this month by default")] = None,
) -> usage.TenantUsage:
    service.ensure_visible(caller, tenant_id, settings.operator_tenant)
    service.get_tenant(stores, tenant_id)
    return usage.tenant_usage(records, stores.usage, tenant_id, month)
