"""`mlops-bot replay FILE...`: sign webhook events, post them to a running stack, show what the bot did.

FILE is either an API Gateway v2 request (as in `events/`, with `headers` and `body`) or a bare
GitHub payload (then `--event` names its type). The body is re-signed with the secret in use, and
gets a fresh delivery id unless `--delivery` is given (reuse one to see redelivery handling). A
request to the management API (`events/drift_report.json`) is sent to its own path with an API key:
`--api-key`, `$MLOPS_BOT_API_KEY`, `$MLOPS_BOT_BOOTSTRAP_API_KEY`, or the key the local stack keeps
in its state directory.

Against the local stack's GitHub sandbox, replay then waits (bounded by `--wait`) until the bot has
acted and adds the outcome under `"outcome"`: the incident with its typed diagnosis and evidence,
whether the run's logs were read, and what the bot did in the sandbox (the pull request with its
diff, the re-run, issue, workflow dispatch or rollback deployment). On a terminal a readable report
follows the JSON. `--follow-up` plays GitHub Actions for what the bot started (its fix branch's CI
run, the re-run) and delivers those green runs, which resolves the incidents.

Output: one FILE prints `{"status_code", "delivery_id", "body", "outcome"}` (indented, as before);
several print one such document per line, with progress on a terminal's stderr.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mlops_bot.cli.progress import Progress

WEBHOOK_PATH = "/webhooks/github"
DEFAULT_WAIT_SECONDS = 90.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="sign and post webhook events to a running stack; show what the bot did",
        description="Sign and post webhook events (events/*.json) to a running stack and show the outcome.",
    )
    parser.add_argument(
        "file", type=Path, nargs="*", help="events/*.json (API Gateway request) or a bare GitHub payload"
    )
    parser.add_argument("--url", default=None, help="webhook URL (default http://127.0.0.1:$PORT/webhooks/github)")
    parser.add_argument(
        "--secret", default=None, help="webhook secret (default $GITHUB_WEBHOOK_SECRET or the local one)"
    )
    parser.add_argument("--event", default=None, help="X-GitHub-Event for a bare payload")
    parser.add_argument("--delivery", default=None, help="X-GitHub-Delivery to send (default: a new UUID)")
    parser.add_argument("--api-key", default=None, help="API key for management API samples (default: local key)")
    parser.add_argument(
        "--follow-up",
        action="store_true",
        help="sandbox: finish the CI runs the bot started (fix branch, re-runs), green, and deliver them",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for the outcome on the sandbox (default {DEFAULT_WAIT_SECONDS:g}; 0: do not wait)",
    )
    parser.add_argument("--json", action="store_true", help="only the JSON, even on a terminal")
    parser.set_defaults(func=run)


def load_document(path: Path, event_name: str | None) -> tuple[str, bytes, str]:
    """(GitHub event name or "" for an API request, body, request path) of a sample file."""
    document = json.loads(path.read_text())
    if isinstance(document, dict) and "body" in document and "headers" in document:
        headers = {k.lower(): v for k, v in document["headers"].items()}
        raw = document["body"] or ""
        body = base64.b64decode(raw) if document.get("isBase64Encoded") else raw.encode()
        request_path = str(document.get("rawPath") or WEBHOOK_PATH)
        return event_name or headers.get("x-github-event", ""), body, request_path
    if not event_name:
        raise ValueError("a bare payload needs --event (e.g. --event workflow_run)")
    return event_name, json.dumps(document).encode(), WEBHOOK_PATH


def _base_url(webhook_url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(webhook_url)
    return f"{parts.scheme}://{parts.netloc}"


class Replayer:
    """Posts deliveries and reads their outcome from the sandbox routes of the local gateway."""

    def __init__(self, args: argparse.Namespace) -> None:
        import httpx

        from mlops_bot.local.state import read_local_api_key

        self.httpx = httpx
        self.secret = args.secret or os.environ.get("GITHUB_WEBHOOK_SECRET") or _default_secret()
        self.webhook_url = args.url or f"http://127.0.0.1:{os.environ.get('PORT', '8080')}{WEBHOOK_PATH}"
        self.base = _base_url(self.webhook_url)
        self.api_key = (
            args.api_key
            or os.environ.get("MLOPS_BOT_API_KEY")
            or os.environ.get("MLOPS_BOT_BOOTSTRAP_API_KEY")
            or read_local_api_key()
        )
        self.wait = max(0.0, float(args.wait))
        self.client = httpx.Client(timeout=30)

    def post_webhook(self, event_name: str, body: bytes, delivery: str) -> Any:
        from mlops_bot.webhooks.signature import sign

        headers = {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/mlops-bot-replay",
            "x-github-event": event_name,
            "x-github-delivery": delivery,
            "x-hub-signature-256": sign(self.secret, body),
        }
        return self.client.post(self.webhook_url, content=body, headers=headers)

    def post_api(self, path: str, body: bytes) -> Any:
        headers = {"content-type": "application/json", "user-agent": "mlops-bot-replay"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        return self.client.post(self.base + path, content=body, headers=headers)

    def outcome(self, query: dict[str, str], final: bool, progress: Progress) -> dict[str, Any] | None:
        """Poll the sandbox's outcome until the bot has acted (or, with `final`, finished)."""
        deadline = time.monotonic() + self.wait
        document: dict[str, Any] | None = None
        while True:
            try:
                response = self.client.get(f"{self.base}/sandbox/api/outcome", params=query)
            except self.httpx.HTTPError:
                return None
            if response.status_code != 200:
                return None  # not the local stack's sandbox (a deployed stack, a real GitHub)
            document = response.json()
            status = (document.get("incident") or {}).get("status") or "not opened yet"
            if document.get("final") or (document.get("settled") and not final):
                break
            if time.monotonic() >= deadline:
                document["timed_out"] = True
                break
            progress.update(f"waiting for the bot: incident {document.get('incident_id')} {status}")
            time.sleep(0.25)
        progress.clear()
        return document


