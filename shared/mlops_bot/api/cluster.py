"""Distributed operations (/api/cluster): the serverless fleet and dead-letter redrive (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.fleet import Fleet
from mlops_bot.api.dependencies import fleet, fleet_layout, management_settings, require_operator
from mlops_bot.management.platform import cluster as service
from mlops_bot.management.platform.settings import ManagementSettings

router = APIRouter(prefix="/api/cluster", tags=["cluster"])


@router.get("/status", response_model=service.ClusterStatus)
def cluster_status(
    caller: Annotated[Principal, Depends(require_operator)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[service.FleetLayout, Depends(fleet_layout)],
) -> service.ClusterStatus:
    return service.status(fleet_, layout)


@router.post("/rebalance", response_model=service.RebalanceResult, status_code=202)
def rebalance(
    caller: Annotated[Principal, Depends(require_operator)],
    fleet_: Annotated[Fleet, Depends(fleet)],
    layout: Annotated[service.FleetLayout, Depends(fleet_layout)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
    body: service.RebalanceRequest | None = None,
) -> service.RebalanceResult:
    """Run a strategy (`redrive_dead_letters`: every dead-letter queue back to its source queue); others 422."""
    return service.rebalance(fleet_, layout, body or service.RebalanceRequest(), settings.redrive_strategy)
