"""A consumer crashing on one message: the rest of its batch is processed, the poison message ends
in the DLQ after maxReceiveCount, and `POST /api/cluster/rebalance` redrives it to be processed once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.detection import service as detection
from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.storage import keys
from tests.e2e.conftest import eventually
from tests.support.webhooks import post_webhook, workflow_run

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "mlb_fault-admin"


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        bootstrap_api_key=ADMIN,
        visibility_timeout=1,
        webhook_secret="fault-secret",
    )
    with LocalStack(config) as running:
        yield running


def post(stack: LocalStack, repository: str, run_id: int) -> None:
    assert post_webhook(stack, workflow_run(run_id, repository, "success")).status_code == 202


def events(stack: LocalStack, repository: str) -> list[dict[str, Any]]:
    return StateTable(stack.table_name()).query(keys.repository_events_pk("default", repository), "EVENT#")


def test_crash_mid_batch_then_dlq_then_redrive_processes_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = detection.record_event

    def crashing(deps: Any, event: Any) -> bool:
        if event.repository == "acme/crashy":
            raise RuntimeError("simulated consumer crash")
        return real(deps, event)

    monkeypatch.setattr(detection, "record_event", crashing)
    post(stack, "acme/steady", 1)
    post(stack, "acme/crashy", 2)
    post(stack, "acme/steady", 3)
    assert len(eventually(lambda: len(events(stack, "acme/steady")) == 2 and events(stack, "acme/steady"))) == 2
    sqs = stack.client("sqs")
    dlq = stack.queue_url("EventsDeadLetterQueue")

    def in_dlq() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    assert eventually(in_dlq, timeout=60) == 1
    assert events(stack, "acme/crashy") == []

    monkeypatch.setattr(detection, "record_event", real)  # the fix is deployed
    rebalance = httpx.post(f"{stack.url}/api/cluster/rebalance", headers={"authorization": f"Bearer {ADMIN}"})
    assert rebalance.status_code in (200, 202), rebalance.text
    assert len(eventually(lambda: events(stack, "acme/crashy"), timeout=60)) == 1
    assert eventually(lambda: in_dlq() == 0 or None, timeout=30) is True
    assert len(events(stack, "acme/crashy")) == 1  # processed once


def test_dynamodb_throttling_on_the_stack_answers_5xx_and_the_redelivery_is_processed_once(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from mlops_bot.adapters.dynamodb import StateTable as Table

    real_put_new = Table.put_new

    def throttled(self: Table, item: dict[str, Any]) -> bool:
        if str(item.get("sk")) == "DELIVERY":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "PutItem"
            )
        return real_put_new(self, item)

    payload = workflow_run(99, "acme/throttled-db", "success")
    delivery = str(uuid.uuid4())
    monkeypatch.setattr(Table, "put_new", throttled)
    refused = post_webhook(stack, payload, delivery=delivery)
    assert refused.status_code == 500  # not stored, so not acknowledged: GitHub records a failed delivery
    monkeypatch.setattr(Table, "put_new", real_put_new)
    assert post_webhook(stack, payload, delivery=delivery).status_code == 202  # the redelivery
    assert len(eventually(lambda: events(stack, "acme/throttled-db"))) == 1
    assert post_webhook(stack, payload, delivery=delivery).status_code == 200  # and once only
