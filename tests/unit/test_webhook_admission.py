"""Admission of one GitHub delivery (`admit`) on the in-memory stores: the rules, without AWS."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.errors import Invalid, RateLimited, ValidationFailed
from mlops_bot.stores.base import MemoryTable
from mlops_bot.stores.deliveries import Delivery, DeliveryStatus, InMemoryDeliveryStore
from mlops_bot.stores.repositories import InMemoryRepositoryStore
from mlops_bot.webhooks.service import CLAIM_LEASE_SECONDS, WebhookDependencies, WebhookRequest, admit
from mlops_bot.webhooks.signature import sign

SECRET = "unit-secret"
FAILED_RUN: dict[str, Any] = {
    "action": "completed",
    "workflow_run": {"id": 42, "name": "CI", "conclusion": "failure", "status": "completed", "head_sha": "abc"},
    "repository": {"full_name": "acme/model"},
    "installation": {"id": 7},
}


class RecordingQueue:
    def __init__(self, failing: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failing = failing
        self._lock = threading.Lock()

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        if self.failing:
            raise RuntimeError("SQS unavailable")
        with self._lock:
            self.sent.append(body)
        return str(len(self.sent))


def deps(rate_limit: int = 100, auto_enroll: bool = True, queue: RecordingQueue | None = None) -> WebhookDependencies:
    settings = Settings(
        MLOPS_BOT_WEBHOOK_RATE_LIMIT=str(rate_limit),
        MLOPS_BOT_AUTO_ENROLL="true" if auto_enroll else "false",
    )
    return WebhookDependencies(
        settings=settings,
        deliveries=InMemoryDeliveryStore(),
        repositories=InMemoryRepositoryStore(),
        events_queue=queue or RecordingQueue(),
        webhook_secret=lambda: SECRET,
    )


def delivery(payload: Any = FAILED_RUN, delivery_id: str | None = None, raw: bytes | None = None) -> WebhookRequest:
    body = raw if raw is not None else json.dumps(payload).encode()
    return WebhookRequest(
        headers={
            "x-github-event": "workflow_run",
            "x-github-delivery": delivery_id or str(uuid.uuid4()),
            "x-hub-signature-256": sign(SECRET, body),
        },
        body=body,
    )


def queue_of(dependencies: WebhookDependencies) -> RecordingQueue:
    assert isinstance(dependencies.events_queue, RecordingQueue)
    return dependencies.events_queue


def test_a_new_delivery_is_accepted_queued_once_and_marked_queued() -> None:
    d = deps()
    request = delivery()
    admission = admit(request, d)
    assert admission.status_code == 202
    [sent] = queue_of(d).sent
    assert sent["execution_id"] == admission.acceptance.execution_id
    stored = d.deliveries.get("default", request.headers["x-github-delivery"])
    assert stored is not None and stored.status is DeliveryStatus.QUEUED


def test_copies_of_one_delivery_answer_200_with_the_first_execution_id() -> None:
    d = deps()
    request = delivery()
    first = admit(request, d)
    copies = [admit(request, d) for _ in range(3)]
    assert {c.status_code for c in copies} == {200}
    assert {c.acceptance.execution_id for c in copies} == {first.acceptance.execution_id}
    assert len(queue_of(d).sent) == 1


def test_concurrent_copies_spend_the_rate_budget_once() -> None:
    d = deps(rate_limit=2)
    request = delivery()
    with ThreadPoolExecutor(max_workers=5) as pool:
        admissions = list(pool.map(lambda _: admit(request, d), range(5)))
    assert sorted(a.status_code for a in admissions) == [200, 200, 200, 200, 202]
    assert len({a.acceptance.execution_id for a in admissions}) == 1
    # One of two slots spent: the next real delivery is still admitted, the one after is not.
    assert admit(delivery(), d).status_code == 202
    with pytest.raises(RateLimited):
        admit(delivery(), d)


def test_a_rate_limited_delivery_is_released_so_its_redelivery_is_admitted_later() -> None:
    d = deps(rate_limit=1)
    admit(delivery(), d)
    refused = delivery()
    with pytest.raises(RateLimited):
        admit(refused, d)
    assert d.deliveries.get("default", refused.headers["x-github-delivery"]) is None
    assert isinstance(d.deliveries, InMemoryDeliveryStore)
    d.deliveries.admitted = MemoryTable()  # the next rate window
    assert admit(refused, d).status_code == 202


def test_a_queue_outage_releases_the_claim_and_the_redelivery_is_queued() -> None:
    d = deps(queue=RecordingQueue(failing=True))
    request = delivery()
    with pytest.raises(RuntimeError):
        admit(request, d)
    queue_of(d).failing = False
    again = admit(request, d)
    assert again.status_code == 202
    assert [m["execution_id"] for m in queue_of(d).sent] == [again.acceptance.execution_id]


def test_a_claim_whose_claimer_died_is_taken_over_with_the_same_execution_id() -> None:
    d = deps()
    request = delivery()
    long_ago = epoch_seconds(utc_now()) - CLAIM_LEASE_SECONDS - 5
    d.deliveries.claim(
        Delivery(
            tenant_id="default",
            delivery_id=request.headers["x-github-delivery"],
            event="workflow_run",
            repository="acme/model",
            execution_id="first-execution",
            received_at=iso(utc_now()),
            claimed_at=long_ago,
            expires_at=long_ago + 3600,
        )
    )
    admission = admit(request, d)
    assert admission.status_code == 202
    assert admission.acceptance.execution_id == "first-execution"
    assert [m["execution_id"] for m in queue_of(d).sent] == ["first-execution"]


def test_a_claim_in_flight_is_a_duplicate_not_a_second_send() -> None:
    d = deps()
    request = delivery()
    now = epoch_seconds(utc_now())
    d.deliveries.claim(
        Delivery(
            tenant_id="default",
            delivery_id=request.headers["x-github-delivery"],
            event="workflow_run",
            execution_id="in-flight",
            received_at=iso(utc_now()),
            claimed_at=now,
            expires_at=now + 3600,
        )
    )
    admission = admit(request, d)
    assert (admission.status_code, admission.acceptance.execution_id) == (200, "in-flight")
    assert queue_of(d).sent == []


@pytest.mark.parametrize(
    "full_name",
    [
        "../../x",
        "acme/..",
        "acme/.",
        "/model",
        "acme/",
        "",
        "acme/mo#del",
        "acme/mo\x00del",
        "ac\nme/model",
        "-acme/model",
        "a" * 40 + "/model",
        "acme/" + "m" * 101,
        "acme/model/extra",
        "acme model/x",
    ],
)
def test_a_repository_name_github_would_refuse_is_400_and_never_enrolled(full_name: str) -> None:
    d = deps()
    payload = {**FAILED_RUN, "repository": {"full_name": full_name}}
    with pytest.raises(Invalid):
        admit(delivery(payload), d)
    assert isinstance(d.repositories, InMemoryRepositoryStore)
    assert d.repositories.repositories.values() == [] and d.repositories.repository_routes.values() == []
    assert queue_of(d).sent == []


@pytest.mark.parametrize("full_name", ["acme/model", "Acme-Org/my.repo_v2", "a/b", "x" * 39 + "/" + "y" * 100])
def test_names_github_allows_are_admitted(full_name: str) -> None:
    d = deps()
    assert admit(delivery({**FAILED_RUN, "repository": {"full_name": full_name}}), d).status_code == 202


@pytest.mark.parametrize(
    "raw",
    [
        b'{"installation": {"id": 18446744073709551616}}',
        b'{"installation": {"id": 99999999999999999999999999999999999999999}}',
        b'{"workflow_run": {"id": 9223372036854775808}}',
        b'{"workflow_run": {"id": -1}}',
    ],
)
def test_ids_beyond_64_bits_are_400_at_ingress(raw: bytes) -> None:
    d = deps()
    document = json.loads(raw)
    payload = {**FAILED_RUN, **{k: {**FAILED_RUN.get(k, {}), **v} for k, v in document.items()}}
    text = json.dumps(payload).encode()
    with pytest.raises(Invalid):
        admit(delivery(raw=text), d)
    assert queue_of(d).sent == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_a_delivery_are_refused(literal: str) -> None:
    d = deps()
    text = json.dumps(FAILED_RUN).replace('"id": 42', f'"id": 42, "score": {literal}').encode()
    with pytest.raises(ValidationFailed):
        admit(delivery(raw=text), d)
    assert queue_of(d).sent == []


def test_the_longest_action_the_payload_model_takes_is_stored_not_a_500() -> None:
    d = deps()
    assert admit(delivery({**FAILED_RUN, "action": "a" * 1024}), d).status_code == 202
    with pytest.raises(Invalid):
        admit(delivery({**FAILED_RUN, "action": "a" * 1025}), d)


def test_installation_events_are_recorded_only_where_installations_are_recorded() -> None:
    payload = {
        "action": "created",
        "installation": {"id": 9, "account": {"login": "acme", "type": "Organization"}},
        "repositories": [{"full_name": "acme/model"}],
    }
    body = json.dumps(payload).encode()

    def installation_event() -> WebhookRequest:
        headers = {"x-github-event": "installation", "x-github-delivery": str(uuid.uuid4())}
        return WebhookRequest(headers={**headers, "x-hub-signature-256": sign(SECRET, body)}, body=body)

    with pytest.raises(ValidationFailed):
        admit(installation_event(), deps())
    recording = deps()
    recording.record_installations = True
    admission = admit(installation_event(), recording)
    assert admission.status_code == 202 and "Installation 9 (acme) recorded: active" in admission.acceptance.message
    installation = recording.installations.get(9)
    assert installation is not None and installation.repositories == ["acme/model"]
    assert queue_of(recording).sent == []
