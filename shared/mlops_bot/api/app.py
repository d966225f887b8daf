"""The FastAPI application and the one place errors become HTTP answers.

Every answer that is not a success carries the spec's error body with `request_id` and
`timestamp`: domain errors, FastAPI's validation errors, unknown routes, and any unexpected
exception (logged with its stack trace, answered as a bare INTERNAL_ERROR). Every response carries
`X-Request-ID`, and every rate-limited one `X-RateLimit-Limit/Remaining/Reset/Window`.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from mlops_bot import __version__, strict_json
from mlops_bot.api.cache import TimedCache
from mlops_bot.api.schemas import ERROR_RESPONSES, error_details
from mlops_bot.errors import DomainError, ValidationFailed, error_body

logger = logging.getLogger("mlops_bot.api")


@dataclass(frozen=True)
class RouterGroup:
    """A module exposing `router`, and the literal path prefixes every one of its routes starts with."""

    module: str
    prefixes: tuple[str, ...]
    optional: bool = False  # owned by another part of the bot: served when its module ships in this build

    def serves(self, path: str) -> bool:
        """Whether a route of this group could match `path`, or the path with a slash added or removed."""
        candidates = (path, path.rstrip("/"), path + "/")
        return any(candidate.startswith(prefix) for prefix in self.prefixes for candidate in candidates)


# Every router of the API, in the order FastAPI matches them. Each group is imported and included
# the first time a request's path could reach one of its routes, so a cold start builds only the
# routes the request needs (FastAPI analyses each route's dependencies and builds its models when
# the route is declared); `app.routes` and `app.openapi()` build all of them. A test checks that
# every route of each module starts with one of its prefixes; add a new router here.
ROUTER_GROUPS = (
    RouterGroup("mlops_bot.api.health", ("/health", "/api/health", "/api/status")),
    RouterGroup("mlops_bot.api.auth", ("/auth/",)),
    RouterGroup("mlops_bot.api.users", ("/api/users",)),
    RouterGroup("mlops_bot.api.repositories", ("/api/v1/repositories",)),
    RouterGroup("mlops_bot.api.incidents", ("/api/v1/issues",)),
    RouterGroup("mlops_bot.api.playbooks", ("/api/v1/playbooks",)),
    RouterGroup("mlops_bot.api.system_config", ("/api/v1/config",)),
    RouterGroup("mlops_bot.api.analytics", ("/metrics", "/api/v1/analytics")),
    RouterGroup("mlops_bot.api.pipelines", ("/api/pipelines",)),
    RouterGroup("mlops_bot.api.failures", ("/api/failures",)),
    RouterGroup("mlops_bot.api.tenants", ("/api/tenants",)),
    RouterGroup("mlops_bot.api.compliance", ("/api/compliance/",)),
    RouterGroup("mlops_bot.api.cluster", ("/api/cluster/",)),
    RouterGroup("mlops_bot.api.signals", ("/api/v1/repositories/",), optional=True),
    RouterGroup("mlops_bot.api.patterns", ("/api/analytics/",), optional=True),
    RouterGroup("mlops_bot.api.prediction", ("/api/ml/",), optional=True),
    RouterGroup("mlops_bot.api.dashboard_page", ("/dashboard",), optional=True),
    RouterGroup("mlops_bot.api.api_keys", ("/api/v1/api-keys",), optional=True),
    RouterGroup("mlops_bot.api.installations", ("/api/v1/installations", "/api/v1/repositories"), optional=True),
)


class ManagementApp(FastAPI):
    """FastAPI, with the routers of `ROUTER_GROUPS` included the first time a path needs them.

    A request includes every group that has a route its path (or the path with a slash added or
    removed, for FastAPI's redirect) could match, before routing starts, so matching, 404 and 405
    answers are what the whole app would give. The routes stay in the order of `ROUTER_GROUPS`
    whatever order the groups were built in, after the app's own routes and before any included
    after `create_app()`.
    """

    def __init__(self, groups: tuple[RouterGroup, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._groups = groups
        self._base_routes: list[BaseRoute] | None = None
        self._group_routes: dict[int, list[BaseRoute]] = {}
        self._including = threading.Lock()

    def seal(self) -> None:
        """The routes declared so far come first; the groups follow, built on first use."""
        self._base_routes = list(self.router.routes)

    @property
    def built_groups(self) -> tuple[str, ...]:
        """The modules of the groups built so far, in match order (an optional one not shipped counts, routeless)."""
        return tuple(self._groups[index].module for index in sorted(self._group_routes))

    def include_routers_for(self, path: str) -> None:
        wanted = [i for i, group in enumerate(self._groups) if i not in self._group_routes and group.serves(path)]
        if wanted:
            self._include(wanted)

    def include_all_routers(self) -> None:
        if self._base_routes is not None and len(self._group_routes) < len(self._groups):
            self._include(range(len(self._groups)))

    def _include(self, indexes: Iterable[int]) -> None:
        with self._including:
            assert self._base_routes is not None, "seal() the app before including its groups"
            built = dict(self._group_routes)
            known = {id(route) for routes in (self._base_routes, *built.values()) for route in routes}
            added_later = [route for route in self.router.routes if id(route) not in known]  # after create_app
            for index in indexes:
                if index in built:
                    continue
                group = self._groups[index]
                try:
                    module = importlib.import_module(group.module)
                except ModuleNotFoundError as exc:
                    if not group.optional or exc.name != group.module:
                        raise
                    built[index] = []
                    continue
                before = len(self.router.routes)
                self.include_router(module.router)
                built[index] = list(self.router.routes[before:])
            ordered = list(self._base_routes)
            for index in sorted(built):
                ordered.extend(built[index])
            self.router.routes = [*ordered, *added_later]
            mark_changed = getattr(self.router, "_mark_routes_changed", None)
            if mark_changed is not None:  # FastAPI caches what it derives from the route list
                mark_changed()
            self._group_routes = built  # published once its routes are in place (read without the lock)

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route of the API (this builds the groups not built yet)."""
        self.include_all_routers()
        return self.router.routes

    def openapi(self) -> dict[str, Any]:
        self.include_all_routers()
        return super().openapi()

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        self.include_all_routers()
        return super().url_path_for(name, **path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path, root_path = str(scope["path"]), str(scope.get("root_path") or "")
            self.include_routers_for(path)
            if root_path and path.startswith(root_path):  # what the router matches
                self.include_routers_for(path[len(root_path) :])
        await super().__call__(scope, receive, send)


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No management request needs more; whatever one request stores stays far below DynamoDB's
# 400 KB item limit.
MAX_REQUEST_BYTES = 256 * 1024

HTTP_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
}

DESCRIPTION = """\
Management API of mlops-bot (Healing Guard): the routes of the Management API and of the Healing
Guard API. Authenticate with `Authorization: Bearer <api-key>` (keys from `mlops-bot
generate-api-key`) or `Bearer <access token>` from `POST /auth/login`. Errors use one format:
`{"error": {code, message, details, request_id, timestamp}}`.
"""


# A caller's `X-Request-ID` is echoed in a response header, the error body and the logs: only a
# short token is taken (a 9 KB one was echoed whole, control characters included).
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _request_id(request: Request) -> str:
    known = getattr(request.state, "request_id", None)
    if known:
        return str(known)
    event = request.scope.get("aws.event") or {}
    context_id = (event.get("requestContext") or {}).get("requestId")
    given = request.headers.get("x-request-id") or ""
    return str((given if _REQUEST_ID.fullmatch(given) else None) or context_id or uuid.uuid4())


def _error(
    request: Request, status: int, code: str, message: str, details: str | None = None, **extra: Any
) -> JSONResponse:
    body = error_body(code, message, details, _request_id(request), **extra)
    body["error"]["details"] = error_details(request, details)  # Healing Guard routes: an object
    return JSONResponse(body, status_code=status)


# Routes whose query string is not the API's: GitHub's redirect to the App's setup URL carries what
# GitHub adds (`setup_action`, and `code` when the App asks for user authorization); the dashboard
# page's belongs to the page's script (`?api_key=`, `?token=`), which the server never reads.
OPEN_QUERY_PATHS = frozenset({"/api/v1/installations/setup", "/dashboard", "/dashboard/{asset}"})


def _declared_query_names(dependant: Any) -> frozenset[str]:
    """The query parameter names a route (and every dependency it uses) declares."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(str(field.alias) for field in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


def refuse_unknown_query_parameters(request: Request) -> None:
    """An unknown query parameter is a 422, like an unknown body key: a `sort`, `since` or `limit` a
    route does not have would otherwise be silently ignored, and its caller trust a filter that never ran.
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params or getattr(route, "path", "") in OPEN_QUERY_PATHS:
        return
    declared: frozenset[str] | None = getattr(route, "declared_query_names", None)
    if declared is None:  # kept on the route itself: it lives exactly as long as the app that has it
        declared = _declared_query_names(dependant)
        setattr(route, "declared_query_names", declared)  # noqa: B010 - not an attribute APIRoute declares
    unknown = sorted(set(request.query_params.keys()) - declared)
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise ValidationFailed(
            "Request validation failed",
            f"query: unknown parameter(s) {', '.join(unknown)}; this route accepts: {accepted}",
            fields=[
                {"loc": f"query.{name}", "msg": "unknown query parameter", "type": "extra_forbidden"}
                for name in unknown
            ],
        )


def _is_json(request: Request) -> bool:
    """FastAPI parses a body as JSON when it says so, or says nothing at all."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not content_type or content_type == "application/json" or content_type.endswith("+json")


async def _refuse_unstorable_body(request: Request) -> JSONResponse | None:
    """The edge's check of every request body, before any route or model sees it.

    Too large → 413. JSON that Python would take but no store can hold (`NaN`, `Infinity`,
    `-Infinity`, `1e400`, integers beyond 64 bits) → 422; nesting deep enough to exhaust the parser
    → 400. Everything else, valid or not, goes on to FastAPI, which answers invalid JSON with 400.
    """
    if request.method not in BODY_METHODS:
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        return _too_large(request, int(declared))
    body = await request.body()
    if len(body) > MAX_REQUEST_BYTES:
        return _too_large(request, len(body))
    if not body or not _is_json(request):
        return None
    try:
        strict_json.loads(body)
    except strict_json.NotStorableNumber as exc:
        return _error(request, 422, "VALIDATION_FAILED", "Request validation failed", f"body: {exc}")
    except strict_json.NestingTooDeep as exc:
        return _error(request, 400, "INVALID_REQUEST", "The request is invalid", str(exc))
    except ValueError:  # not JSON (or not UTF-8): FastAPI gives its usual 400
        return None
    return None


def _too_large(request: Request, size: int) -> JSONResponse:
    return _error(
        request,
        413,
        "PAYLOAD_TOO_LARGE",
        "Payload too large",
        f"The body is {size} bytes; at most {MAX_REQUEST_BYTES} are accepted",
    )


def _forget_cached() -> None:
    """A new app (a new cold start, or a new test) builds its clients and reads its settings again.

    Both caches live in modules the first request that needs them loads; one not loaded yet holds
    nothing to forget (and is not loaded for this).
    """
    dependencies = sys.modules.get("mlops_bot.api.dependencies")
    if dependencies is not None:
        dependencies.forget_cached()
    settings = sys.modules.get("mlops_bot.management.platform.settings")
    if settings is not None:
        settings.reset_management_settings()


def create_app() -> ManagementApp:
    _forget_cached()
    app = ManagementApp(
        ROUTER_GROUPS,
        title="mlops-bot management API (Healing Guard)",
        version=__version__,
        description=DESCRIPTION,
        responses=ERROR_RESPONSES,
        dependencies=[Depends(refuse_unknown_query_parameters)],
    )
    app.state.cache = TimedCache(30.0)

    @app.middleware("http")
    async def envelope(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = _request_id(request)
        started = time.perf_counter()
        try:
            refused = await _refuse_unstorable_body(request)
            response = refused if refused is not None else await call_next(request)
        except Exception:
            logger.exception(
                "unhandled error",
                extra={"request_id": request.state.request_id, "path": request.url.path, "method": request.method},
            )
            response = _error(request, 500, "INTERNAL_ERROR", "Internal server error")
        decision = getattr(request.state, "rate_limit", None)
        if decision is not None:
            for name, value in decision.headers().items():
                response.headers[name] = value
        response.headers["X-Request-ID"] = request.state.request_id
        if getattr(request.state, "principal", None) is not None:  # set by the auth dependency
            from mlops_bot.api.dependencies import observe_request

            observe_request(request, response.status_code, time.perf_counter() - started)  # /metrics counters
        return response

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        response = _error(request, exc.status_code, exc.code, exc.message, exc.details, **exc.extra)
        if "retry_after" in exc.extra:
            response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"loc": ".".join(str(p) for p in e.get("loc", [])), "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": "", "msg": "invalid"}
        if any(p["type"] == "json_invalid" for p in problems):
            return _error(request, 400, "INVALID_REQUEST", "The request is invalid", "The body is not valid JSON")
        return _error(
            request,
            422,
            "VALIDATION_FAILED",
            "Request validation failed",
            f"{first['loc']}: {first['msg']}",
            fields=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR")
        return _error(request, exc.status_code, code, str(exc.detail))

    app.seal()
    return app
