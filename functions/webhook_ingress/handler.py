"""POST /webhooks/github — the lean ingress: no web framework on this path (cold start counts)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.config import get_settings
from mlops_bot.credentials import webhook_secret
from mlops_bot.errors import DomainError, error_response
from mlops_bot.stores.deliveries import DynamoDeliveryStore
from mlops_bot.stores.installations import DynamoInstallationStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.webhooks.http import respond
from mlops_bot.webhooks.service import WebhookDependencies

# No powertools Tracer here: the X-Ray SDK costs ~80 ms of cold start on the path GitHub times out
# after 10 s; the function still traces at the service level (`Tracing: Active` in the template).
logger = Logger(service="webhook-ingress")
metrics = Metrics(namespace="MlopsBot", service="webhook-ingress")

_dependencies: WebhookDependencies | None = None


def _deps() -> WebhookDependencies:
    global _dependencies
    if _dependencies is None:
        settings = get_settings()
        table = StateTable(settings.table_name)
        _dependencies = WebhookDependencies(
            settings=settings,
            deliveries=DynamoDeliveryStore(table),
            repositories=DynamoRepositoryStore(table),
            events_queue=Queue(settings.events_queue_url),
            webhook_secret=lambda: webhook_secret(settings),
            installations=DynamoInstallationStore(table),
            record_installations=True,
        )
    return _dependencies


@logger.inject_lambda_context(correlation_id_path='headers."x-github-delivery"')
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        response = respond(event, _deps(), request_id=context.aws_request_id)
    except Exception as exc:
        # Nothing is lost: the delivery stays `received` and GitHub's redelivery re-sends it.
        logger.exception("webhook admission failed")

        response = error_response(DomainError("Processing error", type(exc).__name__), context.aws_request_id)
    metrics.add_metric(name=f"Webhook{response['statusCode']}", unit=MetricUnit.Count, value=1)
    logger.info("webhook answered", extra={"status_code": response["statusCode"]})
    return response
