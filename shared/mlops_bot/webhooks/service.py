"""Admitting one GitHub delivery: verify, parse, route to a tenant, record once, queue.

The order matters. Size and signature come first so that nothing unauthenticated costs a
DynamoDB call; the delivery record is written with a condition before the message is sent, and is
marked `queued` only after SQS accepted it, so a redelivery after a failed send re-sends instead of
being dropped as a duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.errors import Invalid, PayloadTooLarge, RateLimited, Unauthorized, ValidationFailed
from mlops_bot.management.rate_limits import RateDecision
from mlops_bot.storage import keys
from mlops_bot.stores.installations import DynamoInstallationStore
from mlops_bot.tenancy import installations
from mlops_bot.tenancy.service import resolve_tenant
from mlops_bot.webhooks import signature
from mlops_bot.webhooks.models import (
    HANDLED_EVENTS,
    REQUIRED_PART,
    RepositoryEvent,
    WebhookAcceptance,
    WebhookPayload,
)


@dataclass(frozen=True)
class WebhookRequest:
    """A delivery as it reached us: lower-cased headers and the raw body bytes."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Admission:
    status_code: int
    acceptance: WebhookAcceptance
    headers: dict[str, str] = field(default_factory=dict)  # X-RateLimit-* once the repository is known


@dataclass
class WebhookDependencies:
    settings: Settings
    table: StateTable
    events_queue: Queue
    webhook_secret: Callable[[], str]


def _parse(event_name: str, body: bytes) -> WebhookPayload:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("Invalid payload", f"Body is not JSON: {exc}") from exc
    except RecursionError as exc:  # hostile nesting: refuse it instead of failing the function
        raise Invalid("Invalid payload", "JSON nesting is too deep") from exc
    if not isinstance(document, dict):
        raise Invalid("Invalid payload", "Body must be a JSON object")
    try:
        payload = WebhookPayload.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid("Invalid payload", f"{where}: {first['msg']}") from exc
    part = REQUIRED_PART.get(event_name)
    if part and getattr(payload, part) is None:
        raise Invalid("Invalid payload", f"A '{event_name}' event must carry '{part}'")
    if event_name not in {"ping", "installation", "installation_repositories"} and payload.repository is None:
        raise Invalid("Invalid payload", f"A '{event_name}' event must carry 'repository'")
    return payload


def _check_rate(deps: WebhookDependencies, tenant_id: str, repository: str | None, count: bool = True) -> RateDecision:
    """Count a new delivery in its repository's window (or only read the count); 429 above the limit."""
    window_seconds = deps.settings.webhook_rate_window_seconds
    now = epoch_seconds(utc_now())
    window = now // window_seconds
    scope = f"webhooks:{(repository or 'installation').lower()}"
    key = keys.rate_window_key(tenant_id, scope, window)
    seen = (
        deps.table.increment(key, "count", expires_at=(window + 2) * window_seconds)
        if count
        else int((deps.table.get(key, consistent=False) or {}).get("count", 0))
    )
    decision = RateDecision(
        category="webhooks",
        limit=deps.settings.webhook_rate_limit,
        count=seen,
        reset=(window + 1) * window_seconds,
        window_seconds=window_seconds,
        retry_after=max(1, (window + 1) * window_seconds - now),
    )
    if count and decision.exceeded:
        limited = RateLimited("Rate limit exceeded", retry_after=decision.retry_after)
        limited.headers.update(decision.headers())
        raise limited
    return decision


def _queued_event(
    payload: WebhookPayload, event_name: str, tenant_id: str, delivery_id: str, execution_id: str, at: str
) -> RepositoryEvent:
    return RepositoryEvent(
        tenant_id=tenant_id,
        delivery_id=delivery_id,
        execution_id=execution_id,
        event=event_name,
        action=payload.action,
        received_at=at,
        repository=payload.repository.full_name if payload.repository else None,
        installation_id=payload.installation.id if payload.installation else None,
        sender=payload.sender.login if payload.sender else None,
        workflow_run=payload.workflow_run,
        workflow_job=payload.workflow_job,
        check_run=payload.check_run,
        pull_request=payload.pull_request,
        issue=payload.issue,
        deployment=payload.deployment,
        deployment_status=payload.deployment_status,
        ref=payload.ref,
        head_commit=payload.after,
    )


