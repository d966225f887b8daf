"""Carrying out a repair plan on GitHub — or, in dry run, recording exactly what would be done.

Every write goes through `RepairSession.write`: it is audited (who, what, why, result) whether it
is made or only planned. Branch safety lives in the GitHub adapter (bot branches only, never the
default or a protected branch, never force, no merge at all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient, GitHubNotFound
from mlops_bot.healing import audit
from mlops_bot.healing.planner import RepairPlan

BOT_LABEL = "mlops-bot"


@dataclass
class RepairOutcome:
    status: str  # "done" | "planned" | "escalated"
    changes_made: list[dict[str, Any]] = field(default_factory=list)
    pull_request: dict[str, Any] | None = None
    issue: dict[str, Any] | None = None
    branch: str | None = None
    run_id: int | None = None
    planned_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RepairSession:
    table: StateTable
    client: GitHubClient | None
    dry_run: bool
    tenant_id: str
    incident: dict[str, Any]
    playbook: str
    plan: RepairPlan
    installation_id: int | None = None
    planned_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def repository(self) -> str:
        return str(self.incident["repository"])

    def write(
        self,
        method: str,
        path: str,
        summary: str,
        call: Callable[[], Any] | None,
        details: dict[str, Any] | None = None,
    ) -> Any:
        """Make (or in dry run, record) one write, with its audit record."""
        planned = {"method": method, "path": path, "summary": summary, **({"details": details} if details else {})}
        if self.dry_run or call is None:
            self.planned_calls.append(planned)
            self._audit(method, path, summary, "planned", details)
            return None
        try:
            result = call()
        except Exception as exc:
            self._audit(method, path, summary, f"error: {type(exc).__name__}", details)
            raise
        self._audit(method, path, summary, "done", details)
        return result

    def _audit(self, method: str, path: str, summary: str, result: str, details: dict[str, Any] | None) -> None:
        audit.record(
            self.table,
            audit.AuditRecord(
                tenant_id=self.tenant_id,
                installation_id=self.installation_id,
                repository=self.repository,
                method=method,
                path=path,
                summary=summary,
                incident_id=str(self.incident["id"]),
                playbook=self.playbook,
                rule=self.plan.rule,
                dry_run=self.dry_run,
                result=result,
                details=details or {},
            ),
        )


def _flaky_section(session: RepairSession) -> list[str]:
    """The repository's flaky tests and jobs with their flake rate (flaky successes / successes)."""
    from mlops_bot.clock import utc_now
    from mlops_bot.detection.flaky import flake_rates

    rates = flake_rates(session.table, session.tenant_id, session.repository, utc_now())
    flaky = sorted((r for r in rates.values() if r.flaky_successes), key=lambda r: -r.flake_rate)
    if not flaky:
        return []
    lines = [
        "",
        "Flaky tests and jobs (last 14 days):",
        "",
        "| test or job | flake rate | flaky passes / passes |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{r.test_id}` | {r.flake_rate:.0%} | {r.flaky_successes} / {r.successes} |" for r in flaky[:30]]
    return lines


def _issue_body(incident: dict[str, Any], plan: RepairPlan) -> str:
    diagnosis = incident.get("diagnosis") or {}
    metadata = incident.get("metadata") or {}
    lines = [
        f"mlops-bot detected a failure it will not fix automatically ({plan.reason or plan.rule}).",
        "",
        f"- Workflow: {metadata.get('workflow_name')} — run {metadata.get('html_url') or metadata.get('run_id')}",
        f"- Branch / commit: {metadata.get('head_branch')} @ {str(metadata.get('head_sha') or '')[:12]}",
        f"- Diagnosis: `{diagnosis.get('category', 'unknown')}` / `{diagnosis.get('kind', 'unknown')}`"
        f" (confidence {diagnosis.get('confidence', 0)})",
        f"- Incident: `{incident['id']}`",
    ]
    details = diagnosis.get("details") or {}
    if details:
        lines += ["", "Details:", *[f"- {k}: {v}" for k, v in details.items()]]
    evidence = diagnosis.get("evidence") or []
    if evidence:
        lines += ["", "Evidence:", "```", *[f"{e.get('line')}: {e.get('text')}" for e in evidence[:20]], "```"]
    return "\n".join(lines)


