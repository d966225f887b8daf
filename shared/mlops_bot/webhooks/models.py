"""The parts of GitHub's webhook payloads the bot reads, and the message it queues.

GitHub's payloads are large and grow new fields; the models ignore what they do not name, so a
new field never breaks admission, while a payload missing what the bot relies on is rejected.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_bot.repository_names import RepositoryFullName

HANDLED_EVENTS = frozenset(
    {
        "workflow_run",
        "workflow_job",
        "check_run",
        "push",
        "pull_request",
        "issues",
        "deployment",
        "deployment_status",
        "installation",
        "installation_repositories",
        "ping",
    }
)


# GitHub's numeric ids (installations, runs, jobs, ...) fit a signed 64-bit integer; a larger one
# is refused at the ingress (400) instead of failing later as a message nobody can process.
GitHubId = Annotated[int, Field(ge=0, le=2**63 - 1)]
# What the bot reads of free text is bounded, so that a queued event stays far below SQS's 256 KiB.
Name = Annotated[str, StringConstraints(max_length=1024)]
Url = Annotated[str, StringConstraints(max_length=4096)]
Text = Annotated[str, StringConstraints(max_length=65536)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class Owner(_Lenient):
    login: Name


class Repository(_Lenient):
    id: GitHubId | None = None
    full_name: RepositoryFullName
    name: Name | None = None
    default_branch: Name | None = None
    private: bool | None = None


class Installation(_Lenient):
    id: GitHubId


class Sender(_Lenient):
    login: Name


class WorkflowRun(_Lenient):
    id: GitHubId
    name: Name | None = None
    head_branch: Name | None = None
    head_sha: Name | None = None
    status: Name | None = None
    conclusion: Name | None = None
    run_attempt: GitHubId | None = None
    run_number: GitHubId | None = None
    event: Name | None = None
    workflow_id: GitHubId | None = None
    path: Url | None = None
    html_url: Url | None = None
    logs_url: Url | None = None
    created_at: Name | None = None
    updated_at: Name | None = None


class WorkflowJob(_Lenient):
    id: GitHubId
    run_id: GitHubId
    name: Name | None = None
    conclusion: Name | None = None
    status: Name | None = None
    head_sha: Name | None = None
    head_branch: Name | None = None
    run_attempt: GitHubId | None = None


class CheckRun(_Lenient):
    id: GitHubId
    name: Name | None = None
    head_sha: Name | None = None
    status: Name | None = None
    conclusion: Name | None = None


class PullRequest(_Lenient):
    number: GitHubId
    state: Name | None = None
    title: Name | None = None
    merged: bool | None = None
    head: dict[str, Any] = Field(default_factory=dict)
    base: dict[str, Any] = Field(default_factory=dict)
    html_url: Url | None = None


class Issue(_Lenient):
    number: GitHubId
    title: Name | None = None
    state: Name | None = None


class Deployment(_Lenient):
    id: GitHubId
    ref: Name | None = None
    sha: Name | None = None
    environment: Name | None = None
    description: Text | None = None


class DeploymentStatus(_Lenient):
    id: GitHubId | None = None
    state: Name
    description: Text | None = None
    environment: Name | None = None


class WebhookPayload(_Lenient):
    """The envelope common to all handled events; the event-specific part is optional here."""

    action: Name | None = None
    repository: Repository | None = None
    installation: Installation | None = None
    sender: Sender | None = None
    workflow_run: WorkflowRun | None = None
    workflow_job: WorkflowJob | None = None
    check_run: CheckRun | None = None
    pull_request: PullRequest | None = None
    issue: Issue | None = None
    deployment: Deployment | None = None
    deployment_status: DeploymentStatus | None = None
    ref: Name | None = None
    before: Name | None = None
    after: Name | None = None
    zen: Text | None = None
    hook_id: GitHubId | None = None


# Which part of the payload an event must carry to be useful.
REQUIRED_PART: dict[str, str] = {
    "workflow_run": "workflow_run",
    "workflow_job": "workflow_job",
    "check_run": "check_run",
    "pull_request": "pull_request",
    "issues": "issue",
    "deployment": "deployment",
    "deployment_status": "deployment_status",
}


class RepositoryEvent(BaseModel):
    """What the ingress queues for the detector: small (SQS caps messages at 256 KB) and typed."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    tenant_id: Name
    delivery_id: Name
    execution_id: Name
    event: Name
    action: Name | None = None
    received_at: Name
    repository: RepositoryFullName | None = None
    installation_id: GitHubId | None = None
    sender: Name | None = None
    workflow_run: WorkflowRun | None = None
    workflow_job: WorkflowJob | None = None
    check_run: CheckRun | None = None
    pull_request: PullRequest | None = None
    issue: Issue | None = None
    deployment: Deployment | None = None
    deployment_status: DeploymentStatus | None = None
    ref: Name | None = None
    head_commit: Name | None = None


class WebhookAcceptance(BaseModel):
    """The answer the spec gives GitHub."""

    status: Literal["accepted", "duplicate", "ignored", "pong"]
    execution_id: Name | None
    message: Name
