"""The dashboard WebSocket's routes: `$connect` (authenticate, claim a slot), `$disconnect`, `subscribe`.

`subscribe` is a two-way route: its answer's body (the tenant's `system_metrics`) is what API
Gateway sends back on the socket. A `$connect` answered with 4xx refuses the connection.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_bot.access import tokens
from mlops_bot.access.api_keys import Principal
from mlops_bot.access.authentication import CredentialStores, authenticate
from mlops_bot.access.users import AccessStores
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.dashboard import connections
from mlops_bot.dashboard.messages import MessageType, MetricsSources, system_metrics
from mlops_bot.dashboard.settings import get_dashboard_settings
from mlops_bot.errors import DomainError, Invalid, error_body
from mlops_bot.management.platform.settings import get_management_settings
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.login_attempts import DynamoLoginAttemptStore
from mlops_bot.stores.sessions import DynamoSessionStore
from mlops_bot.stores.users import DynamoUserStore

logger = Logger(service="dashboard")
metrics = Metrics(namespace="MlopsBot", service="dashboard")


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt `types` would otherwise subscribe to everything

    action: str = "subscribe"
    types: list[MessageType] | None = None


class _Dependencies:
    def __init__(self) -> None:
        settings = get_dashboard_settings()
        table = StateTable(settings.table_name)
        self.connections = DynamoDashboardConnectionStore(table)
        access = AccessStores(
            DynamoUserStore(table), DynamoSessionStore(table), DynamoLoginAttemptStore(table), table.name
        )
        self.credentials = CredentialStores(DynamoApiKeyStore(table), access)
        queues = {"events": Queue(settings.events_queue_url), "healing": Queue(settings.healing_queue_url)}
        self.sources = MetricsSources(
            DynamoIncidentStore(table), lambda: {name: q.depth() for name, q in queues.items()}
        )

    def authenticate(self, authorization: str | None) -> Principal:
        return authenticate(self.credentials, authorization, lambda: tokens.signing_secret(get_management_settings()))


_dependencies: _Dependencies | None = None


def _deps() -> _Dependencies:
    global _dependencies
    if _dependencies is None:
        _dependencies = _Dependencies()
    return _dependencies


def _on_connect(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    deps = _deps()
    connection = connections.connect(
        deps.connections,
        deps.authenticate,
        connection_id,
        event.get("queryStringParameters"),
        event.get("headers"),
    )
    metrics.add_metric(name="DashboardConnectsAccepted", unit=MetricUnit.Count, value=1)
    logger.info("dashboard connected", extra={"tenant_id": connection.tenant_id, "slot": connection.slot})
    return {"statusCode": 200}


def _on_disconnect(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    connections.disconnect(_deps().connections, connection_id)
    return {"statusCode": 200}


def _on_subscribe(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    try:
        request = SubscribeRequest.model_validate_json(event.get("body") or "{}")
    except ValidationError as exc:
        raise Invalid("Invalid subscribe message", str(exc.errors()[0]["msg"])) from exc
    deps = _deps()
    connection = connections.subscribe(deps.connections, connection_id, request.types)
    return {"statusCode": 200, "body": system_metrics(deps.sources, connection.tenant_id).encode().decode()}


ROUTES = {"$connect": _on_connect, "$disconnect": _on_disconnect, "subscribe": _on_subscribe}


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    route_key = str(event["requestContext"]["routeKey"])
    connection_id = str(event["requestContext"]["connectionId"])
    route = ROUTES.get(route_key)
    try:
        if route is None:
            raise Invalid("Unknown action", f"Send {{'action': 'subscribe'}}; '{route_key}' is not a route")
        return route(event, connection_id)
    except DomainError as exc:
        if route_key == "$connect":
            metrics.add_metric(name="DashboardConnectsRefused", unit=MetricUnit.Count, value=1)
        logger.info("dashboard request refused", extra={"route": route_key, "code": exc.code})
        body = error_body(exc.code, exc.message, exc.details, context.aws_request_id, **exc.extra)
        return {"statusCode": exc.status_code, "body": json.dumps({"type": "error", **body})}
