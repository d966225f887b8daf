"""Healing Guard failures (/api/failures): the tenant's incidents, and manual healing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.dependencies import healing_queue, incident_store, pipeline_sources, require
from mlops_bot.management.healing import healing_requests
from mlops_bot.management.watching import pipelines
from mlops_bot.stores.incidents import IncidentStore, Severity

router = APIRouter(prefix="/api/failures", tags=["failures"])


@router.get("", response_model=pipelines.FailureList)
def list_failures(
    caller: Annotated[Principal, Depends(require("read"))],
    sources: Annotated[pipelines.PipelineSources, Depends(pipeline_sources)],
    pipeline_id: str | None = None,
    severity: Severity | None = None,
    status: Annotated[
        str | None, Query(description="open (any unfinished state), resolved, failed; or one precise state")
    ] = None,
    from_date: Annotated[datetime | None, Query(description="ISO date or date-time (UTC when no zone)")] = None,
    to_date: Annotated[datetime | None, Query(description="ISO date or date-time (UTC when no zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> pipelines.FailureList:
    return pipelines.list_failures(
        sources,
        caller.tenant_id,
        pipeline_id=pipeline_id,
        severity=severity,
        status=status,
        start=from_date,
        end=to_date,
        limit=limit,
        offset=offset,
    )


@router.post("/{failure_id}/heal", response_model=healing_requests.HealingTriggered, status_code=202)
def heal_failure(
    failure_id: str,
    caller: Annotated[Principal, Depends(require("write"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    queue: Annotated[Queue, Depends(healing_queue)],
    body: healing_requests.HealRequest | None = None,
) -> healing_requests.HealingTriggered:
    request = body or healing_requests.HealRequest()
    ticket = healing_requests.request_healing(
        incidents, queue, caller.tenant_id, failure_id, request.action, request.force, request.parameters, caller.key_id
    )
    return healing_requests.HealingTriggered(
        failure_id=failure_id, execution_id=ticket.execution_id, estimated_completion=ticket.estimated_completion
    )
