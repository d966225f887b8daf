"""The webhook's delivery id follows the event through ingress, detector, healer and playbook logs."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import httpx

from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.webhooks.signature import sign
from tests.e2e.conftest import eventually
from tests.support.logs import service_logs

ROOT = Path(__file__).resolve().parents[2]


def test_delivery_id_is_the_correlation_id_everywhere() -> None:
    with (
        LocalStack(StackConfig(template_path=ROOT / "template.yaml", port=free_port())) as stack,
        service_logs() as logs,
    ):
        _follow_one_delivery(stack, logs)


def _follow_one_delivery(stack: LocalStack, logs: io.StringIO) -> None:
    delivery = str(uuid.uuid4())
    payload = {
        "action": "completed",
        "repository": {"full_name": "acme/traced"},
        "workflow_run": {"id": 777001, "name": "CI", "conclusion": "failure", "head_branch": "main"},
    }
    body = json.dumps(payload).encode()
    response = httpx.post(
        stack.webhook_url,
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "workflow_run",
            "x-github-delivery": delivery,
            "x-hub-signature-256": sign(stack.config.webhook_secret, body),
        },
    )
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
