"""Health routes (never rate limited): liveness, readiness, component detail, and `/api/status`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mlops_bot import __version__
from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.fleet import Fleet
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.dependencies import (
    TimedCache,
    authenticated_unlimited,
    fleet,
    fleet_layout,
    settings_dependency,
    state_table,
)
from mlops_bot.clock import utc_now
from mlops_bot.config import Settings
from mlops_bot.management.platform import health as checks
from mlops_bot.management.platform.cluster import FleetLayout
from mlops_bot.management.platform.health import Component
from mlops_bot.management.reports import records

router = APIRouter(tags=["health"])
GITHUB_CACHE_KEY = "github_rate_limit"
NEEDS_ATTENTION = frozenset({"open", "awaiting_human", "failed"})


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


class QueueDepth(BaseModel):
    depth: int
    in_flight: int
    dead_letter_depth: int


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


def _queue_probe(url: str, name: str) -> checks.Probe:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        ok = bool(url) and Queue(url).reachable()
        return ok, f"{name} reachable" if ok else f"{name} unreachable", None

    return probe


def _table_probe(table: StateTable) -> checks.Probe:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        ok = table.reachable()
        return ok, "Database connection successful" if ok else "Database unreachable", {"table": table.name}

    return probe


def components(settings: Settings, table: StateTable) -> dict[str, Component]:
    """What readiness needs: the table and both queues answer."""
    return {
        "database": checks.timed(_table_probe(table)),
        "events_queue": checks.timed(_queue_probe(settings.events_queue_url, "events queue")),
        "healing_queue": checks.timed(_queue_probe(settings.healing_queue_url, "healing queue")),
    }


def _queue_component(fleet_: Fleet, layout: FleetLayout) -> Component:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        depths = {}
        for pair in layout.queues:
            source, dead = fleet_.queue(pair.url), fleet_.queue(pair.dead_letter_url)
            depths[pair.role] = {
                "depth": source.visible,
                "in_flight": source.in_flight,
                "dead_letter_depth": dead.visible,
            }
        if not depths:
            return False, "No queues configured", None
        return True, "Queues reachable", depths

    return checks.timed(probe)


def _running(fleet_: Fleet, layout: FleetLayout) -> int | None:
    try:
        return sum(fleet_.running_executions(arn) for arn in layout.state_machines.values() if arn)
    except Exception:  # health must answer even when Step Functions does not
        return None


@dataclass(frozen=True)
class Assessment:
    components: dict[str, Component]
    status: str
    core_ok: bool


def assess(request: Request, settings: Settings, table: StateTable, fleet_: Fleet, layout: FleetLayout) -> Assessment:
    """The checks behind `/health` and `/health/detailed`: healthy, degraded (no GitHub) or unhealthy."""
    cache: TimedCache = request.app.state.cache
    found = {
        "database": checks.timed(_table_probe(table)),
        "queue": _queue_component(fleet_, layout),
        "github_api": cache.get(GITHUB_CACHE_KEY, lambda: checks.timed(checks.github_probe(settings))),
    }
    # GitHub being unreachable degrades the bot (it cannot heal) but does not make it unhealthy.
    core_ok = found["database"].status == found["queue"].status == "healthy"
    status = (
        "healthy" if core_ok and found["github_api"].status == "healthy" else ("degraded" if core_ok else "unhealthy")
    )
    return Assessment(components=found, status=status, core_ok=core_ok)


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(
    request: Request,
    settings: Annotated[Settings, Depends(settings_dependency)],
    table: Annotated[StateTable, Depends(state_table)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> JSONResponse:
    """The status of `/health/detailed` (the same checks), without the component detail; 503 when unhealthy."""
    assessment = assess(request, settings, table, fleet_, layout)
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
    table: Annotated[StateTable, Depends(state_table)],
) -> JSONResponse:
    found = components(settings, table)
    ok = all(c.status == "healthy" for c in found.values())
    services = {
        "database": found["database"].status,
        "queue": "healthy"
        if found["events_queue"].status == found["healing_queue"].status == "healthy"
        else "unhealthy",
    }
    body = ApiHealth(status="healthy" if ok else "unhealthy", timestamp=_timestamp(), services=services)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/health/live", response_model=Liveness)
def live() -> Liveness:
    return Liveness(status="alive", timestamp=_timestamp())


@router.get("/health/ready", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(
    settings: Annotated[Settings, Depends(settings_dependency)],
    table: Annotated[StateTable, Depends(state_table)],
) -> JSONResponse:
    found = components(settings, table)
    ok = all(c.status == "healthy" for c in found.values())
    body = Readiness(status="ready" if ok else "not_ready", timestamp=_timestamp(), components=found)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/health/detailed", response_model=DetailedHealth, responses={503: {"model": DetailedHealth}})
def detailed(
    request: Request,
    settings: Annotated[Settings, Depends(settings_dependency)],
    table: Annotated[StateTable, Depends(state_table)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> JSONResponse:
    assessment = assess(request, settings, table, fleet_, layout)
    found, status, core_ok = assessment.components, assessment.status, assessment.core_ok
    body = DetailedHealth(
        status=status,
        timestamp=_timestamp(),
        uptime_seconds=checks.uptime_seconds(),
        version=__version__,
        dry_run=settings.dry_run,
        active_executions=_running(fleet_, layout),
        components=found,
    )
    return JSONResponse(body.model_dump(), status_code=200 if core_ok else 503)


@router.get("/api/status", response_model=SystemStatus)
def system_status(
    caller: Annotated[Principal, Depends(authenticated_unlimited)],
    settings: Annotated[Settings, Depends(settings_dependency)],
    table: Annotated[StateTable, Depends(state_table)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[FleetLayout, Depends(fleet_layout)],
) -> SystemStatus:
    """Fleet-wide healers and queues; `pending_alerts` counts the caller's incidents needing attention."""
    queues = {}
    for pair in layout.queues:
        source, dead = fleet_.queue(pair.url), fleet_.queue(pair.dead_letter_url)
        queues[pair.role] = QueueDepth(depth=source.visible, in_flight=source.in_flight, dead_letter_depth=dead.visible)
    reachable = table.reachable()
    pending = sum(1 for i in records.incidents(table, caller.tenant_id) if i.get("status") in NEEDS_ATTENTION)
    return SystemStatus(
        system_status="operational" if reachable and queues else "degraded",
        uptime=checks.uptime_seconds(),
        active_healers=_running(fleet_, layout),
        pending_alerts=pending,
        queues=queues,
        metrics=checks.process_metrics(),
        timestamp=_timestamp(),
    )
