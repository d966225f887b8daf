"""The dashboard WebSocket as documented: an authenticated connection receives the message types
without a subscribe step; `subscribe` only narrows them (issue 12)."""

from __future__ import annotations

import json

from mlops_bot.local.stack import LocalStack
from mlops_bot.storage import keys
from tests.e2e.conftest import ADMIN_KEY
from tests.e2e.test_dashboard_live import dashboard, is_type, messages_until, next_message
from tests.e2e.test_webhook_slice import failed_run, post_webhook


def test_a_connection_receives_alerts_without_subscribing(stack: LocalStack) -> None:
    incident_id = keys.incident_id_for_run("acme/default-stream", 7101)
    with dashboard(stack, ADMIN_KEY, subscribe=False) as socket:
        assert post_webhook(stack, failed_run(7101, "acme/default-stream")).status_code == 202
        alert = next_message(socket, is_type("failure_alerts", id=incident_id))
        assert alert["data"]["repository"] == "acme/default-stream"
        next_message(socket, is_type("healing_progress", incident_id=incident_id))


def test_subscribe_narrows_the_types(stack: LocalStack) -> None:
    incident_id = keys.incident_id_for_run("acme/narrowed-stream", 7102)
    with dashboard(stack, ADMIN_KEY, subscribe=False) as socket:
        socket.send(json.dumps({"action": "subscribe", "types": ["system_metrics"]}))
        next_message(socket, is_type("system_metrics"))  # the subscribe answer: narrowing is in place
        assert post_webhook(stack, failed_run(7102, "acme/narrowed-stream")).status_code == 202
        seen = messages_until(socket, is_type("system_metrics"))
    assert {m["type"] for m in seen} == {"system_metrics"}
    assert incident_id not in json.dumps(seen)
