"""Wire models shared by every router: the spec's error body."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

MANAGEMENT_PREFIXES = ("/api/v1/", "/health", "/metrics", "/webhooks/", "/dashboard", "/docs", "/openapi")


class ResourceDetails(BaseModel):
    """Healing Guard's `details`: which resource the error is about, and why."""

    resource_type: str | None = None
    resource_id: str | None = None
    reason: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: str | ResourceDetails | None = None
    request_id: str
    timestamp: str
    retry_after: int | None = None
    fields: list[dict[str, Any]] | None = None


def _singular(segment: str) -> str:
    return segment[:-1] if segment.endswith("s") and not segment.endswith("ss") else segment


def is_healing_guard(path: str) -> bool:
    """Routes of the Healing Guard document (`/api/...` but not `/api/v1/...`, `/auth/...`)."""
    return (path.startswith("/api/") or path.startswith("/auth/")) and not path.startswith(MANAGEMENT_PREFIXES)


def error_details(request: Request, details: str | None) -> str | dict[str, Any] | None:
    """`details` as the caller's document has it: a string (Management API) or an object (Healing Guard).

    The object names the resource from the route: the first path parameter (`pipeline_id` →
    `pipeline`) and its value, else the collection the path names; `reason` keeps the text.
    """
    path = request.url.path
    if not is_healing_guard(path):
        return details
    params = dict(request.path_params)
    if params:
        name, value = next(iter(params.items()))
        resource_type, resource_id = re.sub(r"_(id|name)$", "", name), str(value)
    else:
        segments = [s for s in path.split("/") if s]
        resource_type, resource_id = (_singular(segments[1]) if len(segments) > 1 else segments[0]), None
    return ResourceDetails(resource_type=resource_type, resource_id=resource_id, reason=details).model_dump()


class ErrorResponse(BaseModel):
    """`{"error": {code, message, details, request_id, timestamp}}` for every 4xx and 5xx."""

    error: ErrorDetail


class Message(BaseModel):
    message: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        400: "Request format is invalid (INVALID_REQUEST)",
        401: "Authentication required (UNAUTHORIZED)",
        403: "Insufficient permissions or quota exceeded (FORBIDDEN, QUOTA_EXCEEDED)",
        404: "Resource not found, or owned by another tenant (NOT_FOUND)",
        422: "Request validation failed (VALIDATION_FAILED)",
        429: "Rate limit exceeded (RATE_LIMITED, with retry_after)",
        500: "Internal server error (INTERNAL_ERROR)",
    }.items()
}
