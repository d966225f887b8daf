"""Destinations the bot later sends to: a tenant cannot point them anywhere but Slack or one mailbox.

`slack_webhook_url` is POSTed to by the playbook-actions Lambda, inside the deployment's network;
an address a tenant chose freely would let it make that Lambda call internal hosts (instance
metadata, VPC services, loopback). `email_recipients` go to SES as destinations: one address each.
"""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api

PATH = "/api/v1/repositories/acme/model/config"

NOT_SLACK = [
    "http://hooks.slack.com/services/T/B/X",  # not https
    "https://169.254.169.254/latest/meta-data/",  # instance metadata
    "https://10.0.0.8/services/T/B/X",
    "https://127.0.0.1/services/T/B/X",
    "https://localhost/services/T/B/X",
    "https://[::1]/services/T/B/X",
    "https://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
    "https://0251.0376.0251.0376/",  # the same in octal
    "https://hooks.slack.com@169.254.169.254/services/T/B/X",  # userinfo: the host is after the @
    "https://user:pass@hooks.slack.com/services/T/B/X",
    "https://hooks.slack.com.evil.example/services/T/B/X",
    "https://evil.example/hooks.slack.com/services/T/B/X",
    "https://hooks.slack.com:8443/services/T/B/X",  # another port on the right host
    "https://hooks.slack.com./services/T/B/X",
    "https://hooks.slack.com\\@evil.example/services/T/B/X",  # parsers disagree on backslashes
    "https://hooks.slack.com/services/T/B/X\r\nHost: evil.example",
    "https://hooks.slack.com/services/T/B/X evil",
    "https://hooks.sl\u0430ck.com/services/T/B/X",  # a Cyrillic a
    "https:///hooks.slack.com/services/T/B/X",
    "https://metadata.google.internal/computeMetadata/v1/",
]

NOT_ONE_ADDRESS = [
    "ops@example.com, boss@example.com",
    "ops@example.com;boss@example.com",
    "ops@example.com\r\nBcc: everyone@example.com",
    "ops@example.com\nboss@example.com",
    "Ops <ops@example.com>",
    "ops",
    "@example.com",
    "ops@",
    "ops@@example.com",
    "ops @example.com",
    "ops@example.com\x00",
]


@pytest.mark.parametrize("url", NOT_SLACK)
def test_a_slack_webhook_url_that_is_not_slacks_is_refused_in_the_spec_format(api: Api, url: str) -> None:
    api.repository("acme/model")
    answer = api.client.put(
        PATH, headers=api.key("write"), json={"notification_channels": ["slack"], "slack_webhook_url": url}
    )
    assert answer.status_code == 422, url
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_FAILED" and error["request_id"]
    assert "slack_webhook_url" in str(error["details"])
    stored = api.client.get("/api/v1/repositories/acme/model", headers=api.key("read")).json()
    assert "slack_webhook_url" not in stored["configuration"]


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        "https://HOOKS.SLACK.COM/services/T000/B000/XXXXXXXX",
        "https://hooks.slack-gov.com/services/T000/B000/XXXXXXXX",
        "https://hooks.slack.com/workflows/T000/A000/123/abc",
    ],
)
def test_slack_incoming_webhook_urls_are_accepted(api: Api, url: str) -> None:
    api.repository("acme/model")
    answer = api.client.put(
        PATH, headers=api.key("write"), json={"notification_channels": ["slack"], "slack_webhook_url": url}
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("recipient", NOT_ONE_ADDRESS)
def test_an_email_recipient_that_is_not_one_plain_address_is_refused(api: Api, recipient: str) -> None:
    api.repository("acme/model")
    answer = api.client.put(
        PATH,
        headers=api.key("write"),
        json={"notification_channels": ["email"], "email_recipients": ["ml-team@example.com", recipient]},
    )
    assert answer.status_code == 422, recipient
    assert "email_recipients" in str(answer.json()["error"]["details"])


def test_plain_addresses_are_accepted(api: Api) -> None:
    api.repository("acme/model")
    recipients = ["ml-team@example.com", "first.last+alerts@sub.example.co.uk", "o'brien@example.org"]
    answer = api.client.put(
        PATH, headers=api.key("write"), json={"notification_channels": ["email"], "email_recipients": recipients}
    )
    assert answer.status_code == 200, answer.text
