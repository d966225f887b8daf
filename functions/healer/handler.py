"""Consumes the healing queue: starts the playbook execution for each incident."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.stepfunctions import PlaybookRunner
from mlops_bot.config import get_settings
from mlops_bot.healing.service import HealerDependencies, start_playbook
from mlops_bot.messages import HealingRequest
from mlops_bot.stores.incidents import DynamoIncidentStore

logger = Logger(service="healer")
tracer = Tracer(service="healer")
metrics = Metrics(namespace="MlopsBot", service="healer")
processor = BatchProcessor(event_type=EventType.SQS)

_dependencies: HealerDependencies | None = None


def _deps() -> HealerDependencies:
    global _dependencies
    if _dependencies is None:
        settings = get_settings()
        _dependencies = HealerDependencies(
            settings=settings, runner=PlaybookRunner(), incidents=DynamoIncidentStore(StateTable(settings.table_name))
        )
    return _dependencies


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    request = HealingRequest.model_validate_json(record.body)
    logger.set_correlation_id(request.correlation_id)
    started = start_playbook(_deps(), request)
    metrics.add_metric(name="PlaybooksStarted", unit=MetricUnit.Count, value=1)
    logger.info("playbook started", extra={"incident_id": request.incident_id, "playbook": started.playbook})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
