"""The steps a playbook's state machine calls (through the playbook-actions function).

Each action takes the execution's state and returns the fields it adds. In this slice the pipeline
playbook plans the conservative repair (a GitHub issue carrying the diagnosis), records the write
it makes or, in dry run, the write it would make, and closes the incident's timeline.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.detection import incidents
from mlops_bot.errors import Invalid, NotFound
from mlops_bot.healing import audit
from mlops_bot.storage import keys


class PlaybookState(BaseModel):
    tenant_id: str
    incident_id: str
    playbook: str = "pipeline_failure_fix"
    dry_run: bool = True
    reason: str | None = None
    action: str | None = None
    plan: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def plan(table: StateTable, state: PlaybookState) -> dict[str, Any]:
    incident = incidents.load(table, state.tenant_id, state.incident_id)
    if incident is None:
        raise NotFound("Incident not found", state.incident_id)
    title = f"[mlops-bot] {incident.description}"
    body = (
        f"mlops-bot detected a failure in `{incident.repository}`.\n\n"
        f"- workflow: {incident.metadata.get('workflow_name')}\n- run: {incident.metadata.get('html_url')}\n"
        f"- incident: `{incident.id}`\n"
    )
    return {
        "action": "open_issue",
        "rule": "fallback:open_issue",
        "repository": incident.repository,
        "method": "POST",
        "path": f"/repos/{incident.repository}/issues",
        "title": title,
        "body": body,
    }


def execute(table: StateTable, state: PlaybookState) -> dict[str, Any]:
    if state.plan is None:
        raise Invalid("No plan", "execute needs a plan")
    step = state.plan
    result = "planned" if state.dry_run else "skipped: no GitHub writer in this build"
    audit_id = audit.record(
        table,
        audit.AuditRecord(
            tenant_id=state.tenant_id,
            repository=str(step["repository"]),
            method=str(step["method"]),
            path=str(step["path"]),
            summary=str(step.get("title", step["action"])),
            incident_id=state.incident_id,
            playbook=state.playbook,
            rule=str(step.get("rule")),
            dry_run=state.dry_run,
            result=result,
        ),
    )
    now = iso(utc_now())
    table.set_fields(
        keys.incident_key(state.tenant_id, state.incident_id),
        {},
        append={
            "actions_taken": [{"action": step["action"], "status": result, "timestamp": now, "audit_id": audit_id}],
            "timeline": [{"event": "action_executed", "timestamp": now, "details": f"{step['action']} ({result})"}],
        },
        if_exists=True,
    )
    return {"audit_id": audit_id, "result": result}


def mark_failed(table: StateTable, state: PlaybookState) -> dict[str, Any]:
    now = iso(utc_now())
    cause = (state.error or {}).get("Cause") or (state.error or {}).get("Error") or "unknown"
    table.set_fields(
        keys.incident_key(state.tenant_id, state.incident_id),
        {"status": "failed", "failed_at": now},
        append={"timeline": [{"event": "issue_failed", "timestamp": now, "details": str(cause)[:500]}]},
        if_exists=True,
    )
    return {"status": "failed"}


def mark_awaiting(table: StateTable, state: PlaybookState) -> dict[str, Any]:
    table.set_fields(
        keys.incident_key(state.tenant_id, state.incident_id), {"status": "awaiting_human"}, if_exists=True
    )
    return {"status": "awaiting_human"}


ACTIONS = {"plan": plan, "execute": execute, "mark_failed": mark_failed, "mark_awaiting": mark_awaiting}


def run_action(table: StateTable, name: str, state: PlaybookState) -> dict[str, Any]:
    try:
        action = ACTIONS[name]
    except KeyError as exc:
        raise Invalid("Unknown playbook action", name) from exc
    return action(table, state)
