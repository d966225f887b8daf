"""Carrying out a repair plan on GitHub — or, in dry run, recording exactly what would be done.

Every write goes through `RepairSession.write`: it is audited (who, what, why, result) whether it
is made or only planned. Branch safety lives in the GitHub adapter (bot branches only, never the
default or a protected branch, never force, no merge at all).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlops_bot.adapters.github import GitHubClient, GitHubNotFound
from mlops_bot.adapters.pypi import PyPIClient, PyPIError
from mlops_bot.healing import audit
from mlops_bot.healing.planner import RepairPlan
from mlops_bot.stores.audit import AuditLog
from mlops_bot.stores.flaky_history import FlakyHistory
from mlops_bot.stores.incidents import Incident

if TYPE_CHECKING:
    from mlops_bot.healing.dependency_files import DependencyEdit
    from mlops_bot.healing.dependency_files.flaky_markers import NodeId

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
    audit_log: AuditLog  # every write made or planned gets its record here
    flaky_history: FlakyHistory  # where the flaky tests' rates are read
    client: GitHubClient | None
    dry_run: bool
    tenant_id: str
    incident: Incident
    playbook: str
    plan: RepairPlan
    installation_id: int | None = None
    flake_window_days: int = 14  # the deployment's MLOPS_BOT_FLAKE_WINDOW_DAYS, for the flaky rates it reports
    planned_calls: list[dict[str, Any]] = field(default_factory=list)
    pypi: Callable[[], PyPIClient] = PyPIClient  # PyPI's JSON API (MLOPS_BOT_PYPI_URL), read only

    @property
    def repository(self) -> str:
        return self.incident.repository

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
            self.audit_log,
            audit.AuditRecord(
                tenant_id=self.tenant_id,
                installation_id=self.installation_id,
                repository=self.repository,
                method=method,
                path=path,
                summary=summary,
                incident_id=self.incident.id,
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

    rates = flake_rates(
        session.flaky_history, session.tenant_id, session.repository, utc_now(), window_days=session.flake_window_days
    )
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


def _issue_body(incident: Incident, plan: RepairPlan) -> str:
    diagnosis = incident.diagnosis or {}
    metadata = incident.metadata
    lines = [
        f"mlops-bot detected a failure it will not fix automatically ({plan.reason or plan.rule}).",
        "",
        f"- Workflow: {metadata.get('workflow_name')} — run {metadata.get('html_url') or metadata.get('run_id')}",
        f"- Branch / commit: {metadata.get('head_branch')} @ {str(metadata.get('head_sha') or '')[:12]}",
        f"- Diagnosis: `{diagnosis.get('category', 'unknown')}` / `{diagnosis.get('kind', 'unknown')}`"
        f" (confidence {diagnosis.get('confidence', 0)})",
        f"- Incident: `{incident.id}`",
    ]
    details = diagnosis.get("details") or {}
    if details:
        lines += ["", "Details:", *[f"- {k}: {v}" for k, v in details.items()]]
    evidence = diagnosis.get("evidence") or []
    if evidence:
        lines += ["", "Evidence:", "```", *[f"{e.get('line')}: {e.get('text')}" for e in evidence[:20]], "```"]
    return "\n".join(lines)


def open_issue(session: RepairSession, *, title: str | None = None) -> RepairOutcome:
    """Open the incident's issue, or comment on the open one with the same title.

    `title` names an issue that is not the incident's own (one per repair claim: every incident
    with the same rejected repair finds it)."""
    incident, client = session.incident, session.client
    body = _issue_body(incident, session.plan)
    if title is None and session.playbook == "flaky_test_response":
        title = f"[mlops-bot] Flaky tests in {session.repository}"
        body = "\n".join([body, *_flaky_section(session)])
    title = title or f"[mlops-bot] {incident.description} ({incident.id})"
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
    run_id = int(session.incident.metadata["run_id"])
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


@dataclass(frozen=True)
class _FixBranch:
    """Where a fix pull request lives: `mlops-bot/<incident>`, read from itself once it exists."""

    repository: str
    base: str
    name: str
    sha: str | None

    @property
    def read_ref(self) -> str:
        # Later rounds (and a retried step) build on the bot's branch, so earlier fixes are kept.
        return self.name if self.sha else self.base


def _fix_branch(session: RepairSession, client: GitHubClient) -> _FixBranch:
    repository = session.repository
    base = client.get_repository(repository).default_branch
    name = f"{client.bot_branch_prefix}{session.incident.id}"
    return _FixBranch(repository, base, name, client.get_branch_sha(repository, name))


def _escalate(session: RepairSession, reason: str) -> RepairOutcome:
    session.plan = session.plan.model_copy(update={"reason": reason})
    return open_issue(session)


def _propose(
    session: RepairSession,
    client: GitHubClient,
    branch: _FixBranch,
    edits: list[DependencyEdit],
    title: str,
    body: str,
    changes: list[dict[str, Any]],
) -> RepairOutcome:
    """Commit the edits on the bot branch and open (or update) its one pull request, every write audited."""
    repository = branch.repository
    if branch.sha is None:
        base_sha = client.get_branch_sha(repository, branch.base)
        session.write(
            "POST",
            f"/repos/{repository}/git/refs",
            f"create branch {branch.name}",
            lambda: client.create_branch(repository, branch.name, str(base_sha)),
            {"from": branch.base},
        )
    for edit in edits:
        current = client.get_file(repository, edit.path, ref=branch.name) if branch.sha else None
        file_sha = current.sha if current else existing_sha(client, repository, edit.path, branch.base)
        session.write(
            "PUT",
            f"/repos/{repository}/contents/{edit.path}",
            f"edit {edit.path}: {edit.added_line}"[:200],
            lambda edit=edit, file_sha=file_sha: client.put_file(  # type: ignore[misc]
                repository, edit.path, edit.new_content, title, branch.name, file_sha
            ),
            {"branch": branch.name, "diff": edit.diff},
        )
    body = f"{body}\n\nOpened by mlops-bot; it will not merge this pull request."
    open_pr = client.find_open_pull_request(repository, branch.name)
    if open_pr is not None:
        session.write(
            "PATCH",
            f"/repos/{repository}/pulls/{open_pr.number}",
            "update the fix pull request",
            lambda: client.update_pull_request(repository, open_pr.number, title=title, body=body),
        )
        pr: dict[str, Any] | None = {"number": open_pr.number, "html_url": open_pr.html_url, "branch": branch.name}
    else:
        created = session.write(
            "POST",
            f"/repos/{repository}/pulls",
            title,
            lambda: client.create_pull_request(repository, branch.name, branch.base, title, body),
            {"head": branch.name, "base": branch.base, "body": body},
        )
        pr = {"number": created.number, "html_url": created.html_url, "branch": branch.name} if created else None
    return RepairOutcome(
        status="planned" if session.dry_run else "done",
        changes_made=changes,
        pull_request=pr,
        branch=branch.name,
        planned_calls=session.planned_calls,
    )


def _diff_block(edits: list[DependencyEdit]) -> str:
    return "\n".join(f"```diff\n{e.diff}```" for e in edits)


def _runner_pythons(session: RepairSession, client: GitHubClient, branch: _FixBranch) -> list[str]:
    """The runner's Python: the diagnosis's when it read one, else what the workflow's setup-python installs."""
    from mlops_bot.healing.dependency_files.workflow import python_versions

    if session.plan.details.get("python_version"):
        return [str(session.plan.details["python_version"])]
    path = _workflow_path(session)
    found = client.get_file(branch.repository, path, ref=branch.read_ref) if path else None
    job = session.incident.metadata.get("job_name")
    return python_versions(found.text, job) if found else []


