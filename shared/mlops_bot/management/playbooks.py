"""Playbooks as the API shows them: the catalog, the tenant's switch, statistics from incidents.

An execution counts once it finished: an incident the playbook handled that ended `resolved`
(successful) or `failed`. Incidents still open, healing or awaiting a human are not outcomes yet.
"""

from __future__ import annotations

from statistics import mean
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.healing import catalog
from mlops_bot.healing.catalog import Playbook, PlaybookAction, PlaybookConfiguration
from mlops_bot.management import records
from mlops_bot.storage import keys


class PlaybookStatistics(BaseModel):
    total_executions: int
    successful_executions: int
    failed_executions: int
    success_rate: float | None
    average_execution_time: float | None


class PlaybookSummary(BaseModel):
    name: str
    version: str
    description: str
    supported_issues: list[str]
    success_rate: float | None
    enabled: bool
    last_updated: str


class PlaybookList(BaseModel):
    playbooks: list[PlaybookSummary]
    total: int


class PlaybookDetails(BaseModel):
    name: str
    version: str
    description: str
    author: str
    created_at: str
    last_updated: str
    enabled: bool
    supported_issues: list[str]
    configuration: PlaybookConfiguration
    statistics: PlaybookStatistics
    actions: list[PlaybookAction]


class PlaybookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str | None = Field(default=None, max_length=500)


class PlaybookUpdated(BaseModel):
    message: str = "Playbook updated successfully"
    playbook: str
    enabled: bool
    updated_at: str


RETRY = "retry_failed_action"

# A manual `action` names a step of the playbook catalog that the healer can run on request, or a
# repair by the healer's own name. Each maps to the repair the healer carries out.
RUNNABLE_ACTIONS: dict[str, str] = {
    "dependency_fix": "open_fix_pr",
    "create_pull_request": "open_fix_pr",
    "open_fix_pr": "open_fix_pr",
    "rerun_failed_jobs": "rerun_failed_jobs",
    "open_issue": "open_issue",
    "retrain_model": "dispatch_retrain",
    "dispatch_retrain": "dispatch_retrain",
    "rollback_deployment": "rollback_deployment",
}
_CATALOG_TYPE = {"open_fix_pr": "create_pull_request", "dispatch_retrain": "retrain_model"}


def manual_actions(playbook: Playbook) -> list[str]:
    """The `action` values a manual heal of an incident handled by `playbook` accepts."""
    types = {a.type for a in playbook.actions}
    return [RETRY, *(name for name, repair in RUNNABLE_ACTIONS.items() if _CATALOG_TYPE.get(repair, repair) in types)]


def resolve_manual_action(action: str | None, playbook: Playbook) -> str | None:
    """The repair a manual `action` asks for (None: let the planner choose); 422 for anything else."""
    if action is None or action == RETRY:
        return action
    allowed = manual_actions(playbook)
    if action not in allowed:
        raise ValidationFailed(
            "Request validation failed",
            f"action: '{action}' is not an action of playbook '{playbook.name}'; use one of {', '.join(allowed)}",
            fields=[{"loc": "body.action", "msg": f"unknown action '{action}'", "type": "value_error"}],
        )
    return RUNNABLE_ACTIONS[action]


def _playbook(name: str) -> Playbook:
    found = catalog.get(name)
    if found is None:
        raise NotFound("Playbook not found", f"No playbook '{name}'; known: {', '.join(catalog.NAMES)}")
    return found


def statistics(incidents: list[dict[str, Any]], name: str) -> PlaybookStatistics:
    handled = [i for i in incidents if i.get("playbook") == name]
    succeeded = [i for i in handled if i.get("status") == "resolved"]
    failed = [i for i in handled if i.get("status") == "failed"]
    finished = len(succeeded) + len(failed)
    times = [float(i["resolution_time"]) for i in succeeded if i.get("resolution_time") is not None]
    return PlaybookStatistics(
        total_executions=finished,
        successful_executions=len(succeeded),
        failed_executions=len(failed),
        success_rate=round(len(succeeded) / finished, 4) if finished else None,
        average_execution_time=round(mean(times), 1) if times else None,
    )


def _setting(table: StateTable, tenant_id: str, name: str) -> dict[str, Any]:
    return table.get(keys.playbook_setting_key(tenant_id, name)) or {}


def list_playbooks(table: StateTable, tenant_id: str) -> PlaybookList:
    incidents = records.incidents(table, tenant_id)
    settings = {i["sk"].removeprefix("PLAYBOOK#"): i for i in table.query(keys.tenant_pk(tenant_id), "PLAYBOOK#")}
    summaries = []
    for playbook in catalog.PLAYBOOKS:
        setting = settings.get(playbook.name, {})
        summaries.append(
            PlaybookSummary(
                name=playbook.name,
                version=playbook.version,
                description=playbook.description,
                supported_issues=playbook.supported_issues,
                success_rate=statistics(incidents, playbook.name).success_rate,
                enabled=bool(setting.get("enabled", True)),
                last_updated=str(setting.get("updated_at") or playbook.last_updated),
            )
        )
    return PlaybookList(playbooks=summaries, total=len(summaries))


def playbook_details(table: StateTable, tenant_id: str, name: str) -> PlaybookDetails:
    playbook = _playbook(name)
    setting = _setting(table, tenant_id, name)
    return PlaybookDetails(
        name=playbook.name,
        version=playbook.version,
        description=playbook.description,
        author=playbook.author,
        created_at=playbook.created_at,
        last_updated=str(setting.get("updated_at") or playbook.last_updated),
        enabled=bool(setting.get("enabled", True)),
        supported_issues=playbook.supported_issues,
        configuration=playbook.configuration,
        statistics=statistics(records.incidents(table, tenant_id), name),
        actions=playbook.actions,
    )


def update_playbook(
    table: StateTable, tenant_id: str, name: str, update: PlaybookUpdate, updated_by: str
) -> PlaybookUpdated:
    playbook = _playbook(name)
    now = iso(utc_now())
    table.put(
        {
            **keys.playbook_setting_key(tenant_id, playbook.name),
            "entity": "playbook_setting",
            "tenant_id": tenant_id,
            "playbook": playbook.name,
            "enabled": update.enabled,
            "reason": update.reason,
            "updated_at": now,
            "updated_by": updated_by,
        }
    )
    return PlaybookUpdated(playbook=playbook.name, enabled=update.enabled, updated_at=now)
