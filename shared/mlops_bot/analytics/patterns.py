"""Failure patterns: a tenant's incidents clustered by what actually broke, with a recurrence forecast.

**Signature.** Two failures belong to the same pattern when they share the diagnosis category, the
diagnosis kind and the *normalised failure line*: the first evidence line of the diagnosis (else
`metadata.failure_reason`, else the description) with the run-specific parts masked -- URLs,
file paths, UUIDs, timestamps, IPs and ports, hex hashes/SHAs, durations, sizes and numbers, and
quoted strings that are not plain names. Quoted *names* are kept on purpose: `No module named
'sklearn'` and `No module named 'torch'` need different fixes (different packages to add), so they
are different patterns, while `FileNotFoundError: ... 'data/2024-06-01.csv'` from two nightly runs
is one pattern. Test and function names are kept for the same reason (the flaky test is the
pattern). Pytest's `E   ` prefix and GitHub's `##[error]` marker are dropped so the same error
reported by two tools clusters together; so is a leading `Error: ` (how the marker is rendered).

**Recurrence.** Occurrences closer than `BURST` are one arrival (one broken merge failing three
workflows at once is one event). The gaps between arrivals are modelled as log-normal: the centre
is an exponentially weighted mean of the log gaps (recent gaps count more, so a pattern that speeds
up is followed), the spread comes from the gaps' coefficient of variation and is widened for few
gaps (and kept at 0.1 or more: CI timing is never exact). `predicted_next` is the median of the
next arrival given that none happened since the last one; `confidence` is the probability that it
falls within +-25 % of that predicted gap -- 0 with fewer than two gaps, near 1 for a strictly
periodic pattern, about 0.25 for Poisson-like noise. A pattern whose silence the model cannot
explain (it would have recurred by now with probability > 1 - 1e-6) is reported with
`predicted_next = null`: it has most likely been fixed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from statistics import NormalDist
from typing import Any

from pydantic import BaseModel

BURST = timedelta(minutes=10)
EWMA_ALPHA = 0.3
WITHIN = 0.25
MIN_SPREAD = 0.1
STOPPED = 1e-6
MAX_SIGNATURE = 240

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\x1b\[[0-9;]*[A-Za-z]"), ""),
    (re.compile(r"^\s*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\s+"), ""),  # GitHub's log line stamp
    (re.compile(r"^\s*(?:##\[(?:error|warning|notice)\]|Error:\s)\s*"), ""),  # GitHub's marker, as raw or rendered
    (re.compile(r"^\s*E\s{2,}"), ""),  # pytest's failure marker
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"()<>]+"), "<url>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        ),
        "<uuid>",
    ),
    # absolute and home-relative paths, then relative ones that end in a file name or a slash
    (re.compile(r"(?<![\w.<>/-])(?:[A-Za-z]:)?(?:~|\.{1,2})?(?:[/\\][\w.@+-]+)+[/\\]?"), "<path>"),
    (re.compile(r"(?<![\w<>/-])[\w.@+-]+(?:[/\\][\w.@+-]+)*[/\\][\w@+-]*\.[A-Za-z]\w{0,9}\b"), "<path>"),
    (re.compile(r"(?<![\w<>/-])[\w.@+-]+(?:[/\\][\w.@+-]+)+[/\\](?=[\s'\":,)]|$)"), "<path>"),
    (
        re.compile(
            r"(?<![\w<>])[\w-]+(?:\.[\w-]+)*\.(?:py|ipynb|csv|tsv|parquet|feather|json|jsonl|ya?ml|toml|cfg|ini|"
            r"txt|sh|pkl|pickle|joblib|pt|pth|h5|onnx|npy|npz|js|ts|lock|log|whl|zip|gz|tgz|tar)\b"
        ),
        "<path>",
    ),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<ts>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{7,64}\b"), "<hex>"),
    (re.compile(r"(?<![\w.])v\d+(?:\.\d+)+\b"), "<version>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:[KMGT]i?B|bytes?)\b"), "<size>"),
    (
        re.compile(
            r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\b"
        ),
        "<duration>",
    ),
    (re.compile(r"(?<![\w<.])\d+(?:\.\d+)*(?![\w>])"), "<n>"),
)
_QUOTED = re.compile("(?<!\\w)(['\"`\u2018\u201c])([^'\"`\u2018\u2019\u201c\u201d\n]*)(['\"`\u2019\u201d])(?!\\w)")
_NAME = re.compile(r"^(?:[A-Za-z_][\w.-]*|<\w+>)$")
_ADJACENT = re.compile(r"(<\w+>)(?:\s+\1)+")
_LISTED = re.compile(r"(<\w+>)(?:\s*[,;]\s*\1)+")
_SPACES = re.compile(r"\s+")


def normalise(line: str) -> str:
    """The failure line with everything run-specific masked (see the module docstring)."""
    text = line
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    text = _QUOTED.sub(lambda m: m.group(0) if _NAME.match(m.group(2)) else f"{m.group(1)}<str>{m.group(3)}", text)
    text = _LISTED.sub(r"\1, ...", _ADJACENT.sub(r"\1", text))
    return _SPACES.sub(" ", text).strip()[:MAX_SIGNATURE]


def parse_time(value: Any) -> datetime | None:
    """A stored ISO-8601 timestamp (`...Z`) as an aware UTC datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stamp(moment: datetime | None) -> str | None:
    """The spec's timestamp format (seconds, `Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def failure_line(incident: Mapping[str, Any]) -> str:
    """The line that says what broke: first diagnosis evidence, else the failure reason, else the description."""
    diagnosis = incident.get("diagnosis") or {}
    for evidence in (diagnosis.get("evidence") or [], incident.get("evidence") or []):
        for item in evidence:
            text = item.get("text") if isinstance(item, Mapping) else None
            if isinstance(text, str) and text.strip():
                return text.strip()
    reason = (incident.get("metadata") or {}).get("failure_reason")
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    return str(incident.get("description") or incident.get("type") or "unknown failure")


@dataclass(frozen=True)
class Signature:
    """What makes two incidents the same failure: category, kind and the normalised failure line."""

    category: str
    kind: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.category}|{self.kind}|{self.text}"

    @property
    def pattern_id(self) -> str:
        """Stable across calls and tenants' data changes, so a client can follow one pattern over time."""
        return "pattern-" + hashlib.sha256(self.key.encode()).hexdigest()[:12]

    @property
    def type(self) -> str:
        """The spec's `type` (`build_timeout` style): the diagnosis kind, else the category."""
        name = self.kind if self.kind != "unknown" else self.category
        return name.replace("-", "_")


