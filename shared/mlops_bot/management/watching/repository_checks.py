"""Repository configuration that would be stored and then ignored is refused (422) instead.

* `custom_playbooks` lists the catalog playbooks the bot may run *automatically* for the
  repository (an empty list or none: every playbook); a manual heal is not restricted by it. A
  name outside the catalog would silently switch automatic healing off, so it is refused.
* `notification_channels`: only `slack` (needs `slack_webhook_url`) and `email` (needs
  `email_recipients`) send anything; a channel without its destination, in this request or
  already stored, is refused. The bot's GitHub issues and pull requests are written regardless of
  this list, so `github` and `webhook` are refused rather than accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from mlops_bot.errors import ValidationFailed
from mlops_bot.healing import catalog

SENDING_CHANNELS = ("slack", "email")
NOTIFICATION_FIELDS = frozenset({"notification_channels", "slack_webhook_url", "email_recipients"})


def _refuse(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(
        "Request validation failed",
        f"{field}: {problem}",
        fields=[{"loc": f"body.{field}", "msg": problem, "type": "value_error"}],
    )


def check_custom_playbooks(names: list[str]) -> None:
    unknown = [n for n in names if catalog.get(n) is None]
    if unknown:
        raise _refuse(
            "custom_playbooks",
            f"unknown playbook(s) {', '.join(unknown)}; the catalog has {', '.join(catalog.NAMES)}",
        )


def check_notifications(configuration: dict[str, Any], email_sender: bool = True) -> None:
    channels = list(configuration.get("notification_channels") or [])
    unsupported = [c for c in channels if c not in SENDING_CHANNELS]
    if unsupported:
        raise _refuse(
            "notification_channels",
            f"{', '.join(unsupported)} cannot send notifications; use slack and/or email "
            "(GitHub issues and pull requests are written regardless)",
        )
    if "slack" in channels and not configuration.get("slack_webhook_url"):
        raise _refuse("notification_channels", "slack needs slack_webhook_url (an https:// incoming-webhook URL)")
    if "email" in channels and not configuration.get("email_recipients"):
        raise _refuse("notification_channels", "email needs email_recipients")
    if "email" in channels and not email_sender:
        raise _refuse(
            "notification_channels",
            "this deployment sends no e-mail: it has no sender (MLOPS_BOT_NOTIFICATION_SENDER, "
            "the template's NotificationSender)",
        )


def check(changes: dict[str, Any], configuration: dict[str, Any], email_sender: bool = True) -> None:
    """Refuse `changes` whose result (`configuration`, stored values with the changes on top) would be ignored.

    A change to `None` clears the setting; clearing a destination a channel needs is refused too.
    """
    if changes.get("custom_playbooks") is not None:
        check_custom_playbooks(list(changes["custom_playbooks"]))
    if NOTIFICATION_FIELDS & changes.keys():
        check_notifications(configuration, email_sender)