def open_issue(session: RepairSession) -> RepairOutcome:
    incident, client = session.incident, session.client
    title = f"[mlops-bot] {incident.get('description', 'Pipeline failure')} ({incident['id']})"
    body = _issue_body(incident, session.plan)
    if session.playbook == "flaky_test_response":
        title = f"[mlops-bot] Flaky tests in {session.repository}"
        body = "\n".join([body, *_flaky_section(session)])
    path = f"/repos/{session.repository}/issues"
    existing = client.find_open_issue(session.repository, BOT_LABEL, title_prefix=title) if client else None
    if existing is not None:
        assert client is not None
        session.write(
            "POST",
            f"{path}/{existing.number}/comments",
            "comment on the open issue",
            lambda: client.comment_issue(session.repository, existing.number, body),
        )
        return RepairOutcome(
            status="escalated",
            issue={"number": existing.number, "html_url": existing.html_url},
            planned_calls=session.planned_calls,
        )
    created = session.write(
        "POST",
        path,
        title,
        (lambda: client.create_issue(session.repository, title, body, labels=[BOT_LABEL])) if client else None,
        {"labels": [BOT_LABEL]},
    )
    issue = {"number": created.number, "html_url": created.html_url} if created is not None else None
    return RepairOutcome(
        status="planned" if session.dry_run else "escalated", issue=issue, planned_calls=session.planned_calls
    )


def rerun_failed_jobs(session: RepairSession) -> RepairOutcome:
    run_id = int(session.incident.get("metadata", {}).get("run_id"))
    client = session.client
    session.write(
        "POST",
        f"/repos/{session.repository}/actions/runs/{run_id}/rerun-failed-jobs",
        "re-run the failed jobs",
        (lambda: client.rerun_failed_jobs(session.repository, run_id)) if client else None,
    )
    return RepairOutcome(
        status="planned" if session.dry_run else "done",
        run_id=run_id,
        changes_made=[{"type": "rerun", "run_id": run_id}],
        planned_calls=session.planned_calls,
    )


def open_fix_pull_request(session: RepairSession) -> RepairOutcome:
    """Add the missing package on `mlops-bot/<incident>` and open (or update) one pull request."""
    from mlops_bot.healing.dependency_files import (
        DEPENDENCY_FILE_CANDIDATES,
        add_dependency,
        canonical_name,
        choose_dependency_file,
        declared_packages,
    )

    client = session.client
    if client is None:
        session.plan = session.plan.model_copy(update={"reason": "no GitHub access to read the repository"})
        return open_issue(session)
    package = str(session.plan.details["package"])
    ecosystem = str(session.plan.details.get("ecosystem", "python"))
    repository = session.repository
    info = client.get_repository(repository)
    base = info.default_branch
    branch = f"{client.bot_branch_prefix}{session.incident['id']}"
    branch_sha = client.get_branch_sha(repository, branch)
    # Later rounds (and a retried step) build on the bot's branch, so earlier fixes are kept.
    read_ref = branch if branch_sha else base
    existing: dict[str, str] = {}
    for candidate in DEPENDENCY_FILE_CANDIDATES:
        found = client.get_file(repository, candidate, ref=read_ref)
        if found is not None:
            existing[candidate] = found.text
    chosen = choose_dependency_file(existing, "node" if ecosystem == "node" else "python")
    on_branch = bool(branch_sha and chosen and canonical_name(package) in declared_packages(chosen, existing[chosen]))
    edit = None if on_branch or not chosen else add_dependency(chosen, existing[chosen], package, others=existing)
    if edit is None and not on_branch:
        if chosen is None:
            reason = f"no dependency file found for {ecosystem}"
        elif canonical_name(package) in declared_packages(chosen, existing[chosen]):
            reason = f"{package} is already declared in {chosen}; the environment does not install it"
        else:
            reason = f"{chosen} cannot be edited safely (hash-locked, dynamic or unrecognised layout)"
        session.plan = session.plan.model_copy(update={"reason": reason})
        return open_issue(session)

    title = f"Add missing dependency {package}"
    module = session.plan.details.get("module") or package
    if edit is not None:
        body = (
            f"CI failed because `{module}` could not be imported (incident `{session.incident['id']}`).\n\n"
            f"This adds `{edit.added_line.strip()}` to `{edit.path}`.\n\n"
            f"```diff\n{edit.diff}\n```\n\nOpened by mlops-bot; it will not merge this pull request."
        )
        change = {"type": "file_modified", "path": edit.path, "added": edit.added_line.strip(), "diff": edit.diff}
    else:
        body = (
            f"CI failed because `{module}` could not be imported (incident `{session.incident['id']}`); "
            f"`{package}` is declared in `{chosen}` on this branch.\n\nOpened by mlops-bot; it will not merge "
            "this pull request."
        )
        change = {"type": "file_already_updated", "path": str(chosen), "added": package}
    if branch_sha is None:
        base_sha = client.get_branch_sha(repository, base)
        session.write(
            "POST",
            f"/repos/{repository}/git/refs",
            f"create branch {branch}",
            lambda: client.create_branch(repository, branch, str(base_sha)),
            {"from": base},
        )
    if edit is not None:
        current = client.get_file(repository, edit.path, ref=branch) if branch_sha else None
        file_sha = current.sha if current else existing_sha(client, repository, edit.path, base)
        session.write(
            "PUT",
            f"/repos/{repository}/contents/{edit.path}",
            f"add {package} to {edit.path}",
            lambda: client.put_file(repository, edit.path, edit.new_content, title, branch, file_sha),
            {"branch": branch, "diff": edit.diff},
        )
    open_pr = client.find_open_pull_request(repository, branch)
    if open_pr is not None:
        session.write(
            "PATCH",
            f"/repos/{repository}/pulls/{open_pr.number}",
            "update the fix pull request",
            lambda: client.update_pull_request(repository, open_pr.number, title=title, body=body),
        )
        pr: dict[str, Any] | None = {"number": open_pr.number, "html_url": open_pr.html_url, "branch": branch}
    else:
        created = session.write(
            "POST",
            f"/repos/{repository}/pulls",
            title,
            lambda: client.create_pull_request(repository, branch, base, title, body),
            {"head": branch, "base": base},
        )
        pr = {"number": created.number, "html_url": created.html_url, "branch": branch} if created else None
    return RepairOutcome(
        status="planned" if session.dry_run else "done",
        changes_made=[change],
        pull_request=pr,
        branch=branch,
        planned_calls=session.planned_calls,
    )