def signature_of(incident: Mapping[str, Any]) -> Signature:
    diagnosis = incident.get("diagnosis") or {}
    metadata = incident.get("metadata") or {}
    incident_type = str(incident.get("type") or "unknown")
    category = str(diagnosis.get("category") or metadata.get("category") or incident_type)
    kind = str(diagnosis.get("kind") or (incident_type if category == incident_type else "unknown"))
    return Signature(category=category, kind=kind, text=normalise(failure_line(incident)))


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


@dataclass(frozen=True)
class Recurrence:
    """The arrival process of one pattern (see the module docstring for the model)."""

    last: datetime | None
    gaps: tuple[float, ...]  # hours between arrivals, oldest first

    @classmethod
    def of(cls, times: Iterable[datetime]) -> Recurrence:
        arrivals: list[datetime] = []
        for moment in sorted(times):
            if arrivals and moment - arrivals[-1] < BURST:
                continue
            arrivals.append(moment)
        gaps = tuple(_hours(b - a) for a, b in pairwise(arrivals))
        return cls(arrivals[-1] if arrivals else None, gaps)

    @cached_property
    def location(self) -> float | None:
        """Exponentially weighted mean of the log gaps (log-hours); None without a gap."""
        if not self.gaps:
            return None
        centre = math.log(self.gaps[0])
        for gap in self.gaps[1:]:
            centre = EWMA_ALPHA * math.log(gap) + (1 - EWMA_ALPHA) * centre
        return centre

    @property
    def typical_gap_hours(self) -> float | None:
        centre = self.location
        return math.exp(centre) if centre is not None else None

    @cached_property
    def spread(self) -> float | None:
        """Predictive sd of the log gap: from the gaps' CV, widened by sqrt(1 + 1/n); None below 2 gaps."""
        if len(self.gaps) < 2:
            return None
        mean = math.fsum(self.gaps) / len(self.gaps)
        variance = math.fsum((g - mean) ** 2 for g in self.gaps) / (len(self.gaps) - 1)
        cv = math.sqrt(variance) / mean
        sigma = math.sqrt(math.log1p(cv * cv)) * math.sqrt(1 + 1 / len(self.gaps))
        return max(sigma, MIN_SPREAD)

    def _distribution(self) -> NormalDist | None:
        centre, sigma = self.location, self.spread
        return NormalDist(centre, sigma) if centre is not None and sigma is not None else None

    def _elapsed(self, now: datetime) -> float:
        return max(0.0, _hours(now - self.last)) if self.last else 0.0

    def forecast(self, now: datetime) -> tuple[datetime | None, float]:
        """(predicted next arrival, confidence) as of `now`."""
        typical = self.typical_gap_hours
        if self.last is None or typical is None:
            return None, 0.0
        law = self._distribution()
        if law is None:
            return self.last + timedelta(hours=typical), 0.0
        elapsed = self._elapsed(now)
        below = law.cdf(math.log(elapsed)) if elapsed > 0 else 0.0
        survive = 1.0 - below
        if survive < STOPPED:
            return None, 0.0
        gap = math.exp(law.inv_cdf(min(below + survive / 2, 1 - 1e-12)))
        low, high = max(gap * (1 - WITHIN), elapsed), gap * (1 + WITHIN)
        inside = law.cdf(math.log(high)) - (law.cdf(math.log(low)) if low > 0 else 0.0)
        return self.last + timedelta(hours=gap), min(1.0, max(0.0, inside / survive))

    def probability_within(self, now: datetime, hours: float) -> float | None:
        """P(the next arrival falls in (now, now + hours]); None when fewer than two gaps say nothing."""
        law = self._distribution()
        if law is None or self.last is None:
            return None
        elapsed = self._elapsed(now)
        below = law.cdf(math.log(elapsed)) if elapsed > 0 else 0.0
        survive = 1.0 - below
        if survive < STOPPED:
            return 0.0
        return min(1.0, max(0.0, (law.cdf(math.log(elapsed + hours)) - below) / survive))


