"""Time in one place, so stored timestamps share one format and tests can reason about them."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, microsecond precision so that sort keys keep arrival order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
