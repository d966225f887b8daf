"""The template's WebSocket API, served locally, with API Gateway's management endpoint beside it.

API Gateway's part of a WebSocket API, done in the local gateway's event loop:

- a client connects to `ws://HOST:PORT/ws/dashboard?...`: the `$connect` route's function is
  invoked with an API Gateway WebSocket event (`requestContext.routeKey`, `eventType` CONNECT,
  `connectionId`, `queryStringParameters`, `headers`); an answer with `statusCode` >= 400 (or a
  raised error) refuses the connection, which the client sees as a close with code 1008 (policy
  violation) and the error's message as the reason;
- each message picks its route with the API's `RouteSelectionExpression` (`$request.body.action`),
  falling back to `$default`, else answering `{"message": "Forbidden", ...}` as API Gateway does;
  a two-way route (one with a route response) sends the function's `body` back on the socket;
- a close invokes `$disconnect` (eventType DISCONNECT, `disconnectStatusCode`);
- `POST/GET/DELETE {management}/{stage}/@connections/{id}` is the management API the functions'
  boto3 `apigatewaymanagementapi` client reaches (410 `GoneException` for an unknown id, 413 above
  API Gateway's 128 KiB).

Routes, integrations and route responses are read from `template.yaml`; the `AWS::ApiGatewayV2`
resources themselves are not provisioned.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from mlops_bot.local.runtime import FunctionError, LocalFunctions
from mlops_bot.local.template import Template

log = logging.getLogger("mlops_bot.local")
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit
POLICY_VIOLATION = 1008
MANAGEMENT_PREFIX = "/_websocket"


@dataclass(frozen=True)
class SocketRoute:
    route_key: str
    function: str
    two_way: bool = False


@dataclass
class WebSocketApiSpec:
    logical_id: str
    selection_expression: str
    routes: dict[str, SocketRoute] = field(default_factory=dict)
    stage_name: Any = None  # the Stage resource's StageName, resolved by the stack


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def _function_of_uri(uri: Any) -> str | None:
    """`!Sub arn:...:functions/${Fn.Arn}/invocations` (or a GetAtt in a Join) -> `Fn`."""
    text = json.dumps(uri)
    found = re.search(r"\$\{([A-Za-z0-9]+)\.Arn\}", text) or re.search(
        r'"Fn::GetAtt": \["([A-Za-z0-9]+)", "Arn"\]', text
    )
    return found.group(1) if found else None


def _integration_of_target(target: Any) -> str | None:
    """`!Sub integrations/${Integration}` or `!Join ["/", [integrations, !Ref Integration]]`."""
    text = json.dumps(target)
    found = re.search(r"integrations/\$\{([A-Za-z0-9]+)\}", text) or re.search(r'"Ref": "([A-Za-z0-9]+)"', text)
    return found.group(1) if found else None


def websocket_apis(template: Template) -> list[WebSocketApiSpec]:
    apis = {
        logical_id: WebSocketApiSpec(
            logical_id=logical_id,
            selection_expression=str(resource.get("Properties", {}).get("RouteSelectionExpression", "")),
        )
        for logical_id, resource in template.of_type("AWS::ApiGatewayV2::Api").items()
        if resource.get("Properties", {}).get("ProtocolType") == "WEBSOCKET"
    }
    for resource in template.of_type("AWS::ApiGatewayV2::Stage").values():
        props = resource.get("Properties", {})
        api = apis.get(_ref(props.get("ApiId")) or "")
        if api is not None:
            api.stage_name = props.get("StageName")
    functions = {
        logical_id: _function_of_uri(resource.get("Properties", {}).get("IntegrationUri"))
        for logical_id, resource in template.of_type("AWS::ApiGatewayV2::Integration").items()
    }
    two_way = {
        _ref(r.get("Properties", {}).get("RouteId"))
        for r in template.of_type("AWS::ApiGatewayV2::RouteResponse").values()
    }
    for logical_id, resource in template.of_type("AWS::ApiGatewayV2::Route").items():
        props = resource.get("Properties", {})
        api = apis.get(_ref(props.get("ApiId")) or "")
        function = functions.get(_integration_of_target(props.get("Target")) or "")
        if api is None or function is None:
            continue
        route_key = str(props["RouteKey"])
        api.routes[route_key] = SocketRoute(
            route_key=route_key,
            function=function,
            two_way=logical_id in two_way and bool(props.get("RouteResponseSelectionExpression")),
        )
    return list(apis.values())


def _select_route(expression: str, body: str) -> str:
    """`$request.body.a.b` -> the value at a.b of the JSON body; `$default` when there is none."""
    prefix = "$request.body."
    if not expression.startswith(prefix):
        return "$default"
    try:
        value: Any = json.loads(body)
    except ValueError:
        return "$default"
    for part in expression[len(prefix) :].split("."):
        if not isinstance(value, dict) or part not in value:
            return "$default"
        value = value[part]
    return value if isinstance(value, str) and value else "$default"


def _connection_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(11)).decode()  # API Gateway's ids look like this: 16 chars, '='


@dataclass
class _Connection:
    connection_id: str
    websocket: WebSocket
    connected_at: float
    source_ip: str
    user_agent: str
    last_active_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LocalWebSocketApi:
    """One WebSocket API of the template on the local gateway: the socket path and its management API."""

    def __init__(self, spec: WebSocketApiSpec, functions: LocalFunctions, stage: str, path: str) -> None:
        self.spec = spec
        self.functions = functions
        self.stage = stage
        self.path = path
        self.connections: dict[str, _Connection] = {}

    @property
    def management_path(self) -> str:
        return f"{MANAGEMENT_PREFIX}/{self.stage}"

    def starlette_routes(self) -> list[BaseRoute]:
        return [
            WebSocketRoute(self.path, self.serve),
            Route(
                f"{self.management_path}/@connections/{{connection_id:path}}",
                self.manage,
                methods=["POST", "GET", "DELETE"],
            ),
        ]

    # ---------------------------------------------------------------- events
    def _context(
        self, websocket: WebSocket, route_key: str, event_type: str, connection: str, at: float
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": websocket.client.host if websocket.client else "127.0.0.1",
                "userAgent": websocket.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "domainName": websocket.url.hostname or "localhost",
            "connectionId": connection,
            "apiId": "local",
        }

    def connect_event(self, websocket: WebSocket, connection_id: str, at: float) -> dict[str, Any]:
        headers = dict(websocket.headers.items())
        query = dict(websocket.query_params.items())
        event: dict[str, Any] = {
            "headers": headers,
            "multiValueHeaders": {k: websocket.headers.getlist(k) for k in headers},
            "requestContext": self._context(websocket, "$connect", "CONNECT", connection_id, at),
            "isBase64Encoded": False,
        }
        if query:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: websocket.query_params.getlist(k) for k in query}
        return event

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> tuple[Any, bool]:
        """(result, failed): a raised handler error is API Gateway's "Internal server error"."""
        route = self.spec.routes.get(route_key)
        if route is None:
            return None, False
        try:
            return await run_in_threadpool(self.functions.invoke, route.function, event), False
        except FunctionError as failure:
            log.warning("WebSocket route %s failed: %s", route_key, failure)
            return failure.payload, True

    # ---------------------------------------------------------------- the socket
    async def serve(self, websocket: WebSocket) -> None:
        connection_id, connected_at = _connection_id(), time.time()
        result, failed = await self._invoke("$connect", self.connect_event(websocket, connection_id, connected_at))
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        await websocket.accept()
        if failed or status >= 400:
            await websocket.close(code=POLICY_VIOLATION, reason=_refusal_reason(result, status, failed))
            return
        connection = _Connection(
            connection_id=connection_id,
            websocket=websocket,
            connected_at=connected_at,
            source_ip=websocket.client.host if websocket.client else "127.0.0.1",
            user_agent=websocket.headers.get("user-agent", ""),
            last_active_at=connected_at,
        )
        self.connections[connection_id] = connection
        close_code, close_reason = 1005, ""
        try:
            while True:
                received = await websocket.receive()
                if received["type"] == "websocket.disconnect":
                    close_code, close_reason = int(received.get("code") or 1005), str(received.get("reason") or "")
                    break
                text = received.get("text")
                if text is None:
                    text = (received.get("bytes") or b"").decode("utf-8", errors="replace")
                connection.last_active_at = time.time()
                await self._on_message(connection, text)
        except WebSocketDisconnect as gone:
            close_code = gone.code
        finally:
            self.connections.pop(connection_id, None)
            event = {
                "headers": {"host": websocket.headers.get("host", "")},
                "requestContext": {
                    **self._context(websocket, "$disconnect", "DISCONNECT", connection_id, connected_at),
                    "disconnectStatusCode": close_code,
                    "disconnectReason": close_reason,
                },
                "isBase64Encoded": False,
            }
            await self._invoke("$disconnect", event)

    async def _on_message(self, connection: _Connection, text: str) -> None:
        websocket = connection.websocket
        route_key = _select_route(self.spec.selection_expression, text)
        if route_key not in self.spec.routes:
            route_key = "$default"
        context = self._context(websocket, route_key, "MESSAGE", connection.connection_id, connection.connected_at)
        if route_key not in self.spec.routes:
            await self._send(connection, _gateway_error("Forbidden", context))
            return
        event = {
            "requestContext": {**context, "messageId": str(uuid.uuid4())},
            "body": text,
            "isBase64Encoded": False,
        }
        result, failed = await self._invoke(route_key, event)
        if failed:
            await self._send(connection, _gateway_error("Internal server error", context))
        elif self.spec.routes[route_key].two_way and isinstance(result, dict) and result.get("body"):
            await self._send(connection, str(result["body"]))

    async def _send(self, connection: _Connection, text: str) -> bool:
        try:
            async with connection.lock:  # one frame at a time per socket
                await connection.websocket.send_text(text)
        except (RuntimeError, WebSocketDisconnect, OSError):
            return False
        return True

    # ---------------------------------------------------------------- the management API
    async def manage(self, request: Request) -> Response:
        connection = self.connections.get(request.path_params["connection_id"])
        if connection is None:
            return _management_error(410, "GoneException", "The connection is gone")
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "lastActiveAt": _iso(connection.last_active_at),
                    "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                }
            )
        if request.method == "DELETE":
            try:
                await connection.websocket.close(code=1000)
            except RuntimeError:
                return _management_error(410, "GoneException", "The connection is gone")
            return Response(status_code=204)
        data = await request.body()
        if len(data) > MAX_MESSAGE_BYTES:
            return _management_error(413, "PayloadTooLargeException", "Message too long")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = base64.b64encode(data).decode()
        if not await self._send(connection, text):
            self.connections.pop(connection.connection_id, None)
            return _management_error(410, "GoneException", "The connection is gone")
        return Response(status_code=200)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _gateway_error(message: str, context: dict[str, Any]) -> str:
    return json.dumps({"message": message, "connectionId": context["connectionId"], "requestId": context["requestId"]})


def _management_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": code})


def _refusal_reason(result: Any, status: int, failed: bool) -> str:
    """The close reason a refused client sees: the error body's code and message (<= 123 bytes)."""
    reason = "Internal server error" if failed else f"HTTP {status}"
    if not failed and isinstance(result, dict):
        try:
            error = json.loads(result.get("body") or "{}").get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        if error.get("code"):
            reason = f"{error['code']}: {error.get('message', '')}"
    return reason.encode()[:123].decode(errors="ignore")
