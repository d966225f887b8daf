"""The parts of GitHub's webhook payloads the bot reads, and the message it queues.

GitHub's payloads are large and grow new fields; the models ignore what they do not name, so a
new field never breaks admission, while a payload missing what the bot relies on is rejected.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# The payload parts and the queued event live with the other queue messages; re-exported here.
from mlops_bot.messages import (
    CheckRun,
    Deployment,
    DeploymentStatus,
    GitHubId,
    Installation,
    Issue,
    Name,
    Owner,
    PullRequest,
    Repository,
    RepositoryEvent,
    Sender,
    Text,
    WorkflowJob,
    WorkflowRun,
)

__all__ = [
    "HANDLED_EVENTS",
    "REQUIRED_PART",
    "CheckRun",
    "Deployment",
    "DeploymentStatus",
    "GitHubId",
    "Installation",
    "Issue",
    "Name",
    "Owner",
    "PullRequest",
    "Repository",
    "RepositoryEvent",
    "Sender",
    "Text",
    "WebhookAcceptance",
    "WebhookPayload",
    "WorkflowJob",
    "WorkflowRun",
]

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
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


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


class WebhookAcceptance(BaseModel):
    """The answer the spec gives GitHub."""

    status: Literal["accepted", "duplicate", "ignored", "pong"]
    execution_id: Name | None
    message: Name
