"""Healing Guard pipelines (/api/pipelines)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import management_settings, pipeline_sources, pipeline_store, require, tenant_stores
from mlops_bot.management.accounts import tenants
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.management.watching import pipelines as service
from mlops_bot.storage import keys
from mlops_bot.stores.pipelines import PipelineStore

router = APIRouter(prefix="/api/pipelines", tags=["pipelines"])


@router.get("", response_model=service.PipelineList)
def list_pipelines(
    caller: Annotated[Principal, Depends(require("read"))],
    sources: Annotated[service.PipelineSources, Depends(pipeline_sources)],
    registry: Annotated[tenants.TenantStores, Depends(tenant_stores)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    tenant_id: str | None = None,
    status: service.PipelineStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> service.PipelineList:
    """Operators see every tenant's pipelines (`tenant_id` narrows to one); others only their own
    tenant's, and another `tenant_id` lists nothing."""
    operator = tenants.is_operator(caller, settings.operator_tenant)
    if tenant_id is not None and tenant_id != caller.tenant_id and not operator:
        return service.PipelineList(pipelines=[], total=0, limit=limit, offset=offset)
    if tenant_id is not None or not operator:
        return service.list_pipelines(sources, tenant_id or caller.tenant_id, limit, offset, status)
    scope = tenants.registered_ids(registry)
    every = [
        p
        for t in dict.fromkeys([caller.tenant_id, *scope])
        if t != keys.SYSTEM_TENANT
        for p in service.list_pipelines(sources, t, 1_000_000, 0, status).pipelines
    ]
    return service.PipelineList(pipelines=every[offset : offset + limit], total=len(every), limit=limit, offset=offset)


@router.post("", response_model=service.PipelineDetails, status_code=201)
def register_pipeline(
    body: service.PipelineCreate,
    caller: Annotated[Principal, Depends(require("write"))],
    sources: Annotated[service.PipelineSources, Depends(pipeline_sources)],
    registry: Annotated[tenants.TenantStores, Depends(tenant_stores)],
) -> service.PipelineDetails:
    """403 QUOTA_EXCEEDED beyond the tenant's `max_pipelines` or `max_storage_gb`."""
    return service.register(sources, registry.tenants, registry.usage, caller.tenant_id, body, caller.key_id)


@router.get("/{pipeline_id}", response_model=service.PipelineDetails)
def get_pipeline(
    pipeline_id: str,
    caller: Annotated[Principal, Depends(require("read"))],
    sources: Annotated[service.PipelineSources, Depends(pipeline_sources)],
) -> service.PipelineDetails:
    return service.get_pipeline(sources, caller.tenant_id, pipeline_id)


@router.delete("/{pipeline_id}", status_code=204, response_class=Response)
def delete_pipeline(
    pipeline_id: str,
    caller: Annotated[Principal, Depends(require("write"))],
    pipelines: Annotated[PipelineStore, Depends(pipeline_store)],
) -> Response:
    service.delete_pipeline(pipelines, caller.tenant_id, pipeline_id)
    return Response(status_code=204)