def _enqueue(deps: WebhookDependencies, event: RepositoryEvent) -> None:
    deps.events_queue.send(
        event.model_dump(mode="json", exclude_none=True),
        attributes={"tenant_id": event.tenant_id, "event": event.event},
    )
    deps.table.set_fields(
        keys.delivery_key(event.tenant_id, event.delivery_id),
        {"status": "queued", "queued_at": iso(utc_now())},
    )


def admit(request: WebhookRequest, deps: WebhookDependencies) -> Admission:
    """Decide what to do with one delivery; raises a DomainError for every refusal."""
    if len(request.body) > deps.settings.max_webhook_bytes:
        raise PayloadTooLarge(
            "Payload too large", f"{len(request.body)} bytes exceeds {deps.settings.max_webhook_bytes}"
        )
    if not signature.verify(deps.webhook_secret(), request.body, request.headers.get("x-hub-signature-256")):
        raise Unauthorized("Invalid webhook signature", "X-Hub-Signature-256 is missing or does not match")
    event_name = request.headers.get("x-github-event", "").strip()
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    if not event_name or not delivery_id:
        missing = [h for h, v in (("X-GitHub-Event", event_name), ("X-GitHub-Delivery", delivery_id)) if not v]
        raise Invalid("Missing required headers", f"Missing header(s): {', '.join(missing)}")
    if len(delivery_id) > 128:
        raise Invalid("Invalid delivery id", "X-GitHub-Delivery is longer than 128 characters")
    if event_name not in HANDLED_EVENTS:
        raise ValidationFailed("Unsupported event type", f"The bot does not handle '{event_name}' events")
    payload = _parse(event_name, request.body)
    if event_name == "ping":
        return Admission(200, WebhookAcceptance(status="pong", execution_id=None, message=payload.zen or "pong"))
    if event_name in installations.INSTALLATION_EVENTS:  # recorded here, never queued (tenancy.installations)
        store = DynamoInstallationStore(deps.table)
        return Admission(202, installations.record_event(store, deps.table, event_name, json.loads(request.body)))

    repository = payload.repository.full_name if payload.repository else None
    installation_id = payload.installation.id if payload.installation else None
    store = DynamoInstallationStore(deps.table)
    refused = installations.refusal(store, installation_id, repository, deps.settings.auto_enroll)
    if refused is not None:  # unclaimed, suspended or deleted installation; a repository its tenant removed
        return Admission(202, refused)
    tenant_id = resolve_tenant(deps.table, installation_id, repository, deps.settings.auto_enroll)
    if tenant_id is None:
        return Admission(
            202,
            WebhookAcceptance(
                status="ignored",
                execution_id=None,
                message=f"Repository {repository} is not enrolled; enable auto-enrolment or register it",
            ),
        )

    delivery_key = keys.delivery_key(tenant_id, delivery_id)
    known = deps.table.get(delivery_key)
    if known is None:
        rate = _check_rate(deps, tenant_id, repository).headers()
        now = utc_now()
        at = iso(now)
        execution_id = str(uuid.uuid4())
        record: dict[str, Any] = {
            **delivery_key,
            "entity": "delivery",
            "tenant_id": tenant_id,
            "delivery_id": delivery_id,
            "event": event_name,
            "action": payload.action,
            "repository": repository,
            "execution_id": execution_id,
            "status": "received",
            "received_at": at,
            "expires_at": epoch_seconds(now + timedelta(days=deps.settings.delivery_ttl_days)),
        }
        if deps.table.put_new(record):
            _enqueue(deps, _queued_event(payload, event_name, tenant_id, delivery_id, execution_id, at))
            return Admission(
                202,
                WebhookAcceptance(
                    status="accepted", execution_id=execution_id, message="Webhook processed successfully"
                ),
                rate,
            )
        known = deps.table.get(delivery_key)
    assert known is not None  # the conditional write failed because the record exists
    rate = _check_rate(deps, tenant_id, repository, count=False).headers()
    if known.get("status") == "received":
        # The first attempt recorded the delivery but never reached the queue: finish its work.
        event = _queued_event(
            payload, event_name, tenant_id, delivery_id, str(known["execution_id"]), str(known["received_at"])
        )
        _enqueue(deps, event)
        return Admission(
            202,
            WebhookAcceptance(
                status="accepted", execution_id=event.execution_id, message="Webhook processed successfully"
            ),
            rate,
        )
    return Admission(
        200,
        WebhookAcceptance(
            status="duplicate",
            execution_id=str(known["execution_id"]),
            message="Delivery already accepted; not processed again",
        ),
        rate,
    )
