"""Wire models shared by every router: the spec's error body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: str | None = None
    request_id: str
    timestamp: str
    retry_after: int | None = None
    fields: list[dict[str, Any]] | None = None


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
