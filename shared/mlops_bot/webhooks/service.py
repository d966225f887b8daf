"""Admitting one GitHub delivery: verify, parse, route to a tenant, claim once, count, queue.

The order matters. Size and signature come first so that nothing unauthenticated costs a
DynamoDB call. Then the delivery is claimed with a conditional write *before* the rate limit: of
any number of copies of one delivery (GitHub's retries, a redelivery, concurrent copies) exactly
one spends the repository's rate budget and reaches the queue; the others answer 200 with its
`execution_id`. The claim is marked `queued` only after SQS accepted the message; a claimer that
can not finish (rate limited, queue down) releases its claim, and one that died mid-way is taken
over once its lease has run out, so a redelivery always re-sends instead of being dropped.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.errors import Invalid, PayloadTooLarge, RateLimited, Unauthorized, ValidationFailed
from mlops_bot.stores.deliveries import MAX_DELIVERY_ID, Delivery, DeliveryStatus, DeliveryStore, is_delivery_id
from mlops_bot.stores.installations import InMemoryInstallationStore, InstallationStore
from mlops_bot.stores.rate_windows import RateDecision
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.strict_json import IntegerOutOfRange, NestingTooDeep, NonFiniteNumber
from mlops_bot.strict_json import loads as strict_loads
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

# Longer than the ingress function's timeout (10 s): a claim older than this has no live claimer.
CLAIM_LEASE_SECONDS = 30
# SQS refuses messages above 256 KiB; a queued event is kept well under it.
MAX_QUEUED_EVENT_BYTES = 200 * 1024


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


class EventQueue(Protocol):
    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str: ...


@dataclass
class WebhookDependencies:
    settings: Settings
    deliveries: DeliveryStore
    repositories: RepositoryStore
    events_queue: EventQueue
    webhook_secret: Callable[[], str]
    # GitHub App installations (tenancy.installations): their events enrol and unenrol repositories.
    installations: InstallationStore = field(default_factory=InMemoryInstallationStore)
    record_installations: bool = False  # installation events are recorded (the deployed ingress), else refused


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _json_document(request: WebhookRequest) -> bytes:
    """The delivery's JSON: the body, or its one `payload` field when GitHub is set to send forms.

    A GitHub webhook's content type is a setting (`application/json` or
    `application/x-www-form-urlencoded`); the signature covers the raw body either way.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        return request.body
    try:
        fields = urllib.parse.parse_qs(
            request.body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=100
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("Invalid payload", "A form-encoded body must carry one JSON `payload` field") from exc
    payloads = fields.get("payload", [])
    if len(payloads) != 1 or not payloads[0]:
        raise Invalid("Invalid payload", "A form-encoded body must carry one JSON `payload` field")
    return payloads[0].encode()


def _parse(event_name: str, body: bytes) -> tuple[dict[str, Any], WebhookPayload]:
    """The delivery's JSON object (parsed once) and its validated payload."""
    try:
        document = strict_loads(body)
    except NonFiniteNumber as exc:
        raise ValidationFailed("Invalid payload", str(exc)) from exc
    except IntegerOutOfRange as exc:
        raise Invalid("Invalid payload", str(exc)) from exc
    except NestingTooDeep as exc:  # refused here: deeper, the queued message could not be read back
        raise Invalid("Invalid payload", str(exc)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("Invalid payload", f"Body is not JSON: {exc}") from exc
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
    return document, payload


def _check_rate(deps: WebhookDependencies, tenant_id: str, repository: str | None, *, count: bool) -> RateDecision:
    """Spend one admission of the repository's window (`count`), or only read it (a duplicate)."""
    window_seconds = deps.settings.webhook_rate_window_seconds
    now = epoch_seconds(utc_now())
    window = now // window_seconds
    scope = f"webhooks:{(repository or 'installation').lower()}"
    seen = (
        deps.deliveries.count_admission(tenant_id, scope, window, expires_at=(window + 2) * window_seconds)
        if count
        else deps.deliveries.admissions(tenant_id, scope, window)
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
    message = event.model_dump(mode="json", exclude_none=True)
    size = len(json.dumps(message, separators=(",", ":")).encode())
    if size > MAX_QUEUED_EVENT_BYTES:
        raise PayloadTooLarge(
            "Payload too large", f"the event to queue is {size} bytes; at most {MAX_QUEUED_EVENT_BYTES}"
        )
    deps.events_queue.send(message, attributes={"tenant_id": event.tenant_id, "event": event.event})


def _accepted(execution_id: str, headers: dict[str, str]) -> Admission:
    return Admission(
        202,
        WebhookAcceptance(status="accepted", execution_id=execution_id, message="Webhook processed successfully"),
        headers,
    )


def _duplicate(execution_id: str, headers: dict[str, str]) -> Admission:
    return Admission(
        200,
        WebhookAcceptance(
            status="duplicate", execution_id=execution_id, message="Delivery already accepted; not processed again"
        ),
        headers,
    )


def _finish(deps: WebhookDependencies, claim: Delivery, payload: WebhookPayload, *, count: bool) -> Admission:
    """Spend the rate budget (once per delivery) and queue; on any failure give the claim back."""
    try:
        rate = _check_rate(deps, claim.tenant_id, claim.repository, count=count).headers()
        _enqueue(
            deps,
            _queued_event(
                payload, claim.event, claim.tenant_id, claim.delivery_id, claim.execution_id, claim.received_at
            ),
        )
    except BaseException:
        deps.deliveries.release(claim)
        raise
    deps.deliveries.mark_queued(claim, iso(utc_now()))
    return _accepted(claim.execution_id, rate)


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
    if not is_delivery_id(delivery_id):
        raise Invalid(
            "Invalid delivery id",
            f"X-GitHub-Delivery must be a GUID (letters, digits, '-', '.', '_', ':'; "
            f"at most {MAX_DELIVERY_ID} characters)",
        )
    if event_name not in HANDLED_EVENTS:
        raise ValidationFailed("Unsupported event type", f"The bot does not handle '{event_name}' events")
    document, payload = _parse(event_name, _json_document(request))
    if event_name == "ping":
        return Admission(200, WebhookAcceptance(status="pong", execution_id=None, message=payload.zen or "pong"))
    if event_name in installations.INSTALLATION_EVENTS:  # recorded here, never queued (tenancy.installations)
        if not deps.record_installations:
            raise ValidationFailed("Unsupported event type", f"'{event_name}' events are not recorded here")
        verdict = installations.record_event(deps.installations, deps.repositories, event_name, document)
        return Admission(202, WebhookAcceptance(status=verdict.status, execution_id=None, message=verdict.message))

    repository = payload.repository.full_name if payload.repository else None
    installation_id = payload.installation.id if payload.installation else None
    refused = installations.refusal(deps.installations, installation_id, repository, deps.settings.auto_enroll)
    if refused is not None:  # unclaimed, suspended or deleted installation; a repository its tenant removed
        return Admission(202, WebhookAcceptance(status=refused.status, execution_id=None, message=refused.message))
    tenant_id = resolve_tenant(deps.repositories, installation_id, repository, deps.settings.auto_enroll)
    if tenant_id is None:
        return Admission(
            202,
            WebhookAcceptance(
                status="ignored",
                execution_id=None,
                message=f"Repository {repository} is not enrolled; enable auto-enrolment or register it",
            ),
        )

    now = utc_now()
    claim = Delivery(
        tenant_id=tenant_id,
        delivery_id=delivery_id,
        event=event_name,
        action=payload.action,
        repository=repository,
        execution_id=str(uuid.uuid4()),
        received_at=iso(now),
        claimed_at=epoch_seconds(now),
        expires_at=epoch_seconds(now + timedelta(days=deps.settings.delivery_ttl_days)),
    )
    known = deps.deliveries.claim(claim)
    if known is None:
        return _finish(deps, claim, payload, count=True)
    lease_over = claim.claimed_at - known.claimed_at >= CLAIM_LEASE_SECONDS
    # The first claimer died between the claim and the queue: finish its work, under its id.
    if known.status is DeliveryStatus.RECEIVED and lease_over and deps.deliveries.take_over(known, claim.claimed_at):
        return _finish(deps, known.model_copy(update={"claimed_at": claim.claimed_at}), payload, count=False)
    return _duplicate(known.execution_id, _check_rate(deps, tenant_id, repository, count=False).headers())
