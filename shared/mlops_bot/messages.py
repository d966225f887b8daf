"""The messages the bot's queues carry: one model per message, shared by producers and consumers.

The bottom of the import graph: it imports pydantic only, so the ingress, the detector, the healer,
the scheduler and the management API all name the same shape. GitHub's payload parts ignore fields
they do not name, so a new GitHub field never breaks a message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


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
