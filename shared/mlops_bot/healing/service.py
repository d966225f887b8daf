"""The healer: turns a queued incident into a playbook execution on Step Functions.

Execution names derive from the incident and the request, so a message SQS delivers twice (or a
healing request re-sent after a crash) starts one execution, not two. The start is noted on the
incident once per execution: a healer that dies between the start and the note finishes the note
on the redelivery, and a redelivery after the note adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mlops_bot.config import Settings
from mlops_bot.errors import NotFound, ServiceUnavailable
from mlops_bot.healing.planner import playbook_for
from mlops_bot.messages import HealingRequest
from mlops_bot.stores.incidents import IncidentStore

__all__ = ["HealerDependencies", "HealingRequest", "PlaybookStart", "start_playbook"]


class ExecutionStarter(Protocol):
    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named `name`; a second start with the same name returns the first ARN."""
        ...


@dataclass
class HealerDependencies:
    """What `start_playbook` works with; the handler builds the stores once per cold start."""

    settings: Settings
    runner: ExecutionStarter
    incidents: IncidentStore

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
    incident = deps.incidents.get(request.tenant_id, request.incident_id)
    if incident is None:
        raise NotFound("Incident not found", request.incident_id)
    diagnosis = incident.diagnosis or {}
    playbook = playbook_for(str(incident.type), diagnosis.get("category"), bool(incident.metadata.get("known_flaky")))
    suffix = request.request_id or f"{incident.occurrences}-{request.reason}"
    name = f"{incident.id}-{suffix}"[:80]
    arn = deps.runner.start(
        deps.state_machine_for(playbook),
        name,
        {
            "tenant_id": incident.tenant_id,
            "incident_id": incident.id,
            "playbook": playbook,
            "reason": str(request.reason),
            "action": request.action,
            "force": request.force,
            "parameters": request.parameters,
            "correlation_id": request.correlation_id or incident.metadata.get("delivery_id"),
            "dry_run": deps.settings.dry_run,
        },
    )
    deps.incidents.record_playbook_start(incident.tenant_id, incident.id, playbook, arn)
    return PlaybookStart(playbook=playbook, execution_arn=arn)
