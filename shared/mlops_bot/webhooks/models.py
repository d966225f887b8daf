"""The parts of GitHub's webhook payloads the bot reads, and the message it queues.

GitHub's payloads are large and grow new fields; the models ignore what they do not name, so a
new field never breaks admission, while a payload missing what the bot relies on is rejected.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Owner(_Lenient):
    login: str


class Repository(_Lenient):
    id: int | None = None
    full_name: str
    name: str | None = None
    default_branch: str | None = None
    private: bool | None = None


class Installation(_Lenient):
    id: int


class Sender(_Lenient):
    login: str


class WorkflowRun(_Lenient):
    id: int
    name: str | None = None
    head_branch: str | None = None
    head_sha: str | None = None
    status: str | None = None
    conclusion: str | None = None
    run_attempt: int | None = None
    run_number: int | None = None
    event: str | None = None
    workflow_id: int | None = None
    path: str | None = None
    html_url: str | None = None
    logs_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    run_started_at: str | None = None


class WorkflowJob(_Lenient):
    id: int
    run_id: int
    name: str | None = None
    conclusion: str | None = None
    status: str | None = None
    head_sha: str | None = None
    head_branch: str | None = None
    run_attempt: int | None = None


class CheckRun(_Lenient):
    id: int
    name: str | None = None
    head_sha: str | None = None
    status: str | None = None
    conclusion: str | None = None


class PullRequest(_Lenient):
    number: int
    state: str | None = None
    title: str | None = None
    merged: bool | None = None
    head: dict[str, Any] = Field(default_factory=dict)
    base: dict[str, Any] = Field(default_factory=dict)
    html_url: str | None = None


class Issue(_Lenient):
    number: int
    title: str | None = None
    state: str | None = None


class Deployment(_Lenient):
    id: int
    ref: str | None = None
    sha: str | None = None
    environment: str | None = None
    description: str | None = None


class DeploymentStatus(_Lenient):
    id: int | None = None
    state: str
    description: str | None = None
    environment: str | None = None


class WebhookPayload(_Lenient):
    """The envelope common to all handled events; the event-specific part is optional here."""

    action: str | None = None
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
    ref: str | None = None
    before: str | None = None
    after: str | None = None
    zen: str | None = None
    hook_id: int | None = None


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
    tenant_id: str
    delivery_id: str
    execution_id: str
    event: str
    action: str | None = None
    received_at: str
    repository: str | None = None
    installation_id: int | None = None
    sender: str | None = None
    workflow_run: WorkflowRun | None = None
    workflow_job: WorkflowJob | None = None
    check_run: CheckRun | None = None
    pull_request: PullRequest | None = None
    issue: Issue | None = None
    deployment: Deployment | None = None
    deployment_status: DeploymentStatus | None = None
    ref: str | None = None
    head_commit: str | None = None


class WebhookAcceptance(BaseModel):
    """The answer the spec gives GitHub."""

    status: Literal["accepted", "duplicate", "ignored", "pong"]
    execution_id: str | None
    message: str
