"""Health routes (never rate limited): liveness, readiness, component detail, and `/api/status`.

The checks are `mlops_bot.management.platform.health`'s; a route injects what is checked (the table
as something `Reachable`, the fleet, the incident store) and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mlops_bot import __version__
from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.fleet import Fleet
from mlops_bot.api.dependencies import (
    TimedCache,
    authenticated_unlimited,
    fleet,
    fleet_layout,
    incident_store,
    settings_dependency,
    state_table,
)
from mlops_bot.clock import utc_now
from mlops_bot.config import Settings
from mlops_bot.management.platform import health as checks
from mlops_bot.management.platform.cluster import FleetLayout
from mlops_bot.management.platform.health import Component, QueueDepth, Reachable
from mlops_bot.stores.incidents import IncidentStore

router = APIRouter(tags=["health"])
GITHUB_CACHE_KEY = "github_rate_limit"


class Health(BaseModel):
    status: str
    timestamp: str
    uptime_seconds: int
    version: str
    environment: str


class ApiHealth(BaseModel):
    status: str
    timestamp: str
    services: dict[str, str]


class Liveness(BaseModel):
    status: str
    timestamp: str


class Readiness(BaseModel):
    status: str
    timestamp: str
    components: dict[str, Component]


class DetailedHealth(BaseModel):
    status: str
    timestamp: str
    uptime_seconds: int
    version: str
    dry_run: bool
    active_executions: int | None
    components: dict[str, Component]


class SystemStatus(BaseModel):
    system_status: str
    uptime: int
    active_healers: int | None
    pending_alerts: int
    queues: dict[str, QueueDepth]
    metrics: dict[str, float | None]
    timestamp: str


def _timestamp() -> str:
    return utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _assess(
    request: Request, settings: Settings, database: Reachable, fleet_: Fleet, layout: FleetLayout
) -> checks.Assessment:
    cache: TimedCache = request.app.state.cache

    def github() -> Component:  # cached: the quota check costs a round trip to GitHub
        found: Component = cache.get(GITHUB_CACHE_KEY, lambda: checks.github_check(settings))
        return found

    return checks.assess(database, fleet_, layout, github)


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(
    request: Request,
    settings: Annotated[Settings, Depends(settings_dependency)],
    database: Annotated[Reachable, Depends(state_table)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> JSONResponse:
    """The status of `/health/detailed` (the same checks), without the component detail; 503 when unhealthy."""
    assessment = _assess(request, settings, database, fleet_, layout)
    body = Health(
        status=assessment.status,
        timestamp=_timestamp(),
        uptime_seconds=checks.uptime_seconds(),
        version=__version__,
        environment=settings.environment,
    )
    return JSONResponse(body.model_dump(), status_code=200 if assessment.core_ok else 503)


@router.get("/api/health", response_model=ApiHealth)
def api_health(
    settings: Annotated[Settings, Depends(settings_dependency)],
    database: Annotated[Reachable, Depends(state_table)],
) -> JSONResponse:
    found = checks.readiness(database, settings)
    ok = all(c.status == "healthy" for c in found.values())
    queues_ok = found["events_queue"].status == found["healing_queue"].status == "healthy"
    services = {"database": found["database"].status, "queue": "healthy" if queues_ok else "unhealthy"}
    body = ApiHealth(status="healthy" if ok else "unhealthy", timestamp=_timestamp(), services=services)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/health/live", response_model=Liveness)
def live() -> Liveness:
    return Liveness(status="alive", timestamp=_timestamp())


@router.get("/health/ready", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(
    settings: Annotated[Settings, Depends(settings_dependency)],
    database: Annotated[Reachable, Depends(state_table)],
) -> JSONResponse:
    found = checks.readiness(database, settings)
    ok = all(c.status == "healthy" for c in found.values())
    body = Readiness(status="ready" if ok else "not_ready", timestamp=_timestamp(), components=found)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/health/detailed", response_model=DetailedHealth, responses={503: {"model": DetailedHealth}})
def detailed(
    request: Request,
    settings: Annotated[Settings, Depends(settings_dependency)],
    database: Annotated[Reachable, Depends(state_table)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> JSONResponse:
    assessment = _assess(request, settings, database, fleet_, layout)
    body = DetailedHealth(
        status=assessment.status,
        timestamp=_timestamp(),
        uptime_seconds=checks.uptime_seconds(),
        version=__version__,
        dry_run=settings.dry_run,
        active_executions=checks.running_executions(fleet_, layout),
        components=assessment.components,
    )
    return JSONResponse(body.model_dump(), status_code=200 if assessment.core_ok else 503)


@router.get("/api/status", response_model=SystemStatus)
def system_status(
    caller: Annotated[Principal, Depends(authenticated_unlimited)],
    database: Annotated[Reachable, Depends(state_table)],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> SystemStatus:
    """Fleet-wide healers and queues; `pending_alerts` counts the caller's incidents needing attention."""
    status = checks.platform_status(database, fleet_, layout, incidents, caller.tenant_id)
    return SystemStatus(**status.model_dump(), timestamp=_timestamp())
