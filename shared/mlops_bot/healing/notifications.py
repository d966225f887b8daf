"""Telling people: Slack incoming webhooks and e-mail (SES), per the repository's channels.

A notification never fails a playbook: delivery errors are logged and recorded on the incident.
Secrets (the Slack URL) are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from mlops_bot.stores.incidents import Incident

log = logging.getLogger(__name__)


def message(incident: Incident, event: str) -> str:
    status = {"issue_resolved": "resolved", "issue_failed": "could not be healed", "escalated": "needs a human"}
    link = incident.metadata.get("html_url") or ""
    return (
        f"mlops-bot: {incident.repository} — {incident.description} "
        f"{status.get(event, event)} (incident {incident.id}) {link}"
    ).strip()


def notify(
    configuration: dict[str, Any],
    incident: Incident,
    event: str,
    sender: str | None = None,
    ses: Any | None = None,
) -> list[dict[str, str]]:
    """Send on each configured channel; returns one `{channel, result}` per attempt."""
    results: list[dict[str, str]] = []
    text = message(incident, event)
    channels = configuration.get("notification_channels") or []
    if "slack" in channels and configuration.get("slack_webhook_url"):
        try:
            response = httpx.post(str(configuration["slack_webhook_url"]), json={"text": text}, timeout=5)
            results.append(
                {"channel": "slack", "result": "sent" if response.is_success else f"error {response.status_code}"}
            )
        except httpx.HTTPError as exc:
            log.warning("slack notification failed: %s", type(exc).__name__)
            results.append({"channel": "slack", "result": f"error {type(exc).__name__}"})
    recipients = configuration.get("email_recipients") or []
    if "email" in channels and recipients and not sender:  # said on the incident, never silently skipped
        results.append({"channel": "email", "result": "not sent: no sender (MLOPS_BOT_NOTIFICATION_SENDER)"})
    if "email" in channels and recipients and sender:
        try:
            if ses is None:
                import boto3  # only when an e-mail is sent

                ses = boto3.client("ses")
            ses.send_email(
                Source=sender,
                Destination={"ToAddresses": list(recipients)},
                Message={"Subject": {"Data": text[:120]}, "Body": {"Text": {"Data": text}}},
            )
            results.append({"channel": "email", "result": "sent"})
        except Exception as exc:  # any SES failure is reported, never raised into the playbook
            log.warning("email notification failed: %s", type(exc).__name__)
            results.append({"channel": "email", "result": f"error {type(exc).__name__}"})
    return results
