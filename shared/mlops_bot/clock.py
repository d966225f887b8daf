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


def parse_iso(text: str) -> datetime:
    """A stored timestamp (`iso`'s, or any ISO-8601 with an offset) as an aware datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_since(text: str, now: datetime | None = None) -> int:
    """Whole seconds from a stored timestamp until `now` (never negative)."""
    return max(0, int(((now or utc_now()) - parse_iso(text)).total_seconds()))
