"""The messages the bot's queues carry: one model per message, shared by producers and consumers.

The bottom of the import graph: it imports pydantic and GitHub's naming rules only, so the ingress,
the detector, the healer, the scheduler and the management API all name the same shape. GitHub's
payload parts ignore fields they do not name, so a new GitHub field never breaks a message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# GitHub's naming rules for repositories: a pure module (standard library and pydantic only).
from mlops_bot.repository_names import RepositoryFullName

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
    run_started_at: Name | None = None


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
    merged_at: Name | None = None
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


class HealingReason(StrEnum):
    DETECTED = "detected"  # the detector (or a posted signal) opened the incident
    MANUAL = "manual"  # an operator asked through the management API
    SWEEP = "sweep"  # the scheduler found an incident whose healing was never requested


class HealingRequest(BaseModel):
    """What the healer's queue carries: which incident to heal, why, and the request's own id.

    `request_id` names the playbook execution, so a request SQS delivers twice, or one the detector
    re-sends after a crash, starts one execution.
    """

    model_config = ConfigDict(extra="ignore")

    tenant_id: str = Field(min_length=1, max_length=128)
    incident_id: str = Field(min_length=1, max_length=200)
    reason: HealingReason = HealingReason.DETECTED
    action: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, max_length=100)
    force: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)  # a manual request's, into the execution input
    correlation_id: str | None = Field(default=None, max_length=200)  # the delivery that started it all

    def attributes(self) -> dict[str, str]:
        """The SQS message attributes every producer sets."""
        return {"tenant_id": self.tenant_id}


class MessageQueue(Protocol):
    """Where a producer sends a message (an SQS queue, or a list in a unit test)."""

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str: ...


# Constants about GitHub runs every consumer of these messages agrees on.
BOT_BRANCH_PREFIX = "mlops-bot/"  # the bot's own branches: never healed, and where fixes are proven
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})  # a run that opens an incident
# A run whose tests ran and failed: what the flaky-test history learns from. A `startup_failure`
# opens an incident but ran no test, so it says nothing about any test's flakiness.
TEST_FAILED_CONCLUSIONS = FAILED_CONCLUSIONS - {"startup_failure"}
PASSED_CONCLUSIONS = frozenset({"success"})  # a run that passed