def _default_secret() -> str:
    from mlops_bot.local.stack import DEFAULT_WEBHOOK_SECRET

    return DEFAULT_WEBHOOK_SECRET


def outcome_query(event_name: str, body: bytes, answer: Any) -> tuple[dict[str, str], bool] | None:
    """What to ask the sandbox about this delivery, and whether to wait for the incident to end."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    if not event_name and isinstance(answer, dict) and answer.get("incident_id"):  # a drift / metrics report
        return {"incident_id": str(answer["incident_id"])}, False
    repository = str((payload.get("repository") or {}).get("full_name") or "")
    run = payload.get("workflow_run")
    if event_name == "workflow_run" and isinstance(run, dict) and payload.get("action") == "completed":
        from mlops_bot.messages import BOT_BRANCH_PREFIX

        branch = str(run.get("head_branch") or "")
        if branch.startswith(BOT_BRANCH_PREFIX):  # the bot's fix branch: the incident it proves
            return {"repository": repository, "incident_id": branch.split("/", 1)[1]}, True
        if run.get("conclusion") == "success":
            if int(run.get("run_attempt") or 1) > 1:  # a re-run the bot asked for
                return {"repository": repository, "run_id": str(run["id"])}, True
            return None
        return {"repository": repository, "run_id": str(run["id"])}, False
    deployment, status = payload.get("deployment"), payload.get("deployment_status")
    failed = isinstance(status, dict) and status.get("state") in ("failure", "error")
    if event_name == "deployment_status" and isinstance(deployment, dict) and failed:
        return {"repository": repository, "deployment_id": str(deployment["id"])}, False
    return None


def _api_repository(request_path: str) -> str:
    parts = request_path.strip("/").split("/")
    return f"{parts[3]}/{parts[4]}" if len(parts) > 4 and parts[:3] == ["api", "v1", "repositories"] else ""


def replay_one(
    replayer: Replayer, event_name: str, body: bytes, request_path: str, delivery: str, progress: Progress
) -> dict[str, Any]:
    if event_name:
        response = replayer.post_webhook(event_name, body, delivery)
    else:
        response = replayer.post_api(request_path, body)
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    result: dict[str, Any] = {"status_code": response.status_code, "delivery_id": delivery, "body": answer}
    if not response.is_success or replayer.wait <= 0:
        return result
    query = outcome_query(event_name, body, answer)
    if query is None:
        return result
    params, final = query
    if not event_name:
        params["repository"] = _api_repository(request_path)
    found = replayer.outcome(params, final, progress)
    if found is not None:
        result["outcome"] = found
    return result


def run(args: argparse.Namespace) -> int:
    if not args.file and not args.follow_up:
        print("error: give FILE... or --follow-up", file=sys.stderr)
        return 2
    requests: list[tuple[str, bytes, str, str]] = []
    try:
        for path in args.file:
            event_name, body, request_path = load_document(path, args.event)
            requests.append((event_name, body, request_path, args.delivery or str(uuid.uuid4())))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    replayer = Replayer(args)
    human = not args.json and _is_terminal(sys.stdout)
    results: list[dict[str, Any]] = []
    with Progress(enabled=not args.json) as progress:
        try:
            if args.follow_up:
                requests += follow_up_requests(replayer)
                if not requests:
                    print("nothing to follow up: the bot has no fix branch or re-run waiting", file=sys.stderr)
            for number, (event_name, body, request_path, delivery) in enumerate(requests, start=1):
                if len(requests) > 1:
                    progress.update(f"[{number}/{len(requests)}] posting {event_name or request_path}", force=True)
                results.append(replay_one(replayer, event_name, body, request_path, delivery, progress))
        except replayer.httpx.HTTPError as exc:
            progress.clear()
            print(f"error: could not reach {replayer.webhook_url}: {exc} (is `make run` running?)", file=sys.stderr)
            return 1
    for result in results:
        print(json.dumps(result, indent=2) if len(results) == 1 else json.dumps(result))
        if human and "outcome" in result:
            print(report(result["outcome"]))
    return 0 if all(200 <= r["status_code"] < 300 for r in results) else 1


def follow_up_requests(replayer: Replayer) -> list[tuple[str, bytes, str, str]]:
    response = replayer.client.post(f"{replayer.base}/sandbox/api/follow-up")
    if response.status_code != 200:
        raise SystemExit(f"error: {replayer.base} serves no GitHub sandbox (--follow-up needs `make run`)")
    return [
        (str(d["event"]), json.dumps(d["payload"]).encode(), WEBHOOK_PATH, str(uuid.uuid4()))
        for d in response.json()["deliveries"]
    ]


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def report(outcome: dict[str, Any]) -> str:
    """The outcome for a person: verdict, evidence, what the bot did, what comes next."""
    incident = outcome.get("incident") or {}
    lines = [""]
    if not incident:
        lines.append("outcome: no incident yet" + (" (timed out waiting)" if outcome.get("timed_out") else ""))
        return "\n".join(lines)
    lines.append(f"incident {incident.get('id')}: {incident.get('status')} — {incident.get('description')}")
    if outcome.get("logs_read"):
        lines.append("  logs: the run's logs zip was downloaded and read")
    diagnosis = incident.get("diagnosis") or {}
    if diagnosis:
        lines.append(
            f"  diagnosis: {diagnosis.get('category')} ({diagnosis.get('kind')}), "
            f"confidence {float(diagnosis.get('confidence') or 0):.2f}"
        )
        for key, value in (diagnosis.get("details") or {}).items():
            if key != "log_member":
                lines.append(f"    {key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
        for evidence in diagnosis.get("evidence") or []:
            lines.append(f"    | {evidence.get('text')}")
    for action in incident.get("actions_taken") or []:
        lines.append(f"  action: {action.get('action')} ({action.get('status')}, rule {action.get('rule')})")
    sandbox = outcome.get("sandbox") or {}
    for pull in sandbox.get("pull_requests") or []:
        lines.append(f"  pull request #{pull['number']} {pull['title']} ({pull['head']} -> {pull['base']})")
        lines.extend("    " + line for line in str(pull.get("diff") or "").splitlines())
    for issue in sandbox.get("issues") or []:
        lines.append(f"  issue #{issue['number']} {issue['title']}")
    for rerun in sandbox.get("reruns") or []:
        lines.append(f"  re-run of run {rerun['run_id']}")
    for dispatch in sandbox.get("dispatches") or []:
        lines.append(f"  workflow dispatch {dispatch['workflow_id']} on {dispatch['ref']} inputs {dispatch['inputs']}")
    for deployment in sandbox.get("deployments") or []:
        lines.append(f"  deployment {deployment['id']} of {deployment['ref']} to {deployment['environment']}")
    if incident.get("status") == "verifying":
        lines.append("  next: `mlops-bot replay --follow-up` delivers the green CI run that proves the repair")
    return "\n".join(lines)
