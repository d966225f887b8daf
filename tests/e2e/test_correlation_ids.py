"""The webhook's delivery id follows the event through ingress, detector, healer and playbook logs."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from tests.e2e.conftest import eventually
from tests.support.logs import service_logs
from tests.support.webhooks import post_webhook, workflow_run

ROOT = Path(__file__).resolve().parents[2]


def test_delivery_id_is_the_correlation_id_everywhere() -> None:
    with (
        LocalStack(StackConfig(template_path=ROOT / "template.yaml", port=free_port())) as stack,
        service_logs() as logs,
    ):
        _follow_one_delivery(stack, logs)


def _follow_one_delivery(stack: LocalStack, logs: io.StringIO) -> None:
    delivery = str(uuid.uuid4())
    response = post_webhook(stack, workflow_run(777001, "acme/traced"), delivery=delivery)
    assert response.status_code == 202
    seen: dict[str, set[str]] = {}

    def services_logging_it() -> set[str]:
        for line in logs.getvalue().splitlines():
            if line.startswith("{") and delivery in line:
                record = json.loads(line)
                if record.get("correlation_id") == delivery:
                    seen.setdefault(record["service"], set()).add(record["message"])
        return set(seen) if {"webhook-ingress", "detector", "healer", "playbook-actions"} <= set(seen) else set()

    assert eventually(services_logging_it, timeout=60)
