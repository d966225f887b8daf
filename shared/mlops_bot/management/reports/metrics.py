"""Prometheus exposition of the tenant's real counters, labelled as in the spec.

Counted from stored records, so the values cover the retention window (events expire after
`event_ttl_days`); an expiry looks like a counter reset to Prometheus, which `rate()` handles.
Processing duration is the time from the ingress receiving an event to the detector recording
it: from `processed_at` when the detector stores one, else from the record's expiry (written at
processing time as now + TTL), which has one-second resolution.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from mlops_bot.management.reports import records, request_metrics
from mlops_bot.stores.events import ReceivedEvent
from mlops_bot.stores.incidents import CLOSED_STATUSES, Incident, IncidentStatus
from mlops_bot.stores.request_metrics import RequestMetricsStore

BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}" if labels else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def processing_seconds(event: ReceivedEvent, event_ttl_seconds: int) -> float | None:
    received = records.parse_time(event.received_at)
    if received is None:
        return None
    processed = records.parse_time(event.processed_at)
    if processed is not None:
        return max(0.0, (processed - received).total_seconds())
    if event.expires_at is not None:
        return max(0.0, float(event.expires_at) - event_ttl_seconds - received.timestamp())
    return None


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, labels: Labels, value: float) -> None:
        self.lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(
    sources: records.TenantRecords, requests: RequestMetricsStore, tenant_id: str, event_ttl_seconds: int
) -> str:
    """The exposition: events and incidents from the tenant's records (`sources`), the management
    API's request counters from `requests`."""
    events = records.tenant_events(sources.events, tenant_id)
    incidents = records.tenant_incidents(sources.incidents, tenant_id)
    out = Exposition()

    processed: Counter[Labels] = Counter()
    durations: dict[Labels, list[float]] = defaultdict(list)
    for event in events:
        event_type = str(event.summary.get("event", "unknown"))
        repo = event.repository
        processed[(("event_type", event_type), ("repo", repo), ("status", "success"))] += 1
        seconds = processing_seconds(event, event_ttl_seconds)
        if seconds is not None:
            durations[(("event_type", event_type), ("repo", repo))].append(seconds)
    out.family("bot_events_processed_total", "counter", "Total number of events processed")
    for labels, count in sorted(processed.items()):
        out.sample("bot_events_processed_total", labels, count)

    out.family("bot_event_processing_duration_seconds", "histogram", "Time spent processing events")
    for labels, values in sorted(durations.items()):
        for bound in BUCKETS:
            out.sample(
                "bot_event_processing_duration_seconds_bucket",
                (*labels, ("le", _number(bound))),
                sum(1 for v in values if v <= bound),
            )
        out.sample("bot_event_processing_duration_seconds_bucket", (*labels, ("le", "+Inf")), len(values))
        out.sample("bot_event_processing_duration_seconds_sum", labels, round(sum(values), 6))
        out.sample("bot_event_processing_duration_seconds_count", labels, len(values))

    detected: Counter[Labels] = Counter()
    resolved: Counter[Labels] = Counter()
    open_by_status: Counter[Labels] = Counter()
    actions: Counter[Labels] = Counter()
    for incident in incidents:
        issue_type = incident.type.value
        repo = incident.repository
        detected[(("type", issue_type), ("severity", incident.severity.value), ("repo", repo))] += 1
        if incident.status == IncidentStatus.RESOLVED:
            resolved[(("type", issue_type), ("repo", repo))] += 1
        else:
            open_by_status[(("status", incident.status.value),)] += 1
        for action in incident.actions_taken:
            actions[
                (("action", str(action.get("action", ""))), ("result", str(action.get("status", ""))), ("repo", repo))
            ] += 1
    out.family("bot_issues_detected_total", "counter", "Issues detected")
    for labels, count in sorted(detected.items()):
        out.sample("bot_issues_detected_total", labels, count)
    out.family("bot_issues_resolved_total", "counter", "Issues resolved")
    for labels, count in sorted(resolved.items()):
        out.sample("bot_issues_resolved_total", labels, count)
    out.family("bot_actions_total", "counter", "Healing actions by result")
    for labels, count in sorted(actions.items()):
        out.sample("bot_actions_total", labels, count)
    out.family("bot_issues_unresolved", "gauge", "Issues not resolved yet, by status")
    for labels, count in sorted(open_by_status.items()):
        out.sample("bot_issues_unresolved", labels, count)
    _healing_outcomes(out, incidents)
    _requests(out, request_metrics.counts(requests, tenant_id))
    return out.text()


def _healing_outcomes(out: Exposition, incidents: list[Incident]) -> None:
    outcomes: Counter[Labels] = Counter()
    for incident in incidents:
        if incident.status in CLOSED_STATUSES and incident.playbook:
            outcomes[(("playbook", incident.playbook), ("outcome", incident.status.value))] += 1
    out.family("bot_healing_outcomes_total", "counter", "Healed incidents by playbook and outcome")
    for labels, count in sorted(outcomes.items()):
        out.sample("bot_healing_outcomes_total", labels, count)


def _requests(out: Exposition, counted: list[request_metrics.RequestCount]) -> None:
    out.family("bot_http_requests_total", "counter", "Management API requests by method, route and status")
    for c in sorted(counted, key=lambda c: (c.route, c.method, c.status)):
        labels: Labels = (("method", c.method), ("route", c.route), ("status", str(c.status)))
        out.sample("bot_http_requests_total", labels, c.count)
    errors: Counter[Labels] = Counter()
    for c in counted:
        errors[(("method", c.method), ("route", c.route))] += c.count if c.status >= 500 else 0
    out.family("bot_http_request_errors_total", "counter", "Management API requests answered with a 5xx")
    for labels, count in sorted(errors.items()):
        out.sample("bot_http_request_errors_total", labels, count)
    latency: dict[Labels, list[request_metrics.RequestCount]] = defaultdict(list)
    for c in counted:
        latency[(("method", c.method), ("route", c.route))].append(c)
    out.family("bot_http_request_duration_seconds", "histogram", "Management API request latency")
    for labels, group in sorted(latency.items()):
        for bound in request_metrics.BUCKETS:
            out.sample(
                "bot_http_request_duration_seconds_bucket",
                (*labels, ("le", _number(bound))),
                sum(c.buckets[bound] for c in group),
            )
        total = sum(c.count for c in group)
        out.sample("bot_http_request_duration_seconds_bucket", (*labels, ("le", "+Inf")), total)
        out.sample("bot_http_request_duration_seconds_sum", labels, round(sum(c.duration_seconds for c in group), 6))
        out.sample("bot_http_request_duration_seconds_count", labels, total)
