"""The hourly sweep: queues a scheduled check for every enrolled repository of every tenant."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.config import get_settings
from mlops_bot.scheduling.service import queue_scheduled_checks

logger = Logger(service="scheduler")
tracer = Tracer(service="scheduler")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    queued = queue_scheduled_checks(StateTable(settings.table_name), Queue(settings.events_queue_url))
    logger.info("scheduled checks queued", extra={"queued": queued})
    return {"queued": queued}
