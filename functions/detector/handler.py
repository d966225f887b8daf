"""Consumes the events queue: records activity and opens incidents (one message fails alone)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.config import get_settings
from mlops_bot.detection.run_logs import diagnose_run
from mlops_bot.detection.service import DetectorDependencies, ScheduledCheckOutcome, detect
from mlops_bot.diagnosis import Problem
from mlops_bot.github_access import github_client
from mlops_bot.healing.verification import VerificationDependencies, verify
from mlops_bot.messages import RepositoryEvent
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.quarantines import DynamoQuarantineStore
from mlops_bot.stores.repair_claims import DynamoRepairClaimStore

logger = Logger(service="detector")
tracer = Tracer(service="detector")
metrics = Metrics(namespace="MlopsBot", service="detector")
processor = BatchProcessor(event_type=EventType.SQS)

_dependencies: DetectorDependencies | None = None


def _deps() -> DetectorDependencies:
    global _dependencies
    if _dependencies is None:
        settings = get_settings()
        table = StateTable(settings.table_name)
        incidents = DynamoIncidentStore(table)
        events = DynamoEventStore(table)

        def diagnose(repository: str, run_id: int, installation_id: int | None) -> Problem:
            return diagnose_run(github_client(settings, repository, installation_id), repository, run_id)

        verification = VerificationDependencies(
            settings, PlaybookRunner(), diagnose, incidents, repair_claims=DynamoRepairClaimStore(table)
        )
        healing_queue = Queue(settings.healing_queue_url)

        def scheduled_check(event: RepositoryEvent) -> ScheduledCheckOutcome | None:
            # the drift check's stack, when first needed
            from mlops_bot.monitoring.scheduled import DriftCheckStores, run_drift_check
            from mlops_bot.monitoring.service import SignalStores
            from mlops_bot.stores.audit import DynamoAuditLog
            from mlops_bot.stores.budgets import DynamoRepairBudgetStore
            from mlops_bot.stores.repositories import DynamoRepositoryStore

            assert event.repository is not None
            client = github_client(settings, event.repository, event.installation_id)
            stores = DriftCheckStores(
                SignalStores(DynamoRepositoryStore(table), incidents, events),
                DynamoAuditLog(table),
                DynamoRepairBudgetStore(table),
            )
            outcome = run_drift_check(
                stores,
                healing_queue,
                event.tenant_id,
                event.repository,
                github=client,
                dry_run=settings.dry_run,
                settings=settings,
                check_id=event.delivery_id,
            )
            return ScheduledCheckOutcome(outcome.incident_id, outcome.new_incident) if outcome else None

        _dependencies = DetectorDependencies(
            settings=settings,
            healing_queue=healing_queue,
            incidents=incidents,
            activity=events,
            flaky_history=DynamoFlakyHistory(table),
            diagnose=diagnose,
            verify=lambda event: verify(verification, event),
            scheduled_check=scheduled_check,
            quarantines=DynamoQuarantineStore(table),
        )
    return _dependencies


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = RepositoryEvent.model_validate_json(record.body)
    logger.set_correlation_id(event.delivery_id)
    detection = detect(_deps(), event)
    metrics.add_metric(name="EventsRecorded", unit=MetricUnit.Count, value=1)
    if detection.new_incident:
        metrics.add_metric(name="IncidentsOpened", unit=MetricUnit.Count, value=1)
    logger.info(
        "event detected",
        extra={"delivery_id": event.delivery_id, "event": event.event, "incident_id": detection.incident_id},
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