def _pythons_text(pythons: list[str]) -> str:
    return "Python " + ", ".join(pythons) if pythons else "any Python (the runner's is unknown)"


def _pinned_version(
    session: RepairSession, package: str, path: str, content: str, pythons: list[str]
) -> tuple[str | None, str]:
    """The version to pin a new requirement to when the file pins everything, and why (empty: unpinned)."""
    from mlops_bot.healing.dependency_files import pinned_file
    from mlops_bot.healing.dependency_files.pins import installable, newest

    if not pinned_file(path, content):
        return None, ""
    try:
        with session.pypi() as pypi:
            project = pypi.project(package)
    except PyPIError as exc:
        return (
            None,
            f"`{path}` pins every requirement, but PyPI did not answer for `{package}` ({exc}): "
            "added unpinned; pin it once CI passes.",
        )
    version = newest(installable(project.releases, pythons))
    if version is None:
        return None, f"`{path}` pins every requirement, but PyPI lists no installable release of `{package}`."
    return version, (
        f"`{path}` pins every requirement with `==`, so this pins `{package}` too: {version} is the newest "
        f"release on PyPI that is not yanked or a pre-release and whose `requires_python` admits "
        f"{_pythons_text(pythons)}."
    )


LOCK_FILES: dict[str, str] = {
    "poetry.lock": "poetry lock",
    "uv.lock": "uv lock",
    "Pipfile.lock": "pipenv lock",
    "conda-lock.yml": "conda-lock lock -f environment.yml",
    "pdm.lock": "pdm lock",
}