class FailurePattern(BaseModel):
    """One recurring failure: the spec's fields first, then what a responder needs to act on it."""

    pattern_id: str
    type: str
    frequency: int
    last_occurrence: str
    predicted_next: str | None
    confidence: float
    signature: str
    example: str
    category: str
    kind: str
    repositories: list[str]
    first_occurrence: str
    typical_interval_hours: float | None
    occurrences: int
    open_incidents: int
    incident_ids: list[str]


class PatternsReport(BaseModel):
    """The `GET /api/analytics/patterns` answer."""

    patterns: list[FailurePattern]
    total: int
    generated_at: str
    since: str | None
    repository: str | None
    min_frequency: int


@dataclass
class _Group:
    signature: Signature
    incidents: list[tuple[datetime, Mapping[str, Any]]]


def group_incidents(
    incidents: Iterable[Mapping[str, Any]],
    *,
    repository: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, _Group]:
    """Incidents (with a readable `detected_at`) by signature key, oldest first within a group."""
    groups: dict[str, _Group] = {}
    for incident in incidents:
        detected = parse_time(incident.get("detected_at"))
        if detected is None:
            continue
        if repository and str(incident.get("repository", "")).lower() != repository.lower():
            continue
        if (since and detected < since) or (until and detected > until):
            continue
        signature = signature_of(incident)
        groups.setdefault(signature.key, _Group(signature, [])).incidents.append((detected, incident))
    for group in groups.values():
        group.incidents.sort(key=lambda pair: pair[0])
    return groups


def _pattern(group: _Group, now: datetime) -> FailurePattern:
    times = [moment for moment, _ in group.incidents]
    latest = group.incidents[-1][1]
    recurrence = Recurrence.of(times)
    predicted, confidence = recurrence.forecast(now)
    typical = recurrence.typical_gap_hours
    return FailurePattern(
        pattern_id=group.signature.pattern_id,
        type=group.signature.type,
        frequency=len(group.incidents),
        last_occurrence=stamp(times[-1]) or "",
        predicted_next=stamp(predicted),
        confidence=round(confidence, 4),
        signature=group.signature.text,
        example=failure_line(latest),
        category=group.signature.category,
        kind=group.signature.kind,
        repositories=sorted({str(i.get("repository", "")) for _, i in group.incidents} - {""}),
        first_occurrence=stamp(times[0]) or "",
        typical_interval_hours=round(typical, 3) if typical is not None else None,
        occurrences=sum(int(i.get("occurrences") or 1) for _, i in group.incidents),
        open_incidents=sum(1 for _, i in group.incidents if i.get("status", "open") not in {"resolved", "closed"}),
        incident_ids=[str(i.get("id")) for _, i in reversed(group.incidents[-5:]) if i.get("id")],
    )


def find_patterns(
    incidents: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    min_frequency: int = 2,
    repository: str | None = None,
    since: datetime | None = None,
) -> list[FailurePattern]:
    """Patterns seen at least `min_frequency` times, most frequent (then most recent) first."""
    groups = group_incidents(incidents, repository=repository, since=since, until=now)
    found = [_pattern(g, now) for g in groups.values() if len(g.incidents) >= max(1, min_frequency)]
    found.sort(key=lambda p: p.pattern_id)
    found.sort(key=lambda p: (p.frequency, p.last_occurrence), reverse=True)
    return found


def report(
    incidents: Iterable[Mapping[str, Any]],
    now: datetime,
    *,
    min_frequency: int = 2,
    repository: str | None = None,
    since: datetime | None = None,
) -> PatternsReport:
    patterns = find_patterns(incidents, now, min_frequency=min_frequency, repository=repository, since=since)
    return PatternsReport(
        patterns=patterns,
        total=len(patterns),
        generated_at=stamp(now) or "",
        since=stamp(since),
        repository=repository,
        min_frequency=min_frequency,
    )


_PERIOD = re.compile(r"^(\d{1,4})([hdw])$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


def parse_period(period: str) -> timedelta:
    """`1h`, `24h`, `7d`, `30d`, `2w`... as a timedelta; ValueError for anything else."""
    match = _PERIOD.match(period.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"period must look like 24h, 7d or 2w, not {period!r}")
    return timedelta(hours=int(match.group(1)) * _UNIT_HOURS[match.group(2)])
