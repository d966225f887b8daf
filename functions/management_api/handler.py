"""The management API: the FastAPI app behind Mangum (API Gateway HTTP API, payload v2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from mlops_bot.api.app import create_app

logger = Logger(service="management-api")
app = create_app()
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response: dict[str, Any] = _asgi(event, context)
    return response
