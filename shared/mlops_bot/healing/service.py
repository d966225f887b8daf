"""The healer: turns a queued incident into a playbook execution on Step Functions.

Execution names are derived from the incident and its occurrence, so a message SQS delivers twice
starts one execution, not two.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection import incidents
from mlops_bot.errors import NotFound
from mlops_bot.storage import keys

PLAYBOOK_FOR_TYPE = {"pipeline_failure": "pipeline_failure_fix"}


class HealingRequest(BaseModel):
    tenant_id: str
    incident_id: str
    reason: str = "detected"
    action: str | None = None


@dataclass
class HealerDependencies:
    settings: Settings
    table: StateTable
    runner: PlaybookRunner

    def state_machine_for(self, playbook: str) -> str:
        arns = {"pipeline_failure_fix": self.settings.pipeline_fix_state_machine_arn}
        return arns.get(playbook, self.settings.pipeline_fix_state_machine_arn)


@dataclass(frozen=True)
class PlaybookStart:
    playbook: str
    execution_arn: str


def start_playbook(deps: HealerDependencies, request: HealingRequest) -> PlaybookStart:
    incident = incidents.load(deps.table, request.tenant_id, request.incident_id)
    if incident is None:
        raise NotFound("Incident not found", request.incident_id)
    playbook = PLAYBOOK_FOR_TYPE.get(incident.type, "pipeline_failure_fix")
    name = f"{incident.id}-{incident.occurrences}-{request.reason}"[:80]
    arn = deps.runner.start(
        deps.state_machine_for(playbook),
        name,
        {
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "playbook": playbook,
            "reason": request.reason,
            "action": request.action,
            "dry_run": deps.settings.dry_run,
        },
    )
    now = iso(utc_now())
    deps.table.set_fields(
        keys.incident_key(incident.tenant_id, incident.id),
        {"status": "healing", "playbook": playbook, "execution_arn": arn},
        append={"timeline": [{"event": "analysis_started", "timestamp": now, "details": playbook}]},
        if_exists=True,
    )
    return PlaybookStart(playbook=playbook, execution_arn=arn)
