"""`mlops-bot replay FILE`: sign a webhook event and post it to a running stack.

FILE is either an API Gateway v2 request (as in `events/`, with `headers` and `body`) or a bare
GitHub payload (then `--event` names its type). The body is re-signed with the secret in use, and
gets a fresh delivery id unless `--delivery` is given (reuse one to see redelivery handling).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from mlops_bot.local.stack import DEFAULT_WEBHOOK_SECRET
from mlops_bot.webhooks.signature import sign


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("replay", help="sign and post a webhook event to a running stack")
    parser.add_argument("file", type=Path, help="events/*.json (API Gateway request) or a bare GitHub payload")
    parser.add_argument("--url", default=None, help="webhook URL (default http://127.0.0.1:$PORT/webhooks/github)")
    parser.add_argument(
        "--secret", default=None, help="webhook secret (default $GITHUB_WEBHOOK_SECRET or the local one)"
    )
    parser.add_argument("--event", default=None, help="X-GitHub-Event for a bare payload")
    parser.add_argument("--delivery", default=None, help="X-GitHub-Delivery to send (default: a new UUID)")
    parser.set_defaults(func=run)


def load_request(path: Path, event_name: str | None) -> tuple[str, bytes]:
    document = json.loads(path.read_text())
    if isinstance(document, dict) and "body" in document and "headers" in document:
        headers = {k.lower(): v for k, v in document["headers"].items()}
        raw = document["body"] or ""
        body = base64.b64decode(raw) if document.get("isBase64Encoded") else raw.encode()
        return event_name or headers.get("x-github-event", ""), body
    if not event_name:
        raise ValueError("a bare payload needs --event (e.g. --event workflow_run)")
    return event_name, json.dumps(document).encode()


def run(args: argparse.Namespace) -> int:
    try:
        event_name, body = load_request(args.file, args.event)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    secret = args.secret or os.environ.get("GITHUB_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET
    url = args.url or f"http://127.0.0.1:{os.environ.get('PORT', '8080')}/webhooks/github"
    delivery = args.delivery or str(uuid.uuid4())
    headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/mlops-bot-replay",
        "x-github-event": event_name,
        "x-github-delivery": delivery,
        "x-hub-signature-256": sign(secret, body),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        print(f"error: could not reach {url}: {exc} (is `make run` running?)", file=sys.stderr)
        return 1
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    print(json.dumps({"status_code": response.status_code, "delivery_id": delivery, "body": answer}, indent=2))
    return 0 if response.is_success else 1
