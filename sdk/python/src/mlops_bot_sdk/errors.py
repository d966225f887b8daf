"""Errors as exceptions: one class per spec error code, each carrying code, message and request id.

Both APIs answer errors as `{"error": {"code", "message", "details", "request_id", "timestamp"}}`;
the class is chosen by `code` (so `except NotFound` works), falling back to the HTTP status for
codes this SDK does not know (Healing Guard's `PIPELINE_NOT_FOUND` is a `NotFound` whose `code`
stays `PIPELINE_NOT_FOUND`).
"""

from __future__ import annotations

from typing import Any

import httpx


class MLOpsBotError(Exception):
    """Any failure of a call; `status_code` is None when no HTTP answer came back."""

    code = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        details: Any = None,
        timestamp: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status_code = status_code
        self.request_id = request_id
        self.details = details
        self.timestamp = timestamp
        self.body = body

    def __str__(self) -> str:
        where = f" (HTTP {self.status_code}, request {self.request_id})" if self.status_code else ""
        return f"{self.code}: {self.message}{where}"


HealingGuardError = MLOpsBotError


class InvalidRequest(MLOpsBotError):
    code = "INVALID_REQUEST"


class Unauthorized(MLOpsBotError):
    code = "UNAUTHORIZED"


class Forbidden(MLOpsBotError):
    code = "FORBIDDEN"


class NotFound(MLOpsBotError):
    code = "NOT_FOUND"


class Conflict(MLOpsBotError):
    code = "CONFLICT"


class PayloadTooLarge(MLOpsBotError):
    code = "PAYLOAD_TOO_LARGE"


class ValidationFailed(MLOpsBotError):
    code = "VALIDATION_FAILED"


class RateLimited(MLOpsBotError):
    """The call was refused for now; `retry_after` (seconds) says when to come back, if the server said."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalError(MLOpsBotError):
    code = "INTERNAL_ERROR"


class ServiceUnavailable(MLOpsBotError):
    code = "SERVICE_UNAVAILABLE"


class TransportError(MLOpsBotError):
    """No HTTP answer: the connection failed or timed out."""

    code = "TRANSPORT_ERROR"


class DependencyMissing(MLOpsBotError):
    """An optional package a feature needs is not installed (the dashboard needs `websockets`)."""

    code = "DEPENDENCY_MISSING"


BY_CODE: dict[str, type[MLOpsBotError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        ValidationFailed,
        RateLimited,
        InternalError,
        ServiceUnavailable,
    )
}
BY_STATUS: dict[int, type[MLOpsBotError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
    500: InternalError,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}
REQUEST_ID_HEADERS = ("x-request-id", "apigw-requestid", "x-amzn-requestid")


def error_from_response(response: httpx.Response, retry_after: float | None = None) -> MLOpsBotError:
    """The exception for an error answer, whatever its body (spec JSON, a gateway's HTML, nothing)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    request_id = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None)
    fallback = body if isinstance(body, str) and body else response.reason_phrase
    return error_from_body(body, response.status_code, fallback, request_id, retry_after)


def error_from_body(
    body: Any,
    status_code: int | None = None,
    fallback_message: str = "request failed",
    request_id: str | None = None,
    retry_after: float | None = None,
) -> MLOpsBotError:
    """The exception for a spec error body (`{"error": {...}}`), from HTTP or from a WebSocket frame."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or "") or None
    cls = BY_CODE.get(code or "") or (BY_STATUS.get(status_code) if status_code else None)
    if cls is None:
        cls = InternalError if status_code and status_code >= 500 else MLOpsBotError
    message = str(error.get("message") or fallback_message)
    found_id = error.get("request_id") or request_id
    common: dict[str, Any] = {
        "code": code,
        "status_code": status_code,
        "request_id": str(found_id) if found_id else None,
        "details": error.get("details"),
        "timestamp": error.get("timestamp"),
        "body": body,
    }
    if cls is RateLimited:
        hinted = retry_after if retry_after is not None else _seconds(error.get("retry_after"))
        return RateLimited(message, retry_after=hinted, **common)
    return cls(message, **common)


def _seconds(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