def _lock_files(client: GitHubClient, branch: _FixBranch, edited: str) -> list[str]:
    folder = posixpath.dirname(edited)
    return [
        posixpath.join(folder, lock)
        for lock in LOCK_FILES
        if client.get_file(branch.repository, posixpath.join(folder, lock), ref=branch.read_ref) is not None
    ]


def _lock_text(session: RepairSession, branch: _FixBranch, locks: list[str]) -> str:
    """What the pull request says about lock files beside the edited file."""
    if not locks:
        return ""
    workflow = session.plan.details.get("lock_refresh_workflow")
    if workflow:
        return (
            f"\n\n`{', '.join(locks)}` sits beside the edited file: the repository's lock-refresh workflow "
            f"`{workflow}` is dispatched on `{branch.name}` to update it; the verification run decides."
        )
    commands = [f"- `{lock}`: run `{LOCK_FILES[posixpath.basename(lock)]}` and commit the result" for lock in locks]
    return (
        "\n\nA lock file sits beside the edited file and must be refreshed on this branch before it installs:\n"
        + "\n".join(commands)
    )


def _refresh_locks(
    session: RepairSession, client: GitHubClient, branch: _FixBranch, locks: list[str]
) -> list[dict[str, Any]]:
    """Dispatch the configured lock-refresh workflow onto the fix branch (after the edit is committed)."""
    workflow = session.plan.details.get("lock_refresh_workflow")
    if not locks or not workflow:
        return []
    session.write(
        "POST",
        f"/repos/{branch.repository}/actions/workflows/{workflow}/dispatches",
        f"dispatch {workflow} on {branch.name} to refresh {', '.join(locks)}",
        lambda: client.dispatch_workflow(branch.repository, str(workflow), branch.name, {}),
        {"ref": branch.name},
    )
    return [{"type": "workflow_dispatch", "workflow": str(workflow), "ref": branch.name}]


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
        return _escalate(session, "no GitHub access to read the repository")
    package = str(session.plan.details["package"])
    ecosystem = str(session.plan.details.get("ecosystem", "python"))
    branch = _fix_branch(session, client)
    existing: dict[str, str] = {}
    for candidate in DEPENDENCY_FILE_CANDIDATES:
        found = client.get_file(branch.repository, candidate, ref=branch.read_ref)
        if found is not None:
            existing[candidate] = found.text
    chosen = choose_dependency_file(existing, "node" if ecosystem == "node" else "python")
    on_branch = bool(branch.sha and chosen and canonical_name(package) in declared_packages(chosen, existing[chosen]))
    version, why = (None, "")
    if chosen and not on_branch and ecosystem != "node":
        version, why = _pinned_version(
            session, package, chosen, existing[chosen], _runner_pythons(session, client, branch)
        )
    edit = (
        None
        if on_branch or not chosen
        else add_dependency(chosen, existing[chosen], package, f"=={version}" if version else None, others=existing)
    )
    if edit is None and not on_branch:
        if chosen is None:
            reason = f"no dependency file found for {ecosystem}"
        elif canonical_name(package) in declared_packages(chosen, existing[chosen]):
            reason = f"{package} is already declared in {chosen}; the environment does not install it"
        else:
            reason = f"{chosen} cannot be edited safely (hash-locked, dynamic or unrecognised layout)"
        return _escalate(session, reason)

    title = f"Add missing dependency {package}"
    module = session.plan.details.get("module") or package
    if edit is not None:
        body = (
            f"CI failed because `{module}` could not be imported (incident `{session.incident.id}`).\n\n"
            f"This adds `{edit.added_line.strip()}` to `{edit.path}`.\n\n```diff\n{edit.diff}\n```"
        )
        if why:
            body += f"\n\nWhy this version: {why}"
        if edit.note:
            body += f"\n\nNote: {edit.note}"
        changes: list[dict[str, Any]] = [
            {"type": "file_modified", "path": edit.path, "added": edit.added_line.strip(), "diff": edit.diff}
        ]
        locks = _lock_files(client, branch, edit.path)
    else:
        body = (
            f"CI failed because `{module}` could not be imported (incident `{session.incident.id}`); "
            f"`{package}` is declared in `{chosen}` on this branch."
        )
        changes = [{"type": "file_already_updated", "path": str(chosen), "added": package}]
        locks = []
    body += _lock_text(session, branch, locks)
    outcome = _propose(session, client, branch, [edit] if edit else [], title, body, changes)
    outcome.changes_made += _refresh_locks(session, client, branch, locks)
    return outcome


