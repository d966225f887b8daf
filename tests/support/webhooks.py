"""Signed GitHub deliveries for the tests that drive a running stack over HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from mlops_bot.local.stack import LocalStack
from mlops_bot.webhooks.signature import sign


def workflow_run(
    run_id: int,
    repository: str,
    conclusion: str = "failure",
    *,
    branch: str = "main",
    attempt: int = 1,
    head_sha: str = "f00d" * 10,
    installation_id: int | None = None,
) -> dict[str, Any]:
    """A completed `workflow_run` payload, as GitHub sends it (the fields the bot reads)."""
    payload: dict[str, Any] = {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "CI",
            "status": "completed",
            "conclusion": conclusion,
            "head_branch": branch,
            "head_sha": head_sha,
            "run_attempt": attempt,
            "html_url": f"https://github.example/{repository}/actions/runs/{run_id}",
        },
        "repository": {"full_name": repository, "default_branch": "main"},
        "sender": {"login": "dana"},
    }
    if installation_id is not None:
        payload["installation"] = {"id": installation_id}
    return payload


def post_webhook(
    stack: LocalStack, payload: dict[str, Any], event: str = "workflow_run", delivery: str | None = None
) -> httpx.Response:
    """Sign `payload` with the stack's webhook secret and post it as one delivery."""
    body = json.dumps(payload).encode()
    return httpx.post(
        stack.webhook_url,
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": event,
            "x-github-delivery": delivery or str(uuid.uuid4()),
            "x-hub-signature-256": sign(stack.config.webhook_secret, body),
        },
        timeout=30,
    )
