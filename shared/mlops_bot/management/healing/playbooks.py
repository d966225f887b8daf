"""Playbooks as the API shows them: the catalog, the tenant's switch, statistics from incidents.

Versions and dates come from the deployed definitions: each playbook's fingerprint (its catalog
entry and its state-machine ASL) is recorded in the table; the first time a deployment's API sees
a playbook is its `created_at`, each change of the fingerprint raises the patch number of
`version` (the catalog's major.minor) and sets `updated_at`.

Executions are counted from the tenant's incidents: every playbook run that planned a repair
raised its incident's `attempts`. An incident that ended `resolved` was healed by its last run
(one successful execution); a run still `healing`/`verifying` is in progress; every other run
failed to heal.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from statistics import mean

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.healing import catalog
from mlops_bot.healing.catalog import Playbook, PlaybookAction, PlaybookConfiguration
from mlops_bot.playbooks import ASL_DIR
from mlops_bot.stores.incidents import CLOSED_STATUSES, IN_PROGRESS_STATUSES, Incident, IncidentStatus, IncidentStore
from mlops_bot.stores.playbook_settings import PlaybookRelease, PlaybookSetting, PlaybookSettingsStore


class PlaybookStatistics(BaseModel):
    total_executions: int
    successful_executions: int
    failed_executions: int
    running_executions: int = 0
    success_rate: float | None
    average_execution_time: float | None


class PlaybookSummary(BaseModel):
    name: str
    version: str
    description: str
    supported_issues: list[str]
    success_rate: float | None
    enabled: bool
    reason: str | None = Field(default=None, description="The reason given with the last enable/disable")
    created_at: str
    updated_at: str
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
    updated_at: str
    last_updated: str
    enabled: bool
    reason: str | None = Field(default=None, description="The reason given with the last enable/disable")
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
RETRY_ALIASES = frozenset({RETRY, "retry"})  # `retry` is what the document's SDK example sends

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
    if action is None or action in RETRY_ALIASES:
        return action if action is None else RETRY
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


def statistics(incidents: list[Incident], name: str) -> PlaybookStatistics:
    handled = [i for i in incidents if i.playbook == name]
    total = succeeded = running = 0
    times: list[float] = []
    for incident in handled:
        finished = incident.status in CLOSED_STATUSES
        in_progress = incident.status in IN_PROGRESS_STATUSES
        runs = max(incident.attempts, 1 if finished or in_progress else 0)
        total += runs
        if incident.status == IncidentStatus.RESOLVED and runs:
            succeeded += 1
            if incident.resolution_time is not None:
                times.append(float(incident.resolution_time))
        elif in_progress and runs:
            running += 1
    failed = total - succeeded - running
    decided = succeeded + failed
    return PlaybookStatistics(
        total_executions=total,
        successful_executions=succeeded,
        failed_executions=failed,
        running_executions=running,
        success_rate=round(succeeded / decided, 4) if decided else None,
        average_execution_time=round(mean(times), 1) if times else None,
    )


class Release(BaseModel):
    version: str
    created_at: str
    updated_at: str


@lru_cache(maxsize=16)
def fingerprint(name: str) -> str:
    """What a playbook is: its catalog entry (without version and dates) and its state machine."""
    playbook = _playbook(name)
    entry = playbook.model_dump(exclude={"version", "created_at", "last_updated"})
    asl = ASL_DIR / f"{name}.asl.json"
    text = asl.read_text() if asl.exists() else ""
    return hashlib.sha256((json.dumps(entry, sort_keys=True) + text).encode()).hexdigest()


def release(store: PlaybookSettingsStore, name: str) -> Release:
    """This deployment's version and dates of a playbook, recording a new definition when it changed."""
    playbook = _playbook(name)
    current = fingerprint(name)
    now = iso(utc_now())
    found = store.release(name) or store.first_release(
        PlaybookRelease(playbook=name, fingerprint=current, created_at=now, updated_at=now)
    )
    if found.fingerprint != current:
        found = (
            store.new_revision(name, current, seen=found.fingerprint, at=now)
            or store.release(name)  # another request revised it first
            or found
        )
    major_minor = ".".join(playbook.version.split(".")[:2])
    return Release(
        version=f"{major_minor}.{found.revision - 1}", created_at=found.created_at, updated_at=found.updated_at
    )


def _latest(*moments: str | None) -> str:
    return max(m for m in moments if m)


def _enabled(setting: PlaybookSetting | None) -> bool:
    return setting is None or setting.enabled


def list_playbooks(playbook_settings: PlaybookSettingsStore, incidents: IncidentStore, tenant_id: str) -> PlaybookList:
    handled = incidents.all(tenant_id)
    settings = playbook_settings.settings(tenant_id)
    summaries = []
    for playbook in catalog.PLAYBOOKS:
        setting = settings.get(playbook.name)
        released = release(playbook_settings, playbook.name)
        summaries.append(
            PlaybookSummary(
                name=playbook.name,
                version=released.version,
                description=playbook.description,
                supported_issues=playbook.supported_issues,
                success_rate=statistics(handled, playbook.name).success_rate,
                enabled=_enabled(setting),
                reason=setting.reason if setting else None,
                created_at=released.created_at,
                updated_at=released.updated_at,
                last_updated=_latest(released.updated_at, setting.updated_at if setting else None),
            )
        )
    return PlaybookList(playbooks=summaries, total=len(summaries))


def playbook_details(
    playbook_settings: PlaybookSettingsStore, incidents: IncidentStore, tenant_id: str, name: str
) -> PlaybookDetails:
    playbook = _playbook(name)
    setting = playbook_settings.setting(tenant_id, name)
    released = release(playbook_settings, name)
    return PlaybookDetails(
        name=playbook.name,
        version=released.version,
        description=playbook.description,
        author=playbook.author,
        created_at=released.created_at,
        updated_at=released.updated_at,
        last_updated=_latest(released.updated_at, setting.updated_at if setting else None),
        enabled=_enabled(setting),
        reason=setting.reason if setting else None,
        supported_issues=playbook.supported_issues,
        configuration=playbook.configuration,
        statistics=statistics(incidents.all(tenant_id), name),
        actions=playbook.actions,
    )


def update_playbook(
    playbook_settings: PlaybookSettingsStore, tenant_id: str, name: str, update: PlaybookUpdate, updated_by: str
) -> PlaybookUpdated:
    playbook = _playbook(name)
    now = iso(utc_now())
    playbook_settings.save_setting(
        PlaybookSetting(
            tenant_id=tenant_id,
            playbook=playbook.name,
            enabled=update.enabled,
            reason=update.reason,
            updated_at=now,
            updated_by=updated_by,
        )
    )
    return PlaybookUpdated(playbook=playbook.name, enabled=update.enabled, updated_at=now)
