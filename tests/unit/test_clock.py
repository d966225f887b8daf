"""Stored timestamps read back: `iso`'s own format and other ISO-8601 offsets, as aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlops_bot.clock import iso, parse_iso, seconds_since


def test_a_stored_timestamp_reads_back_as_the_same_moment() -> None:
    moment = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)
    assert parse_iso(iso(moment)) == moment
    assert parse_iso("2026-11-27T11:00:00+01:00") == datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert parse_iso("2026-11-27T10:00:00").tzinfo is not None  # no offset: taken as UTC


def test_seconds_since_counts_whole_seconds_and_never_goes_negative() -> None:
    now = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
    assert seconds_since(iso(now - timedelta(minutes=2, seconds=5.9)), now) == 125
    assert seconds_since(iso(now + timedelta(seconds=30)), now) == 0  # a clock a little ahead
