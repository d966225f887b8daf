"""Component checks for the health routes and `/api/status`.

Each check is timed and reports its own status, message and `execution_time` (seconds). The
GitHub check reads the REST quota (`GET /rate_limit`, which does not count against it) with the
bot's own credentials, so `rate_limit_remaining` is the quota the healer is spending.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from mlops_bot.config import Settings

Probe = Callable[[], tuple[bool, str, dict[str, Any] | None]]
STARTED = time.monotonic()
GITHUB_TIMEOUT_SECONDS = 3.0


class Component(BaseModel):
    status: str
    message: str
    execution_time: float
    details: dict[str, Any] | None = None


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


def github_probe(settings: Settings) -> Probe:
    def probe() -> tuple[bool, str, dict[str, Any] | None]:
        from githubkit import TokenAuthStrategy, UnauthAuthStrategy

        from mlops_bot.adapters.github import GitHubClient, GitHubError
        from mlops_bot.credentials import github_credentials

        token = github_credentials(settings).get("token")
        auth = TokenAuthStrategy(str(token)) if token else UnauthAuthStrategy()
        client = GitHubClient(auth, settings.github_api_url, max_attempts=1, timeout=GITHUB_TIMEOUT_SECONDS)
        try:
            quota = client.rate_limit()
        except GitHubError as exc:
            return False, f"GitHub API error: {exc}", None
        details = {
            "rate_limit_remaining": quota.remaining,
            "rate_limit": quota.limit,
            "reset": quota.reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "authenticated": bool(token),
        }
        return True, "GitHub API accessible", details

    return probe


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
