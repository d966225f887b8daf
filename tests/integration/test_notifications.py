"""Slack (a loopback webhook receiver) and e-mail (SES on moto) notifications."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from mlops_bot.healing.notifications import notify
from mlops_bot.stores.incidents import Incident, IncidentType, Severity
from tests.support.slack_standin import SlackStandIn

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
def slack() -> Iterator[SlackStandIn]:
    standin = SlackStandIn()
    yield standin
    standin.close()


def test_slack_gets_the_outcome(slack: SlackStandIn) -> None:
    configuration = {"notification_channels": ["slack"], "slack_webhook_url": slack.url}
    results = notify(configuration, INCIDENT, "issue_resolved", slack_transport=slack.transport)
    assert results == [{"channel": "slack", "result": "sent"}]
    assert "acme/model" in slack.received[0]["text"] and "resolved" in slack.received[0]["text"]


def test_a_failing_channel_is_reported_not_raised(slack: SlackStandIn) -> None:
    slack.status = 500
    configuration = {"notification_channels": ["slack"], "slack_webhook_url": slack.url}
    assert notify(configuration, INCIDENT, "issue_failed", slack_transport=slack.transport) == [
        {"channel": "slack", "result": "error 500"}
    ]
    closed = SlackStandIn()
    closed.close()  # nothing listens on its port any more
    assert notify(configuration, INCIDENT, "issue_failed", slack_transport=closed.transport)[0]["result"].startswith(
        "error"
    )


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
