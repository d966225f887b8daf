"""The FastAPI application and the one place domain errors become HTTP answers."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlops_bot import __version__
from mlops_bot.api import health, incidents, repositories
from mlops_bot.errors import DomainError, error_body

HTTP_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
}


def _request_id(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    context_id = (event.get("requestContext") or {}).get("requestId")
    return str(request.headers.get("x-request-id") or context_id or uuid.uuid4())


def create_app() -> FastAPI:
    app = FastAPI(title="mlops-bot management API (Healing Guard)", version=__version__)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"retry-after": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details, _request_id(request), **exc.extra),
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", []))
        return JSONResponse(
            error_body(
                "VALIDATION_FAILED",
                "Request validation failed",
                f"{where}: {first.get('msg')}",
                _request_id(request),
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR")
        return JSONResponse(error_body(code, str(exc.detail), None, _request_id(request)), status_code=exc.status_code)

    app.include_router(health.router)
    app.include_router(repositories.router)
    app.include_router(incidents.router)
    return app