def _workflow_path(session: RepairSession) -> str | None:
    path = session.incident.metadata.get("workflow_path")
    return str(path) if path and str(path).startswith(".github/workflows/") else None


def fix_version_pin(session: RepairSession) -> RepairOutcome:
    """Move an exact pin to a version that exists for the runner's Python, in every file that holds it."""
    from mlops_bot.healing.dependency_files import DEPENDENCY_FILE_CANDIDATES
    from mlops_bot.healing.dependency_files.pins import installable, move_pin, nearest_version

    client = session.client
    if client is None:
        return _escalate(session, "no GitHub access to read the repository")
    details = session.plan.details
    package, old = str(details["package"]), str(details["version"])
    listed = [str(v) for v in details.get("available_versions") or []]
    new = nearest_version(old, listed)
    source = "the versions pip listed in the failing log (those available for the runner's Python)"
    branch = _fix_branch(session, client)
    if new is None:
        pythons = _runner_pythons(session, client, branch)
        try:
            with session.pypi() as pypi:
                new = nearest_version(old, installable(pypi.project(package).releases, pythons))
        except PyPIError as exc:
            return _escalate(session, f"no version of {package} to move the pin to: PyPI did not answer ({exc})")
        source = f"PyPI's releases of the project that support {_pythons_text(pythons)}"
    if new is None or new == old:
        return _escalate(session, f"no installable version of {package} near {old} to move the pin to")
    paths = [*DEPENDENCY_FILE_CANDIDATES, "requirements-test.txt", "requirements/test.txt"]
    if (workflow := _workflow_path(session)) is not None:
        paths.append(workflow)
    edits: list[DependencyEdit] = []
    for path in dict.fromkeys(paths):
        found = client.get_file(branch.repository, path, ref=branch.read_ref)
        if found is not None and (edit := move_pin(path, found.text, package, old, new)) is not None:
            edits.append(edit)
    if not edits:
        return _escalate(session, f"the pin {package}=={old} was not found once in any dependency or workflow file")
    title = f"Move the {package} pin from {old} to {new}"
    body = (
        f"CI failed because `{package}=={old}` cannot be installed (incident `{session.incident.id}`): "
        f"no such version exists for the runner's Python.\n\n"
        f"Why {new}: the nearest version to {old} (the newest at or below it, else the oldest above it) among "
        f"{source}. The line keeps its file's style.\n\n{_diff_block(edits)}"
    )
    changes = [{"type": "file_modified", "path": e.path, "pin": f"{package}=={new}", "diff": e.diff} for e in edits]
    return _propose(session, client, branch, edits, title, body, changes)


def _timed_out_job(session: RepairSession, client: GitHubClient, workflow: str, minutes: int) -> str | None:
    """Which of several jobs with the same limit ran out of time: the run's jobs that did not finish."""
    from mlops_bot.healing.dependency_files import workflow as workflow_file

    run_id = session.incident.metadata.get("run_id")
    if not run_id:
        return None
    stopped = [
        j.name
        for j in client.list_run_jobs(session.repository, int(run_id))
        if j.conclusion in {"failure", "cancelled", "timed_out"}
    ]
    candidates = set(workflow_file.jobs_with_timeout(workflow, minutes))
    named = [j for j in workflow_file.job_ids_named(workflow, stopped) if j in candidates]
    return named[0] if len(named) == 1 else None


