"""The local HTTP API: the template's HttpApi routes, as API Gateway v2 events to the handlers.

The public port is an edge like API Gateway's: it serves the template's HttpApi routes and the
WebSocket API's connection path, and nothing else. Every refusal it makes itself (no route,
method not allowed, body too large) is in the spec's error format, and a 405 names the allowed
methods. API Gateway's WebSocket management endpoint (`/_websocket/{stage}/@connections/...`,
which can push to and drop any connection) is never served there: `create_management_endpoint`
serves it on its own listener, which the stack binds to loopback for the functions alone.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from mlops_bot.errors import error_body
from mlops_bot.local.runtime import FunctionError, LocalFunctions
from mlops_bot.local.template import Route
from mlops_bot.local.websocket import MANAGEMENT_PREFIX

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


ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 500: "INTERNAL_ERROR"}
ERROR_MESSAGES = {404: "No route", 405: "Method not allowed", 413: "Payload too large", 500: "Internal server error"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _error(
    status: int,
    details: str | None = None,
    *,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    request_id = (request.headers.get("x-request-id") if request is not None else None) or str(uuid.uuid4())
    body = error_body(
        ERROR_CODES.get(status, "INTERNAL_ERROR"), ERROR_MESSAGES.get(status, "Error"), details, request_id
    )
    response = Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)
    response.headers["x-request-id"] = request_id
    return response


async def _starlette_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (a route's path matched, its methods did not) in the spec's format."""
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, f"{request.method} {request.url.path}", request=request, headers=exc.headers)


def is_management_route(route: BaseRoute) -> bool:
    path = getattr(route, "path", "")
    return isinstance(path, str) and (path == MANAGEMENT_PREFIX or path.startswith(f"{MANAGEMENT_PREFIX}/"))


def _allowed_methods(routes: list[Route], path: str) -> list[str]:
    allowed: set[str] = set()
    for route in routes:
        for method in METHODS if route.method == "ANY" else (route.method,):
            if route.match(method, path) is not None:
                allowed.add(method)
    return sorted(allowed)


def create_gateway(routes: list[Route], functions: LocalFunctions, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The HttpApi routes as one catch-all; `extra_routes` (the WebSocket API's) are matched first.

    Management routes among `extra_routes` are left out: see `create_management_endpoint`.
    """
    public = [route for route in extra_routes if not is_management_route(route)]

    async def dispatch(request: Request) -> Response:
        for route in routes:
            params = route.match(request.method, request.url.path)
            if params is not None:
                break
        else:
            allowed = _allowed_methods(routes, request.url.path)
            where = f"{request.method} {request.url.path}"
            if allowed:
                return _error(405, where, request=request, headers={"allow": ", ".join(allowed)})
            return _error(404, where, request=request)
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, f"at most {MAX_BODY} bytes", request=request)
        event = api_gateway_event(request, body, route, params)
        try:
            result = await run_in_threadpool(functions.invoke, route.function, event)
        except FunctionError as failure:
            return _error(500, str(failure.payload["errorType"]), request=request)
        return http_response(result)

    async def refused(request: Request, exc: Exception) -> Response:
        # Starlette's own refusals: a method outside `METHODS` (TRACE, CONNECT, ...) on the catch-all.
        assert isinstance(exc, HTTPException)
        allowed = _allowed_methods(routes, request.url.path)
        where = f"{request.method} {request.url.path}"
        if exc.status_code == 405 and allowed:
            return _error(405, where, request=request, headers={"allow": ", ".join(allowed)})
        return _error(404 if exc.status_code == 405 else exc.status_code, where, request=request)

    return Starlette(
        routes=[*public, StarletteRoute("/{path:path}", dispatch, methods=list(METHODS))],
        exception_handlers={404: refused, 405: refused},
    )


def create_management_endpoint(extra_routes: Sequence[BaseRoute]) -> Starlette:
    """API Gateway's WebSocket management endpoint alone, for a loopback-only listener."""
    management = [route for route in extra_routes if is_management_route(route)]
    return Starlette(routes=management, exception_handlers={404: _starlette_error, 405: _starlette_error})
