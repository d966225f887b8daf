"""Incidents as the spec's "issues" (/api/v1/issues), and manual resolution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.dependencies import healing_queue, incident_store, require
from mlops_bot.errors import NotFound
from mlops_bot.management.healing import healing_requests, issues
from mlops_bot.stores.incidents import Incident, IncidentStore, IncidentType, Severity

router = APIRouter(prefix="/api/v1", tags=["issues"])


class IssueList(BaseModel):
    issues: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


def public(incident: Incident) -> dict[str, Any]:
    return issues.view(incident.model_dump(mode="json", exclude_none=True))


@router.get("/issues", response_model=IssueList)
def list_issues(
    caller: Annotated[Principal, Depends(require("read"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    repository: str | None = None,
    type: IncidentType | None = None,
    severity: Severity | None = None,
    status: Annotated[
        str | None, Query(description="open (any unfinished state), resolved, failed; or one precise state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IssueList:
    states = issues.status_filter(status)
    wanted = [
        public(i)
        for i in incidents.all(caller.tenant_id)
        if (repository is None or i.repository.lower() == repository.lower())
        and (type is None or i.type == type)
        and (severity is None or i.severity == severity)
        and (states is None or i.status.value in states)
    ]
    return IssueList(issues=wanted[offset : offset + limit], total=len(wanted), limit=limit, offset=offset)


@router.get("/issues/{incident_id}", response_model=dict[str, Any])
def get_issue(
    incident_id: str,
    caller: Annotated[Principal, Depends(require("read"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
) -> dict[str, Any]:
    incident = incidents.get(caller.tenant_id, incident_id)
    if incident is None:
        raise NotFound("Issue not found", f"No issue '{incident_id}' in this tenant")
    return public(incident)


@router.post("/issues/{incident_id}/resolve", response_model=healing_requests.ResolutionTriggered, status_code=202)
def resolve_issue(
    incident_id: str,
    caller: Annotated[Principal, Depends(require("write"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    queue: Annotated[Queue, Depends(healing_queue)],
    body: healing_requests.ResolveRequest | None = None,
) -> healing_requests.ResolutionTriggered:
    """Queue a manual healing run (202); 409 while one is running or once resolved, unless `force`."""
    request = body or healing_requests.ResolveRequest()
    ticket = healing_requests.request_healing(
        incidents,
        queue,
        caller.tenant_id,
        incident_id,
        request.action,
        request.force,
        request.parameters,
        caller.key_id,
    )
    return healing_requests.ResolutionTriggered(
        execution_id=ticket.execution_id, estimated_completion=ticket.estimated_completion
    )