def raise_job_timeout(session: RepairSession) -> RepairOutcome:
    """Double the `timeout-minutes` of the job that ran out of time (capped at GitHub's 360)."""
    from mlops_bot.healing.dependency_files import workflow as workflow_file

    client = session.client
    if client is None:
        return _escalate(session, "no GitHub access to read the workflow")
    path = _workflow_path(session)
    if path is None:
        return _escalate(session, "the failed run does not name its workflow file")
    minutes, raise_to = int(session.plan.details["minutes"]), int(session.plan.details["raise_to"])
    branch = _fix_branch(session, client)
    found = client.get_file(branch.repository, path, ref=branch.read_ref)
    job = session.incident.metadata.get("job_name")
    if found is not None and job is None and len(workflow_file.jobs_with_timeout(found.text, minutes)) > 1:
        job = _timed_out_job(session, client, found.text, minutes)
    edit = (
        workflow_file.raise_job_timeout(path, found.text, minutes=minutes, raise_to=raise_to, job=job)
        if found
        else None
    )
    if edit is None:
        return _escalate(
            session,
            f"no single job in {path} sets timeout-minutes: {minutes} (or the file cannot be edited safely)",
        )
    jobs = workflow_file.jobs_with_timeout(found.text if found else "", minutes)
    named = job if job in jobs else jobs[0]
    title = f"Raise timeout-minutes of job {named} from {minutes} to {raise_to}"
    body = (
        f"The job `{named}` in `{path}` was stopped by its own `timeout-minutes: {minutes}` "
        f"(incident `{session.incident.id}`). This doubles it to {raise_to} minutes "
        f"(never past GitHub's {workflow_file.GITHUB_MAX_JOB_MINUTES}); if the job keeps growing, "
        f"it may be worth splitting or caching.\n\n{_diff_block([edit])}"
    )
    changes = [{"type": "file_modified", "path": path, "timeout_minutes": raise_to, "diff": edit.diff}]
    return _propose(session, client, branch, [edit], title, body, changes)


def _test_files(session: RepairSession, client: GitHubClient, branch: _FixBranch) -> dict[str, str]:
    from mlops_bot.healing.dependency_files import DEPENDENCY_FILE_CANDIDATES, TEST_REQUIREMENT_FILES

    existing: dict[str, str] = {}
    for path in dict.fromkeys((*TEST_REQUIREMENT_FILES, *DEPENDENCY_FILE_CANDIDATES)):
        found = client.get_file(branch.repository, path, ref=branch.read_ref)
        if found is not None:
            existing[path] = found.text
    return existing


def _marker_edits(
    client: GitHubClient,
    branch: _FixBranch,
    tests: list[str],
    edit: Callable[[str, str, list[NodeId]], DependencyEdit | None],
) -> list[DependencyEdit]:
    from mlops_bot.healing.dependency_files.flaky_markers import NodeId

    by_file: dict[str, list[NodeId]] = {}
    for test in tests:
        if (node := NodeId.parse(test)) is not None:
            by_file.setdefault(node.path, []).append(node)
    edits: list[DependencyEdit] = []
    for path, nodes in by_file.items():
        found = client.get_file(branch.repository, path, ref=branch.read_ref)
        if found is not None and (made := edit(path, found.text, nodes)) is not None:
            edits.append(made)
    return edits


