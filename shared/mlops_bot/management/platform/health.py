"""Component checks for the health routes and `/api/status`.

Each check is timed and reports its own status, message and `execution_time` (seconds). The
GitHub check reads the REST quota (`GET /rate_limit`, which does not count against it) with the
bot's own credentials, so `rate_limit_remaining` is the quota the healer is spending.

What is checked is handed in (the table as anything `Reachable`, the fleet and its layout, the
incident store), so the routes only construct and shape, and a unit test checks with stand-ins.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from mlops_bot.adapters.fleet import Fleet
from mlops_bot.config import Settings
from mlops_bot.management.platform.cluster import FleetLayout
from mlops_bot.stores.incidents import IncidentStatus, IncidentStore

Probe = Callable[[], tuple[bool, str, dict[str, Any] | None]]
STARTED = time.monotonic()
GITHUB_TIMEOUT_SECONDS = 3.0
# What `pending_alerts` counts: incidents a person should look at.
NEEDS_ATTENTION = frozenset({IncidentStatus.OPEN, IncidentStatus.AWAITING_HUMAN, IncidentStatus.FAILED})


class Reachable(Protocol):
    """A store or adapter that can say whether its backend answers (the table: `StateTable`)."""

    @property
    def name(self) -> str: ...

    def reachable(self) -> bool: ...


class Component(BaseModel):
    status: str
    message: str
    execution_time: float
    details: dict[str, Any] | None = None


class QueueDepth(BaseModel):
    depth: int
    in_flight: int
    dead_letter_depth: int


class PlatformStatus(BaseModel):
    """What `/api/status` reports, but its timestamp."""

    system_status: str
    uptime: int
    active_healers: int | None
    pending_alerts: int
    queues: dict[str, QueueDepth]
    metrics: dict[str, float | None]


@dataclass(frozen=True)
class Assessment:
    components: dict[str, Component]
    status: str
    core_ok: bool


def uptime_seconds() -> int:
    return int(time.monotonic() - STARTED)


def timed(probe: Probe) -> Component:
    started = time.perf_counter()
    try:
        ok, message, details = probe()
    except Exception as exc:  # a probe that raises is an unhealthy component, reported, not a 500
        ok, message, details = False, f"check failed: {type(exc).__name__}", None
    return Component(
        status="healthy" if ok else "unhealthy",
        message=message,
        execution_time=round(time.perf_counter() - started, 4),
        details=details,
    )


def database_check(database: Reachable) -> Component:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        ok = database.reachable()
        return ok, "Database connection successful" if ok else "Database unreachable", {"table": database.name}

    return timed(probe)


def queue_check(url: str, name: str) -> Component:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        from mlops_bot.adapters.sqs import Queue  # boto3 with the first check, not at the API's cold start

        ok = bool(url) and Queue(url).reachable()
        return ok, f"{name} reachable" if ok else f"{name} unreachable", None

    return timed(probe)


def readiness(database: Reachable, settings: Settings) -> dict[str, Component]:
    """What readiness needs: the table and both queues answer."""
    return {
        "database": database_check(database),
        "events_queue": queue_check(settings.events_queue_url, "events queue"),
        "healing_queue": queue_check(settings.healing_queue_url, "healing queue"),
    }


def queue_depths(fleet: Fleet, layout: FleetLayout) -> dict[str, QueueDepth]:
    depths = {}
    for pair in layout.queues:
        source, dead = fleet.queue(pair.url), fleet.queue(pair.dead_letter_url)
        depths[pair.role] = QueueDepth(depth=source.visible, in_flight=source.in_flight, dead_letter_depth=dead.visible)
    return depths


def queues_check(fleet: Fleet, layout: FleetLayout) -> Component:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        depths = {role: depth.model_dump() for role, depth in queue_depths(fleet, layout).items()}
        if not depths:
            return False, "No queues configured", None
        return True, "Queues reachable", depths

    return timed(probe)


def running_executions(fleet: Fleet, layout: FleetLayout) -> int | None:
    try:
        return sum(fleet.running_executions(arn) for arn in layout.state_machines.values() if arn)
    except Exception:  # health must answer even when Step Functions does not
        return None


def assess(database: Reachable, fleet: Fleet, layout: FleetLayout, github: Callable[[], Component]) -> Assessment:
    """The checks behind `/health` and `/health/detailed`: healthy, degraded (no GitHub) or unhealthy.

    `github` gives the GitHub component (`github_check`, which the routes cache: it spends time, not quota).
    """
    found = {"database": database_check(database), "queue": queues_check(fleet, layout), "github_api": github()}
    # GitHub being unreachable degrades the bot (it cannot heal) but does not make it unhealthy.
    core_ok = found["database"].status == found["queue"].status == "healthy"
    github_ok = found["github_api"].status == "healthy"
    status = "healthy" if core_ok and github_ok else ("degraded" if core_ok else "unhealthy")
    return Assessment(components=found, status=status, core_ok=core_ok)


def pending_alerts(incidents: IncidentStore, tenant_id: str) -> int:
    """The tenant's incidents waiting for a person (open, awaiting a human, or failed)."""
    return sum(1 for incident in incidents.all(tenant_id) if incident.status in NEEDS_ATTENTION)


def platform_status(
    database: Reachable, fleet: Fleet, layout: FleetLayout, incidents: IncidentStore, tenant_id: str
) -> PlatformStatus:
    """Fleet-wide healers and queues; `pending_alerts` counts the tenant's incidents needing attention."""
    queues = queue_depths(fleet, layout)
    reachable = database.reachable()
    return PlatformStatus(
        system_status="operational" if reachable and queues else "degraded",
        uptime=uptime_seconds(),
        active_healers=running_executions(fleet, layout),
        pending_alerts=pending_alerts(incidents, tenant_id),
        queues=queues,
        metrics=process_metrics(),
    )


def github_probe(settings: Settings) -> Probe:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        from mlops_bot.adapters.github import GitHubError  # githubkit with the first check, not at cold start
        from mlops_bot.github_access import quota_reader

        client, authenticated = quota_reader(settings, timeout=GITHUB_TIMEOUT_SECONDS)
        try:
            quota = client.rate_limit()
        except GitHubError as exc:
            return False, f"GitHub API error: {exc}", None
        details = {
            "rate_limit_remaining": quota.remaining,
            "rate_limit": quota.limit,
            "reset": quota.reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "authenticated": authenticated,
        }
        return True, "GitHub API accessible", details

    return probe


def github_check(settings: Settings) -> Component:
    return timed(github_probe(settings))


def process_metrics() -> dict[str, float | None]:
    """This instance's CPU (share of wall time since start), memory (of the Lambda size) and /tmp use."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = 100 * (usage.ru_utime + usage.ru_stime) / max(1.0, time.monotonic() - STARTED)
    memory_mb = float(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0") or 0)
    rss_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    disk = shutil.disk_usage("/tmp")  # noqa: S108 - Lambda's only writable disk
    return {
        "cpu_usage": round(min(100.0, cpu), 1),
        "memory_usage": round(100 * rss_mb / memory_mb, 1) if memory_mb else None,
        "disk_usage": round(100 * disk.used / disk.total, 1) if disk.total else 0.0,
    }
