"""Scheduled work: the hourly sweep (scheduled checks, unsent healing requests, stable quarantines,
overdue verifications) and the delivery reconciler."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.config import get_settings
from mlops_bot.detection.incidents import sweep_pending_healing
from mlops_bot.detection.quarantine import QuarantineSweepStores, github_pull_requests, sweep_stable_quarantines
from mlops_bot.github_access import app_deliveries, github_client
from mlops_bot.healing.verification_deadline import DeadlineStores, hand_overdue_verifications_to_people
from mlops_bot.scheduling.service import SchedulingStores, queue_scheduled_checks, tenants
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.quarantines import DynamoQuarantineStore
from mlops_bot.stores.repair_claims import DynamoRepairClaimStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.tenants import DynamoTenantStore

logger = Logger(service="scheduler")
tracer = Tracer(service="scheduler")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    table = StateTable(settings.table_name)
    if (event.get("detail") or {}).get("task") == "reconcile" or event.get("task") == "reconcile":
        # The GitHub client (githubkit) is loaded only by the reconciler's runs, not the hourly sweep.
        source = app_deliveries(settings)
        if source is None:
            logger.info("reconciler skipped: listing webhook deliveries needs GitHub App credentials")
            return {"reconciled": False}
        from mlops_bot.reconciliation.service import ReconcilerStores, reconcile
        from mlops_bot.stores.deliveries import DynamoDeliveryStore
        from mlops_bot.stores.redeliveries import DynamoRedeliveryRequestStore

        stores = ReconcilerStores(
            DynamoRepositoryStore(table), DynamoDeliveryStore(table), DynamoRedeliveryRequestStore(table)
        )
        report = reconcile(stores, source)
        logger.info(
            "deliveries reconciled", extra={"examined": report.examined, "redelivered": len(report.redelivered)}
        )
        return {"reconciled": True, "redelivered": report.redelivered, "examined": report.examined}
    registry, repositories = DynamoTenantStore(table), DynamoRepositoryStore(table)
    queued = queue_scheduled_checks(SchedulingStores(registry, repositories), Queue(settings.events_queue_url))
    logger.info("scheduled checks queued", extra={"queued": queued})
    # The sweeps below share one read of the tenant registry and one set of stores.
    tenant_ids = tenants(registry)
    incidents, events, healing_queue = (
        DynamoIncidentStore(table),
        DynamoEventStore(table),
        Queue(settings.healing_queue_url),
    )
    # Healing requests a crashed detector (or signal route) stored but never sent.
    requested = sweep_pending_healing(incidents, events, healing_queue, tenant_ids)
    if requested:
        logger.warning("pending healing requests sent", extra={"incident_ids": requested})
    # Quarantined tests stable for the flake window since their pull request merged: one release
    # incident per repository (GitHub is asked whether each proposed quarantine was merged).
    sweep_stores = QuarantineSweepStores(
        DynamoQuarantineStore(table),
        DynamoFlakyHistory(table),
        repositories,
        incidents,
        events,
    )
    released = sweep_stable_quarantines(
        sweep_stores,
        healing_queue,
        tenant_ids,
        window_days=settings.flake_window_days,
        pull_requests=github_pull_requests(
            lambda repository, installation: github_client(settings, repository, installation)
        ),
    )
    if released:
        logger.info("release of stable quarantined tests requested", extra={"incident_ids": released})
    # Incidents whose proving run never came within the deadline: handed to a person, never stuck.
    overdue = hand_overdue_verifications_to_people(
        DeadlineStores(incidents, DynamoRepairClaimStore(table), DynamoAuditLog(table)),
        tenant_ids,
        deadline=timedelta(hours=settings.verification_deadline_hours),
    )
    if overdue:
        logger.warning("overdue verifications handed to a person", extra={"incident_ids": overdue})
    return {
        "queued": queued,
        "healing_requested": requested,
        "quarantines_released": released,
        "verifications_overdue": overdue,
    }