def quarantine_flaky_tests(session: RepairSession) -> RepairOutcome:
    """Today's flaky-tests issue, plus a pull request marking the tests for reruns.

    The repository's own mechanism when it has one (pytest-rerunfailures, or the `flaky` package's
    `@flaky(max_runs=N)`), else `@pytest.mark.flaky(reruns=N)` with pytest-rerunfailures added to
    the test dependencies.
    """
    from mlops_bot.healing.dependency_files import add_test_dependency, test_dependency_declared
    from mlops_bot.healing.dependency_files.flaky_markers import FLAKY, RERUNFAILURES, mark_flaky

    issue = open_issue(session)
    client = session.client
    if client is None:
        return issue
    tests = [str(t) for t in session.plan.details.get("tests") or []]
    reruns = int(session.plan.details.get("reruns", 3))
    branch = _fix_branch(session, client)
    existing = _test_files(session, client, branch)
    has_rerunfailures = test_dependency_declared(existing, RERUNFAILURES.plugin) is not None
    uses_flaky = not has_rerunfailures and test_dependency_declared(existing, FLAKY.plugin) is not None
    mechanism = FLAKY if uses_flaky else RERUNFAILURES
    edits = _marker_edits(
        client, branch, tests, lambda path, text, nodes: mark_flaky(path, text, nodes, reruns, mechanism)
    )
    if not edits:
        return issue  # the tests are not found, or already marked: the issue says what is flaky
    names = [e.added_line.split(" on ", 1)[-1] for e in edits]
    plugin_note = f"`{mechanism.plugin}` is already a test dependency of the repository."
    if not (has_rerunfailures or uses_flaky):
        dependency = add_test_dependency(existing, RERUNFAILURES.plugin)
        if dependency is None:
            return issue  # no test dependency list to add the plugin to: the marker alone would do nothing
        edits.append(dependency)
        plugin_note = f"Adds `{RERUNFAILURES.plugin}` (which provides the marker) to `{dependency.path}`."
    title = f"Quarantine flaky tests: {', '.join(names)}"[:250]
    body = (
        f"These tests failed and then passed on the same commit (incident `{session.incident.id}`): "
        f"they are marked `{mechanism.marker(reruns)}` so a flake no longer fails CI, while the "
        f"issue tracks them. {plugin_note}\n\nThe markers come off again (a pull request by mlops-bot) once "
        f"the tests have had no flaky pass for the flake window.\n\n{_diff_block(edits)}"
    )
    changes: list[dict[str, Any]] = [
        {"type": "quarantine", "tests": tests, "reruns": reruns, "mechanism": mechanism.plugin}
    ]
    changes += [{"type": "file_modified", "path": e.path, "diff": e.diff} for e in edits]
    outcome = _propose(session, client, branch, edits, title, body, changes)
    outcome.issue = issue.issue
    return outcome


def release_flaky_tests(session: RepairSession) -> RepairOutcome:
    """Take the quarantine markers off tests that have been stable for the flake window."""
    from mlops_bot.healing.dependency_files.flaky_markers import unmark_flaky

    client = session.client
    if client is None:
        return _escalate(session, "no GitHub access to read the tests")
    tests = [str(t) for t in session.plan.details.get("tests") or []]
    branch = _fix_branch(session, client)
    edits = _marker_edits(client, branch, tests, unmark_flaky)
    if not edits:
        return _escalate(session, "the quarantined tests carry no one-line flaky marker to remove")
    title = "Release quarantined tests that are stable again"
    body = (
        f"These tests have had no flaky pass for the flake window (incident `{session.incident.id}`): "
        f"their `@pytest.mark.flaky` markers are removed.\n\n{_diff_block(edits)}"
    )
    changes = [{"type": "file_modified", "path": e.path, "diff": e.diff} for e in edits]
    return _propose(session, client, branch, edits, title, body, changes)


def existing_sha(client: GitHubClient, repository: str, path: str, ref: str) -> str | None:
    try:
        found = client.get_file(repository, path, ref=ref)
    except GitHubNotFound:
        return None
    return found.sha if found else None


def dispatch_retrain(session: RepairSession) -> RepairOutcome:
    client = session.client
    workflow = str(session.plan.details["workflow"])
    inputs = {k: str(v) for k, v in (session.incident.metadata.get("drift_inputs") or {}).items()}
    ref = str(session.plan.details.get("ref") or session.incident.metadata.get("ref") or "main")
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
    environment = str(
        session.plan.details.get("environment") or session.incident.metadata.get("environment") or "production"
    )
    description = f"mlops-bot rollback for incident {session.incident.id}"
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
    "fix_version_pin": fix_version_pin,
    "raise_job_timeout": raise_job_timeout,
    "quarantine_flaky_tests": quarantine_flaky_tests,
    "release_flaky_tests": release_flaky_tests,
    "rerun_failed_jobs": rerun_failed_jobs,
    "open_issue": open_issue,
    "dispatch_retrain": dispatch_retrain,
    "rollback_deployment": rollback_deployment,
}
