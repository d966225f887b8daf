"""Telling people: Slack incoming webhooks and e-mail (SES), per the repository's channels.

A notification never fails a playbook: delivery errors are logged and recorded on the incident.
Secrets (the Slack URL) are never logged.

The destinations are a tenant's settings, checked where they come in; they are checked again
here, right before sending, so that a value stored before those checks (or by hand) is refused
instead of followed: the Slack URL must be one of Slack's incoming-webhook hosts
(`repository_config.slack_webhook_problem`), a redirect in Slack's answer is not followed, and
every e-mail recipient must be one plain address.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from mlops_bot.repository_config import email_address_problem, slack_webhook_problem
from mlops_bot.stores.incidents import Incident

log = logging.getLogger(__name__)


def message(incident: Incident, event: str) -> str:
    status = {"issue_resolved": "resolved", "issue_failed": "could not be healed", "escalated": "needs a human"}
    link = incident.metadata.get("html_url") or ""
    return (
        f"mlops-bot: {incident.repository} — {incident.description} "
        f"{status.get(event, event)} (incident {incident.id}) {link}"
    ).strip()


def slack_text(text: str) -> str:
    """`text` as Slack shows it literally: its three control characters escaped, as Slack documents.

    Descriptions carry a repository's own text (workflow and job names); unescaped, `<!channel>`
    would notify everyone and `<https://...|label>` would disguise a link.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify(
    configuration: dict[str, Any],
    incident: Incident,
    event: str,
    sender: str | None = None,
    ses: Any | None = None,
    slack_transport: httpx.BaseTransport | None = None,
) -> list[dict[str, str]]:
    """Send on each configured channel; returns one `{channel, result}` per attempt.

    `slack_transport`: how HTTP requests reach Slack (tests route them to a loopback stand-in).
    """
    results: list[dict[str, str]] = []
    text = message(incident, event)
    channels = configuration.get("notification_channels") or []
    if "slack" in channels and configuration.get("slack_webhook_url"):
        results.append(_send_to_slack(str(configuration["slack_webhook_url"]), slack_text(text), slack_transport))
    recipients = configuration.get("email_recipients") or []
    if "email" in channels and recipients and not sender:  # said on the incident, never silently skipped
        results.append({"channel": "email", "result": "not sent: no sender (MLOPS_BOT_NOTIFICATION_SENDER)"})
    if "email" in channels and recipients and sender:
        results.append(_send_email(list(recipients), sender, text, ses))
    return results


def _send_email(recipients: list[Any], sender: str, text: str, ses: Any | None) -> dict[str, str]:
    refused = [r for r in recipients if not isinstance(r, str) or email_address_problem(r)]
    if refused:
        log.warning("email notification refused: %d stored recipient(s) not one plain address", len(refused))
        return {"channel": "email", "result": f"refused: {len(refused)} recipient(s) not one plain address"}
    try:
        if ses is None:
            import boto3  # only when an e-mail is sent

            ses = boto3.client("ses")
        ses.send_email(
            Source=sender,
            Destination={"ToAddresses": recipients},
            Message={"Subject": {"Data": text[:120]}, "Body": {"Text": {"Data": text}}},
        )
    except Exception as exc:  # any SES failure is reported, never raised into the playbook
        log.warning("email notification failed: %s", type(exc).__name__)
        return {"channel": "email", "result": f"error {type(exc).__name__}"}
    return {"channel": "email", "result": "sent"}


# How notifications reach Slack over HTTP (`notify`'s and the playbook steps' `slack_transport`).
SlackTransport = httpx.BaseTransport


def _send_to_slack(url: str, text: str, transport: httpx.BaseTransport | None) -> dict[str, str]:
    if slack_webhook_problem(url):  # the reason names parts of the URL: a secret, so not logged
        log.warning("slack notification refused: the stored URL is not a Slack incoming-webhook URL")
        return {"channel": "slack", "result": "refused: not a Slack incoming-webhook URL"}
    try:
        with httpx.Client(transport=transport, timeout=5, follow_redirects=False) as client:
            response = client.post(url, json={"text": text})
    except httpx.HTTPError as exc:
        log.warning("slack notification failed: %s", type(exc).__name__)
        return {"channel": "slack", "result": f"error {type(exc).__name__}"}
    return {"channel": "slack", "result": "sent" if response.is_success else f"error {response.status_code}"}
