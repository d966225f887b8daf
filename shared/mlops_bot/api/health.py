"""Health routes: liveness, readiness (tables and queues reachable) and component detail."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from mlops_bot import __version__
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.dependencies import settings_dependency, state_table
from mlops_bot.clock import utc_now
from mlops_bot.config import Settings

router = APIRouter(tags=["health"])
STARTED = time.monotonic()


def _timestamp() -> str:
    return utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")


def _check(name: str, probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    ok = bool(probe())
    return {
        "status": "healthy" if ok else "unhealthy",
        "message": f"{name} reachable" if ok else f"{name} unreachable",
        "execution_time": round(time.perf_counter() - started, 4),
    }


def components(settings: Settings, table: StateTable) -> dict[str, dict[str, Any]]:
    return {
        "database": _check("DynamoDB table", table.reachable),
        "events_queue": _check("events queue", Queue(settings.events_queue_url).reachable),
        "healing_queue": _check("healing queue", Queue(settings.healing_queue_url).reachable),
    }


@router.get("/health")
@router.get("/api/health")
def health(settings: Settings = Depends(settings_dependency)) -> dict[str, Any]:  # noqa: B008
    return {
        "status": "healthy",
        "timestamp": _timestamp(),
        "uptime_seconds": int(time.monotonic() - STARTED),
        "version": __version__,
        "environment": settings.environment,
    }


@router.get("/health/live")
def live() -> dict[str, str]:
    return {"status": "alive", "timestamp": _timestamp()}


@router.get("/health/ready")
def ready(
    settings: Settings = Depends(settings_dependency),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> JSONResponse:
    checks = components(settings, table)
    ok = all(c["status"] == "healthy" for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "timestamp": _timestamp(), "components": checks},
        status_code=200 if ok else 503,
    )


@router.get("/health/detailed")
def detailed(
    settings: Settings = Depends(settings_dependency),  # noqa: B008
    table: StateTable = Depends(state_table),  # noqa: B008
) -> JSONResponse:
    checks = components(settings, table)
    ok = all(c["status"] == "healthy" for c in checks.values())
    return JSONResponse(
        {
            "status": "healthy" if ok else "unhealthy",
            "timestamp": _timestamp(),
            "uptime_seconds": int(time.monotonic() - STARTED),
            "version": __version__,
            "dry_run": settings.dry_run,
            "components": checks,
        },
        status_code=200 if ok else 503,
    )
