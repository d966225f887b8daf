"""Incidents as the documents' "issues": the documented statuses and field names.

Inside, an incident moves through `open → healing → verifying → resolved | failed` (or waits in
`awaiting_human`). The Management API document knows three statuses: `open`, `resolved`, `failed`.
Every unfinished state is `open` there; the precise one stays visible as `state`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from mlops_bot.errors import ValidationFailed
from mlops_bot.stores.incidents import IncidentStatus


class IssueStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    FAILED = "failed"


INTERNAL_STATES = tuple(state.value for state in IncidentStatus)

PUBLIC_FIELDS = (
    "id",
    "repository",
    "type",
    "severity",
    "description",
    "detected_at",
    "resolution_time",
    "evidence",
    "timeline",
    "occurrences",
    "playbook",
    "diagnosis",
)


def documented_status(state: str) -> IssueStatus:
    if state == "resolved":
        return IssueStatus.RESOLVED
    if state == "failed":
        return IssueStatus.FAILED
    return IssueStatus.OPEN


def status_filter(status: str | None) -> frozenset[str] | None:
    """The internal states a `status` query means: a documented status, or one precise state."""
    if status is None:
        return None
    wanted = status.strip().lower()
    if wanted in IssueStatus.__members__.values():
        return frozenset(s for s in INTERNAL_STATES if documented_status(s) == wanted)
    if wanted in INTERNAL_STATES:
        return frozenset({wanted})
    known = ", ".join([*IssueStatus, *(s for s in INTERNAL_STATES if s not in IssueStatus.__members__.values())])
    raise ValidationFailed("Request validation failed", f"status: unknown status '{status}'; use one of {known}")


def _affected_files(item: dict[str, Any]) -> list[str]:
    found: list[str] = []
    sources: list[dict[str, Any]] = [dict(item.get("metadata") or {})]
    diagnosis = item.get("diagnosis") or {}
    sources.append(dict(diagnosis.get("details") or {}))
    sources.extend(dict(a.get("details") or {}) for a in item.get("actions_taken") or [])
    for source in sources:
        for name in ("affected_files", "files", "changed_files"):
            values = source.get(name)
            if isinstance(values, list):
                found.extend(str(v) for v in values)
        for name in ("file", "path"):
            if isinstance(source.get(name), str):
                found.append(source[name])
    return list(dict.fromkeys(found))


def _action(entry: dict[str, Any]) -> dict[str, Any]:
    shown = dict(entry)
    shown["executed_at"] = entry.get("executed_at") or entry.get("finished_at") or entry.get("timestamp")
    return shown


def view(item: dict[str, Any]) -> dict[str, Any]:
    """The stored incident in the document's shape (no keys, documented status, known metadata)."""
    shown = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    state = str(item.get("status") or "open")
    shown["status"] = documented_status(state).value
    shown["state"] = state
    shown["resolved_at"] = item.get("resolved_at") if state == "resolved" else None
    metadata = dict(item.get("metadata") or {})
    if metadata.get("run_id") is not None:
        metadata.setdefault("workflow_run_id", metadata["run_id"])
    files = _affected_files(item)
    if files:
        metadata["affected_files"] = files
    shown["metadata"] = metadata
    shown["actions_taken"] = [_action(a) for a in item.get("actions_taken") or []]
    return shown
