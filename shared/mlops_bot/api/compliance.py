"""Compliance audits (/api/compliance/audits): run, list, verify the signed chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.dynamodb_admin import ttl_attribute
from mlops_bot.adapters.signing import KmsSigner
from mlops_bot.api.dependencies import management_settings, require, settings_dependency, state_table
from mlops_bot.config import Settings
from mlops_bot.errors import ServiceUnavailable
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.management.reports import compliance as service
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.compliance_audits import ComplianceStatus, DynamoComplianceAuditStore
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.pipelines import DynamoPipelineStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.users import DynamoUserStore

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


def signer(settings: Annotated[ManagementSettings, Depends(management_settings)]) -> KmsSigner | None:
    return KmsSigner(settings.compliance_key_id) if settings.compliance_key_id else None


def environment(settings: Annotated[Settings, Depends(settings_dependency)]) -> service.AuditEnvironment:
    return service.AuditEnvironment(
        ttl_attribute=lambda: ttl_attribute(settings.table_name),
        protected_branches=tuple(settings.protected_branches),
    )


def sources(table: Annotated[StateTable, Depends(state_table)]) -> service.AuditSources:
    return service.AuditSources(
        chain=DynamoComplianceAuditStore(table),
        audit_log=DynamoAuditLog(table),
        incidents=DynamoIncidentStore(table),
        events=DynamoEventStore(table),
        repositories=DynamoRepositoryStore(table),
        pipelines=DynamoPipelineStore(table),
        api_keys=DynamoApiKeyStore(table),
        users=DynamoUserStore(table),
    )


@router.get("/audits", response_model=service.AuditList)
def list_audits(
    caller: Annotated[Principal, Depends(require("admin"))],
    table: Annotated[StateTable, Depends(state_table)],
    standard: service.Standard | None = None,
    status: ComplianceStatus | None = None,
    from_date: Annotated[datetime | None, Query(description="ISO date or date-time (UTC when no zone)")] = None,
    to_date: Annotated[datetime | None, Query(description="ISO date or date-time (UTC when no zone)")] = None,
) -> service.AuditList:
    return service.list_audits(
        DynamoComplianceAuditStore(table), caller.tenant_id, standard, status, from_date, to_date
    )


@router.post("/audits", response_model=service.ComplianceAudit, status_code=201)
def create_audit(
    body: service.AuditCreate,
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[service.AuditSources, Depends(sources)],
    env: Annotated[service.AuditEnvironment, Depends(environment)],
    kms: Annotated[KmsSigner | None, Depends(signer)],
) -> service.ComplianceAudit:
    """Run the standard's checks over this tenant's records; the result joins the signed chain."""
    return service.create_audit(stores, caller.tenant_id, body, caller.key_id, env, kms)


@router.get("/audits/verify", response_model=service.ChainVerification)
def verify_audits(
    caller: Annotated[Principal, Depends(require("admin"))],
    table: Annotated[StateTable, Depends(state_table)],
    kms: Annotated[KmsSigner | None, Depends(signer)],
) -> service.ChainVerification:
    """Recompute every record's hash and link and check every signature."""
    if kms is None:
        raise ServiceUnavailable("Compliance signing is not configured", "Set MLOPS_BOT_COMPLIANCE_KEY_ID")
    return service.verify_chain(DynamoComplianceAuditStore(table), caller.tenant_id, kms)
