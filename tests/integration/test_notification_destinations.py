"""Send time: the notifier itself refuses destinations the edge would refuse (defence in depth).

A configuration stored before the edge checked (or written by hand) must not make the bot POST
to an internal host or hand SES a header-injecting recipient; a Slack answer that redirects is
not followed. The stand-in's transport would deliver *any* URL to its loopback receiver, so an
empty receiver shows the notifier refused, not that a name failed to resolve.
"""

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


@pytest.fixture
def internal() -> Iterator[SlackStandIn]:
    """Another loopback service: what a forged request would reach."""
    standin = SlackStandIn()
    yield standin
    standin.close()


def test_a_slack_url_is_sent_to_slacks_host(slack: SlackStandIn) -> None:
    results = notify(
        {"notification_channels": ["slack"], "slack_webhook_url": slack.url},
        INCIDENT,
        "issue_resolved",
        slack_transport=slack.transport,
    )
    assert results == [{"channel": "slack", "result": "sent"}]
    assert slack.hosts == ["hooks.slack.com"] and "acme/model" in slack.received[0]["text"]


@pytest.mark.parametrize(
    "stored",
    [
        "loopback",
        "https://169.254.169.254/latest/meta-data/",
        "https://hooks.slack.com@127.0.0.1/services/T/B/X",
        "https://2130706433/services/T/B/X",
        "https://localhost/services/T/B/X",
    ],
)
def test_a_stored_url_that_is_not_slacks_is_not_followed(slack: SlackStandIn, stored: str) -> None:
    url = slack.loopback_url if stored == "loopback" else stored
    results = notify(
        {"notification_channels": ["slack"], "slack_webhook_url": url},
        INCIDENT,
        "issue_failed",
        slack_transport=slack.transport,
    )
    assert slack.received == []
    [result] = results
    assert result["channel"] == "slack" and result["result"].startswith("refused")
    assert "169.254" not in result["result"] and "127.0.0.1" not in result["result"]  # the URL is a secret


def test_a_redirect_from_slack_is_not_followed(slack: SlackStandIn, internal: SlackStandIn) -> None:
    slack.location = internal.loopback_url
    results = notify(
        {"notification_channels": ["slack"], "slack_webhook_url": slack.url},
        INCIDENT,
        "issue_failed",
        slack_transport=slack.transport,
    )
    assert len(slack.received) == 1 and internal.received == []
    assert results == [{"channel": "slack", "result": "error 302"}]


@pytest.mark.parametrize(
    "recipient",
    ["ops@example.com\r\nBcc: everyone@example.com", "ops@example.com, boss@example.com", "Ops <ops@example.com>"],
)
def test_a_stored_recipient_that_is_not_one_address_sends_no_email(recipient: str) -> None:
    with mock_aws():
        ses = boto3.client("ses", region_name="us-east-1")
        ses.verify_email_identity(EmailAddress="bot@example.com")
        results = notify(
            {"notification_channels": ["email"], "email_recipients": ["ml-team@example.com", recipient]},
            INCIDENT,
            "issue_failed",
            sender="bot@example.com",
            ses=ses,
        )
        assert results == [{"channel": "email", "result": "refused: 1 recipient(s) not one plain address"}]
        assert ses.get_send_quota()["SentLast24Hours"] == 0


def test_slack_control_sequences_in_a_workflows_text_are_shown_not_obeyed(slack: SlackStandIn) -> None:
    """A workflow name is the repository's text: `<!channel>` or a disguised link must not reach Slack as markup."""
    hostile = INCIDENT.model_copy(update={"description": "Workflow '<!channel> <https://evil.example|CI> & co' failed"})
    notify(
        {"notification_channels": ["slack"], "slack_webhook_url": slack.url},
        hostile,
        "issue_failed",
        slack_transport=slack.transport,
    )
    [sent] = slack.received
    assert "<!channel>" not in sent["text"] and "<https://evil.example|" not in sent["text"]
    assert "&lt;!channel&gt; &lt;https://evil.example|CI&gt; &amp; co" in sent["text"]
