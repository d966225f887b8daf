"""Playbooks (/api/v1/playbooks): the catalog with this tenant's switches and statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from mlops_bot.access.api_keys import Principal
from mlops_bot.api.dependencies import incident_store, playbook_settings_store, require
from mlops_bot.management.healing import playbooks as service
from mlops_bot.stores.incidents import IncidentStore
from mlops_bot.stores.playbook_settings import PlaybookSettingsStore

router = APIRouter(prefix="/api/v1/playbooks", tags=["playbooks"])


@router.get("", response_model=service.PlaybookList)
def list_playbooks(
    caller: Annotated[Principal, Depends(require("read"))],
    playbook_settings: Annotated[PlaybookSettingsStore, Depends(playbook_settings_store)],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
) -> service.PlaybookList:
    return service.list_playbooks(playbook_settings, incidents, caller.tenant_id)


@router.get("/{name}", response_model=service.PlaybookDetails)
def get_playbook(
    name: str,
    caller: Annotated[Principal, Depends(require("read"))],
    playbook_settings: Annotated[PlaybookSettingsStore, Depends(playbook_settings_store)],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
) -> service.PlaybookDetails:
    return service.playbook_details(playbook_settings, incidents, caller.tenant_id, name)


@router.patch("/{name}", response_model=service.PlaybookUpdated)
def update_playbook(
    name: str,
    body: service.PlaybookUpdate,
    caller: Annotated[Principal, Depends(require("admin"))],
    playbook_settings: Annotated[PlaybookSettingsStore, Depends(playbook_settings_store)],
) -> service.PlaybookUpdated:
    """Enable or disable the playbook for this tenant; the healer skips a disabled one."""
    return service.update_playbook(playbook_settings, caller.tenant_id, name, body, caller.key_id)
