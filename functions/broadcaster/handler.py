"""The state table's stream -> the spec's dashboard messages -> the tenant's open WebSockets."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.adapters.websocket import WebSocketConnections
from mlops_bot.dashboard.broadcast import BroadcastDependencies, StreamBatch
from mlops_bot.dashboard.messages import MetricsSources, StreamChange
from mlops_bot.dashboard.revocation import CredentialCheck
from mlops_bot.dashboard.settings import get_dashboard_settings
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.sessions import DynamoSessionStore
from mlops_bot.stores.users import DynamoUserStore

logger = Logger(service="broadcaster")
tracer = Tracer(service="broadcaster")
metrics = Metrics(namespace="MlopsBot", service="broadcaster")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

_dependencies: BroadcastDependencies | None = None


def _deps() -> BroadcastDependencies:
    global _dependencies
    if _dependencies is None:
        settings = get_dashboard_settings()
        table = StateTable(settings.table_name)
        queues = {"events": Queue(settings.events_queue_url), "healing": Queue(settings.healing_queue_url)}
        _dependencies = BroadcastDependencies(
            connections=DynamoDashboardConnectionStore(table),
            credentials=CredentialCheck(DynamoApiKeyStore(table), DynamoSessionStore(table), DynamoUserStore(table)),
            poster=WebSocketConnections(settings.websocket_endpoint),
            metrics_sources=MetricsSources(
                DynamoIncidentStore(table), lambda: {name: q.depth() for name, q in queues.items()}
            ),
        )
    return _dependencies


def change_from_record(record: DynamoDBRecord) -> StreamChange:
    stream = record.dynamodb
    if stream is None or record.event_name is None:
        raise ValueError("not a DynamoDB stream record")
    return StreamChange(
        event_name=record.event_name.name,
        sequence_number=stream.sequence_number or "",
        keys=stream.keys,
        new=stream.new_image or None,
        old=stream.old_image or None,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = StreamBatch(_deps())
    response = process_partial_response(
        event=event,
        record_handler=lambda record: batch.deliver(change_from_record(record)),
        processor=processor,
        context=context,
    )
    batch.finish()
    metrics.add_metric(name="DashboardMessagesSent", unit=MetricUnit.Count, value=batch.stats.sent)
    metrics.add_metric(name="DashboardConnectionsGone", unit=MetricUnit.Count, value=batch.stats.gone)
    if batch.stats.closed:
        logger.info("revoked dashboard connections closed", extra={"closed": batch.stats.closed})
    if batch.stats.failed:
        logger.warning("dashboard messages not delivered", extra={"failed": batch.stats.failed})
    return response