def existing_sha(client: GitHubClient, repository: str, path: str, ref: str) -> str | None:
    try:
        found = client.get_file(repository, path, ref=ref)
    except GitHubNotFound:
        return None
    return found.sha if found else None


def dispatch_retrain(session: RepairSession) -> RepairOutcome:
    client = session.client
    workflow = str(session.plan.details["workflow"])
    inputs = {k: str(v) for k, v in (session.incident.get("metadata", {}).get("drift_inputs") or {}).items()}
    ref = str(session.incident.get("metadata", {}).get("ref") or "main")
    session.write(
        "POST",
        f"/repos/{session.repository}/actions/workflows/{workflow}/dispatches",
        f"dispatch {workflow} on {ref}",
        (lambda: client.dispatch_workflow(session.repository, workflow, ref, inputs)) if client else None,
        {"inputs": inputs},
    )
    return RepairOutcome(
        status="planned" if session.dry_run else "done",
        changes_made=[{"type": "workflow_dispatch", "workflow": workflow, "ref": ref}],
        planned_calls=session.planned_calls,
    )


def rollback_deployment(session: RepairSession) -> RepairOutcome:
    client = session.client
    ref = str(session.plan.details["ref"])
    environment = str(session.incident.get("metadata", {}).get("environment") or "production")
    description = f"mlops-bot rollback for incident {session.incident['id']}"
    session.write(
        "POST",
        f"/repos/{session.repository}/deployments",
        f"deploy {ref} to {environment}",
        (lambda: client.create_deployment(session.repository, ref, environment, description)) if client else None,
        {"ref": ref, "environment": environment},
    )
    return RepairOutcome(
        status="planned" if session.dry_run else "done",
        changes_made=[{"type": "rollback", "ref": ref, "environment": environment}],
        planned_calls=session.planned_calls,
    )


REPAIRS: dict[str, Callable[[RepairSession], RepairOutcome]] = {
    "open_fix_pr": open_fix_pull_request,
    "rerun_failed_jobs": rerun_failed_jobs,
    "open_issue": open_issue,
    "dispatch_retrain": dispatch_retrain,
    "rollback_deployment": rollback_deployment,
}
