"""The local HTTP API: the template's HttpApi routes, as API Gateway v2 events to the handlers."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from mlops_bot.errors import error_body
from mlops_bot.local.runtime import FunctionError, LocalFunctions
from mlops_bot.local.template import Route

# API Gateway HTTP APIs refuse bodies above 10 MB; the local gateway lets larger ones through so
# that the handler's own limit (GitHub's 25 MB) is what tests exercise.
MAX_BODY = 64 * 1024 * 1024


def api_gateway_event(request: Request, body: bytes, route: Route, path_parameters: dict[str, str]) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.url.path,
        "rawQueryString": request.url.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.url.hostname or "localhost",
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.url.path,
                "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
                "sourceIp": request.client.host if request.client else "127.0.0.1",
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": text is None,
        "body": text if text is not None else base64.b64encode(body).decode(),
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    return event


def http_response(result: Any) -> Response:
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(json.dumps(result), status_code=200, media_type="application/json")
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(content, status_code=int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response


def _error(status: int, code: str, message: str, details: str | None = None) -> Response:
    return Response(json.dumps(error_body(code, message, details)), status_code=status, media_type="application/json")


def create_gateway(routes: list[Route], functions: LocalFunctions, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The HttpApi routes as one catch-all; `extra_routes` (the WebSocket API's) are matched first."""

    async def dispatch(request: Request) -> Response:
        for route in routes:
            params = route.match(request.method, request.url.path)
            if params is not None:
                break
        else:
            return _error(404, "NOT_FOUND", "No route", f"{request.method} {request.url.path}")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "PAYLOAD_TOO_LARGE", "Payload too large")
        event = api_gateway_event(request, body, route, params)
        try:
            result = await run_in_threadpool(functions.invoke, route.function, event)
        except FunctionError as failure:
            return _error(500, "INTERNAL_ERROR", "Internal server error", failure.payload["errorType"])
        return http_response(result)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[*extra_routes, StarletteRoute("/{path:path}", dispatch, methods=methods)])
