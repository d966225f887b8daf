"""Domain errors and the spec's error body.

Services raise these; each edge (the lean webhook handler, the FastAPI app) maps them to the
spec's error format once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any


class DomainError(Exception):
    """A failure the caller can act on, with its HTTP status and the spec's error code."""

    status_code = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.extra = extra
        self.headers: dict[str, str] = {}  # response headers the answer carries (e.g. X-RateLimit-*)


class Invalid(DomainError):
    status_code = 400
    code = "INVALID_REQUEST"


class Unauthorized(DomainError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status_code = 409
    code = "CONFLICT"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class ValidationFailed(DomainError):
    status_code = 422
    code = "VALIDATION_FAILED"


class RateLimited(DomainError):
    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int, details: str | None = None) -> None:
        super().__init__(message, details or f"Try again in {retry_after} seconds", retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_body(
    code: str,
    message: str,
    details: str | None = None,
    request_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The spec's error format: `{"error": {code, message, details, request_id, timestamp}}`."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "details": details,
        "request_id": request_id or new_request_id(),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    error.update(extra)
    return {"error": error}


def error_response(exc: DomainError, request_id: str | None = None) -> dict[str, Any]:
    """An API Gateway v2 proxy response carrying `exc` in the spec's error format."""
    headers = {"content-type": "application/json"}
    if isinstance(exc, RateLimited):
        headers["retry-after"] = str(exc.retry_after)
    headers.update(exc.headers)
    body = error_body(exc.code, exc.message, exc.details, request_id, **exc.extra)
    return {"statusCode": exc.status_code, "headers": headers, "body": json.dumps(body)}
