"""The healer: turns a queued incident into a playbook execution on Step Functions.

Execution names derive from the incident, its occurrence and the request, so a message SQS
delivers twice starts one execution, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection import incidents
from mlops_bot.errors import NotFound, ServiceUnavailable
from mlops_bot.healing.planner import playbook_for
from mlops_bot.storage import keys


class HealingRequest(BaseModel):
    tenant_id: str
    incident_id: str
    reason: str = "detected"
    action: str | None = None
    request_id: str | None = None
    force: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)  # a manual request's, into the execution input
    correlation_id: str | None = None  # the webhook delivery id that started it all, for the logs


@dataclass
class HealerDependencies:
    settings: Settings
    table: StateTable
    runner: PlaybookRunner

    def state_machine_for(self, playbook: str) -> str:
        arn = self.settings.playbook_state_machines.get(playbook)
        if not arn:
            raise ServiceUnavailable("Playbook not deployed", f"no state machine for {playbook}")
        return arn


@dataclass(frozen=True)
class PlaybookStart:
    playbook: str
    execution_arn: str


def start_playbook(deps: HealerDependencies, request: HealingRequest) -> PlaybookStart:
    incident = incidents.load(deps.table, request.tenant_id, request.incident_id)
    if incident is None:
        raise NotFound("Incident not found", request.incident_id)
    diagnosis = incident.diagnosis or {}
    playbook = playbook_for(incident.type, diagnosis.get("category"), bool(incident.metadata.get("known_flaky")))
    suffix = request.request_id or f"{incident.occurrences}-{request.reason}"
    name = f"{incident.id}-{suffix}"[:80]
    arn = deps.runner.start(
        deps.state_machine_for(playbook),
        name,
        {
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "playbook": playbook,
            "reason": request.reason,
            "action": request.action,
            "force": request.force,
            "parameters": request.parameters,
            "correlation_id": request.correlation_id or incident.metadata.get("delivery_id"),
            "dry_run": deps.settings.dry_run,
        },
    )
    deps.table.set_fields(
        keys.incident_key(incident.tenant_id, incident.id),
        {"playbook": playbook, "execution_arn": arn},
        append={"timeline": [{"event": "analysis_started", "timestamp": iso(utc_now()), "details": playbook}]},
        if_exists=True,
    )
    return PlaybookStart(playbook=playbook, execution_arn=arn)
