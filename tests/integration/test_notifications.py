"""Slack (a loopback webhook receiver) and e-mail (SES on moto) notifications."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mlops_bot.healing.notifications import notify
from mlops_bot.stores.incidents import Incident, IncidentType, Severity

INCIDENT = Incident(
    id="inc-9",
    tenant_id="default",
    repository="acme/model",
    type=IncidentType.PIPELINE_FAILURE,
    severity=Severity.HIGH,
    description="CI failed",
    detected_at="2026-11-27T10:00:00.000000Z",
)


@pytest.fixture
def slack() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    received: list[dict[str, Any]] = []
    status = [200]

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(status[0])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/services/T/B/X", received, status
    server.shutdown()


def test_slack_gets_the_outcome(slack: tuple[str, list[dict[str, Any]], list[int]]) -> None:
    url, received, _ = slack
    results = notify({"notification_channels": ["slack"], "slack_webhook_url": url}, INCIDENT, "issue_resolved")
    assert results == [{"channel": "slack", "result": "sent"}]
    assert "acme/model" in received[0]["text"] and "resolved" in received[0]["text"]


def test_a_failing_channel_is_reported_not_raised(slack: tuple[str, list[dict[str, Any]], list[int]]) -> None:
    url, _, status = slack
    status[0] = 500
    assert notify({"notification_channels": ["slack"], "slack_webhook_url": url}, INCIDENT, "issue_failed") == [
        {"channel": "slack", "result": "error 500"}
    ]
    closed = "http://127.0.0.1:9/hook"
    assert notify({"notification_channels": ["slack"], "slack_webhook_url": closed}, INCIDENT, "issue_failed")[0][
        "result"
    ].startswith("error")


def test_email_goes_through_ses() -> None:
    with mock_aws():
        ses = boto3.client("ses", region_name="us-east-1")
        ses.verify_email_identity(EmailAddress="bot@example.com")
        results = notify(
            {"notification_channels": ["email"], "email_recipients": ["ml-team@example.com"]},
            INCIDENT,
            "issue_failed",
            sender="bot@example.com",
            ses=ses,
        )
        assert results == [{"channel": "email", "result": "sent"}]
        assert ses.get_send_quota()["SentLast24Hours"] == 1
    assert notify({"notification_channels": []}, INCIDENT, "issue_failed") == []


def test_email_without_a_sender_is_reported_not_skipped_silently() -> None:
    configuration = {"notification_channels": ["email"], "email_recipients": ["ml-team@example.com"]}
    [result] = notify(configuration, INCIDENT, "issue_failed", sender=None)
    assert result["channel"] == "email" and result["result"].startswith("not sent: no sender")
