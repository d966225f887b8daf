"""API Gateway v2 (HTTP API) events in, proxy responses out, for the lean webhook function."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mlops_bot.errors import DomainError, Invalid, error_response
from mlops_bot.webhooks.service import WebhookDependencies, WebhookRequest, admit


def request_from_event(event: dict[str, Any]) -> WebhookRequest:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("Invalid payload", "Body is not valid base64") from exc
    else:
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    return WebhookRequest(headers=headers, body=body)


def respond(event: dict[str, Any], deps: WebhookDependencies, request_id: str) -> dict[str, Any]:
    """Admit the delivery and shape the answer; every refusal uses the spec's error body."""
    try:
        admission = admit(request_from_event(event), deps)
    except DomainError as exc:
        return error_response(exc, request_id)
    return {
        "statusCode": admission.status_code,
        "headers": {"content-type": "application/json", "x-request-id": request_id, **admission.headers},
        "body": json.dumps(admission.acceptance.model_dump(mode="json")),
    }
