"""`/metrics` (Prometheus text, never rate limited) and `/api/v1/analytics` (the analytics rate-limit category)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import (
    authenticated_unlimited,
    event_store,
    incident_store,
    management_settings,
    request_metrics_store,
    require,
    settings_dependency,
    stored_config,
    system_config_store,
    tenant_records,
)
from mlops_bot.config import Settings
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.management.reports import analytics as service
from mlops_bot.management.reports import metrics
from mlops_bot.management.reports.records import TenantRecords
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.incidents import IncidentStore
from mlops_bot.stores.request_metrics import RequestMetricsStore
from mlops_bot.stores.system_config import SystemConfigStore

router = APIRouter(tags=["metrics and analytics"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {metrics.CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def prometheus_metrics(
    caller: Annotated[Principal, Depends(authenticated_unlimited)],
    settings: Annotated[Settings, Depends(settings_dependency)],
    sources: Annotated[TenantRecords, Depends(tenant_records)],
    requests: Annotated[RequestMetricsStore, Depends(request_metrics_store)],
) -> PlainTextResponse:
    """Scraped with a read-only API key as bearer token; not counted against the analytics budget."""
    text = metrics.render(sources, requests, caller.tenant_id, settings.event_ttl_days * 86_400)
    return PlainTextResponse(text, media_type=metrics.CONTENT_TYPE)


@router.get("/api/v1/analytics", response_model=service.Analytics)
def analytics(
    caller: Annotated[Principal, Depends(require("read", "analytics"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    events: Annotated[EventStore, Depends(event_store)],
    configured: Annotated[SystemConfigStore, Depends(system_config_store)],
    management: Annotated[ManagementSettings, Depends(management_settings)],
    period: service.Period = "24h",
    repository: str | None = None,
    metric_type: service.MetricType | None = None,
) -> service.Analytics:
    """With `features.advanced_analytics` off (system configuration), the summary only."""
    found = service.analytics(incidents, events, caller.tenant_id, period, repository, metric_type)
    if not stored_config(configured, management).features.advanced_analytics:
        return found.model_copy(update={"timeseries": {}, "breakdown_by_type": {}, "top_repositories": []})
    return found
