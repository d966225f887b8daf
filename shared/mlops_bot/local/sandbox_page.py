"""The local gateway's sandbox routes: what the bot did on the GitHub sandbox, for people and `replay`.

- `GET /sandbox` — a plain HTML page: the demo repositories, then each pull request with its diff,
  each issue, re-run, workflow dispatch and deployment the bot made there.
- `GET /sandbox/api/activity` — the same as JSON.
- `GET /sandbox/api/outcome?repository=R&run_id=N` (or `deployment_id=` / `incident_id=`) — the
  incident a delivery opened (diagnosis with evidence, actions, status), whether the run's logs were
  read, and the repository's sandbox activity; `settled` says the bot has finished acting for now.
- `POST /sandbox/api/follow-up` — GitHub Actions played back: completes the re-runs the bot asked
  for, runs CI on its `mlops-bot/*` branches (green) and deploys its rollbacks (successfully),
  returning the `workflow_run` / `deployment_status` payloads to deliver (`mlops-bot replay
  --follow-up` signs and posts them).

Served only when the stack runs the sandbox, and only about the sandbox's demo repositories.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mlops_bot.local.sandbox import DEMO_REPOSITORIES, GitHubSandbox
from mlops_bot.stores.incidents import CLOSED_STATUSES, Incident, IncidentStatus

# Statuses after which the bot waits for the world (a run, a human) rather than acting.
SETTLED = frozenset({IncidentStatus.PLANNED, IncidentStatus.ESCALATED, IncidentStatus.LINKED, *CLOSED_STATUSES})
FINAL = CLOSED_STATUSES
HIDDEN_FIELDS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "ttl"})


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as numbers, task tokens left out: JSON a person may read."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in HIDDEN_FIELDS and k != "task_token"}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return value


def is_settled(incident: Incident | None) -> bool:
    if incident is None:
        return False
    if incident.status == IncidentStatus.VERIFYING:  # settled once the state machine parked its task token
        return incident.verification is not None and bool(incident.verification.task_token)
    if incident.status == IncidentStatus.HEALING:  # an action that needs no proving run (dispatch, rollback) is done
        return any(action.get("status") == "done" for action in incident.actions_taken)
    return incident.status in SETTLED


def _repository_activity(activity: dict[str, list[dict[str, Any]]], repository: str) -> dict[str, Any]:
    return {
        kind: [entry for entry in entries if entry["repository"] == repository] for kind, entries in activity.items()
    }


def sandbox_routes(sandbox: GitHubSandbox, incident_reader: Callable[[str, str], Incident | None]) -> list[BaseRoute]:
    """`incident_reader(repository, incident_id)` reads the incident through the stack's incident store."""
    demos = {demo.full_name: demo for demo in DEMO_REPOSITORIES}

    def outcome(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        from mlops_bot.storage import keys

        repository = query.get("repository", "")
        if repository not in demos:
            return 404, {"error": f"{repository!r} is not a sandbox repository"}
        run_id = query.get("run_id")
        deployment_id = query.get("deployment_id")
        if query.get("incident_id"):
            incident_id = query["incident_id"]
        elif run_id and run_id.isdigit():
            incident_id = keys.incident_id_for_run(repository, int(run_id))
        elif deployment_id and deployment_id.isdigit():
            incident_id = keys.incident_id_for_run(repository, -int(deployment_id))
        else:
            return 400, {"error": "give run_id, deployment_id or incident_id"}
        incident = incident_reader(repository, incident_id)
        document: dict[str, Any] = {
            "incident_id": incident_id,
            "settled": is_settled(incident),
            "final": incident is not None and incident.status in FINAL,
            "incident": plain(incident.model_dump(mode="json")) if incident else None,
            "logs_read": bool(run_id and run_id.isdigit() and sandbox.logs_downloaded(repository, int(run_id))),
            "sandbox": _repository_activity(sandbox.activity(), repository),
        }
        return 200, document

    async def outcome_route(request: Request) -> Response:
        status, document = await run_in_threadpool(outcome, dict(request.query_params))
        return JSONResponse(document, status_code=status)

    async def activity_route(_request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(sandbox.activity))

    async def follow_up_route(_request: Request) -> Response:
        runs = await run_in_threadpool(sandbox.finish_pending_runs)
        deployments = await run_in_threadpool(sandbox.finish_pending_deployments)
        deliveries = [{"event": "workflow_run", "payload": p} for p in runs]
        deliveries += [{"event": "deployment_status", "payload": p} for p in deployments]
        return JSONResponse({"deliveries": deliveries})

    async def page_route(_request: Request) -> Response:
        activity = await run_in_threadpool(sandbox.activity)
        return HTMLResponse(render_page(activity), headers={"cache-control": "no-store"})

    return [
        Route("/sandbox", page_route, methods=["GET"]),
        Route("/sandbox/api/activity", activity_route, methods=["GET"]),
        Route("/sandbox/api/outcome", outcome_route, methods=["GET"]),
        Route("/sandbox/api/follow-up", follow_up_route, methods=["POST"]),
    ]


def _diff_html(diff: str) -> str:
    rows = []
    for line in diff.splitlines():
        kind = "add" if line.startswith("+") and not line.startswith("+++") else ""
        kind = "del" if line.startswith("-") and not line.startswith("---") else kind
        rows.append(f'<span class="{kind}">{html.escape(line)}</span>')
    return "<pre class=diff>" + "\n".join(rows) + "</pre>"


def render_page(activity: dict[str, list[dict[str, Any]]]) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>GitHub sandbox — mlops-bot</title>",
        "<meta http-equiv=refresh content=5>",
        "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:72em}pre{background:#f6f8fa;"
        "padding:.8em;overflow:auto}.add{color:#116329}.del{color:#82071e}td,th{padding:.2em .8em;"
        "text-align:left}section{margin-bottom:2em}.muted{color:#666}</style></head><body>",
        '<h1>GitHub sandbox <span class=muted>what the bot did</span></h1><p><a href="/dashboard">dashboard</a>'
        " · <a href=/sandbox/api/activity>JSON</a> · replay a sample: <code>mlops-bot replay "
        "events/workflow_run_failure.json</code>, then <code>mlops-bot replay --follow-up</code></p>",
        "<section><h2>Demo repositories</h2><table><tr><th>repository</th><th>playbook</th><th>problem</th></tr>",
    ]
    for demo in DEMO_REPOSITORIES:
        parts.append(
            f"<tr><td>{esc(demo.full_name)}</td><td>{esc(demo.playbook)}</td><td>{esc(demo.problem)}</td></tr>"
        )
    parts.append("</table></section>")
    pulls = activity["pull_requests"]
    parts.append(f"<section><h2>Pull requests ({len(pulls)})</h2>")
    for pull in pulls:
        parts.append(
            f"<h3>{esc(pull['repository'])}#{pull['number']} {esc(pull['title'])} "
            f"<span class=muted>{esc(pull['head'])} → {esc(pull['base'])}, {esc(pull['state'])}</span></h3>"
        )
        parts.append(f"<details><summary>description</summary><pre>{esc(pull['body'] or '')}</pre></details>")
        parts.append(_diff_html(pull["diff"]))
    issues = activity["issues"]
    parts.append(f"</section><section><h2>Issues ({len(issues)})</h2>")
    for issue in issues:
        parts.append(
            f"<h3>{esc(issue['repository'])}#{issue['number']} {esc(issue['title'])} "
            f"<span class=muted>{esc(issue['state'])} {esc(', '.join(issue['labels']))}</span></h3>"
            f"<pre>{esc(issue['body'] or '')}</pre>"
        )
    for title, kind, columns in (
        ("Re-runs", "reruns", ("repository", "run_id")),
        ("Workflow dispatches", "dispatches", ("repository", "workflow_id", "ref", "inputs")),
        ("Deployments", "deployments", ("repository", "id", "ref", "environment", "description", "state")),
    ):
        entries = activity[kind]
        parts.append(f"</section><section><h2>{title} ({len(entries)})</h2><table><tr>")
        parts.extend(f"<th>{esc(c)}</th>" for c in columns)
        parts.append("</tr>")
        for entry in entries:
            cells = (entry.get(c) for c in columns)
            parts.append(
                "<tr>"
                + "".join(
                    f"<td>{esc(json.dumps(v) if isinstance(v, dict) else str(v if v is not None else ''))}</td>"
                    for v in cells
                )
                + "</tr>"
            )
        parts.append("</table>")
    parts.append("</section></body></html>")
    return "".join(parts)
