"""What "cluster" means for a serverless bot: the fleet that really exists, and DLQ redrive.

Status lists each Lambda function of the stack as a node (healthy when Lambda reports it Active
with a successful last update), each queue's depth and age of its oldest message, each
dead-letter queue's depth, and the playbook executions running now. There is no leader in a
serverless fleet, so `leader_node` is null. Rebalancing redrives the dead-letter queues back to
their source queues: with an SQS message move task where the endpoint has them, otherwise by
copying (receive, send, delete) — and reports what moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.fleet import Fleet, MoveTask, MoveTasksUnsupported
from mlops_bot.clock import utc_now
from mlops_bot.errors import Conflict, ServiceUnavailable, ValidationFailed

ROLES = (
    ("webhookingress", "ingress"),
    ("detector", "queue_consumer"),
    ("healer", "queue_consumer"),
    ("playbookactions", "playbook_worker"),
    ("scheduler", "scheduler"),
    ("managementapi", "api"),
)


@dataclass(frozen=True)
class QueuePair:
    role: str
    url: str
    dead_letter_url: str


@dataclass(frozen=True)
class FleetLayout:
    """What the deployment consists of, from the management function's configuration."""

    cluster_id: str
    functions: list[str]
    queues: list[QueuePair]
    state_machines: dict[str, str] = field(default_factory=dict)
    own_function: str | None = None  # the API itself: answering proves it healthy


class Node(BaseModel):
    id: str
    status: str
    role: str
    load: float | None = Field(description="Peak concurrent executions over the last minutes (CloudWatch)")
    last_heartbeat: str | None = Field(description="Latest minute with invocations, else the last deployment")
    state: str | None = None
    runtime: str | None = None
    memory_mb: int | None = None
    timeout_seconds: int | None = None
    reserved_concurrency: int | None = None


class Redrive(BaseModel):
    task_handle: str | None
    status: str
    moved: int | None
    to_move: int | None
    started_at: str | None


class DeadLetterQueue(BaseModel):
    name: str
    depth: int
    redrives: list[Redrive] = Field(default_factory=list)


class QueueStatus(BaseModel):
    name: str
    role: str
    depth: int
    in_flight: int
    delayed: int
    oldest_message_age_seconds: float | None
    dead_letter_queue: DeadLetterQueue


class ClusterStatus(BaseModel):
    cluster_id: str
    leader_node: str | None = None
    total_nodes: int
    healthy_nodes: int
    nodes: list[Node]
    queues: list[QueueStatus]
    running_executions: dict[str, int]
    total_running_executions: int
    timestamp: str


STRATEGIES: dict[str, str] = {
    "redrive_dead_letters": "Move every message of each dead-letter queue back to its source queue, "
    "where the functions process it again",
}
UNSUPPORTED_STRATEGIES: dict[str, str] = {
    "even_distribution": "there are no nodes to balance: Lambda spreads queued work over as many instances as it "
    "needs, so work cannot be distributed by hand",
}


class RebalanceRequest(BaseModel):
    """`strategy` names what to do; only the strategies in `STRATEGIES` exist, anything else is a 422."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(default="redrive_dead_letters", max_length=64)
    force: bool = False
    max_messages: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="At most this many messages per queue; when given, they are copied (a move task moves all)",
    )


class RedriveReport(BaseModel):
    queue: str
    destination: str
    method: Literal["move_task", "copy", "none"]
    messages_before: int
    moved: int | None
    status: str
    task_handle: str | None = None
    failures: list[str] = Field(default_factory=list)


class RebalanceResult(BaseModel):
    strategy: str
    description: str
    started_at: str
    redrives: list[RedriveReport]
    total_moved: int


def _role(function_name: str) -> str:
    flat = function_name.lower().replace("-", "").replace("_", "")
    return next((role for marker, role in ROLES if marker in flat), "function")


def _node(fleet: Fleet, name: str) -> Node:
    found = fleet.function(name)
    if found is None:
        return Node(id=name, status="missing", role=_role(name), load=None, last_heartbeat=None)
    healthy = found.state == "Active" and found.last_update_status in {"Successful", ""}
    return Node(
        id=name,
        status="healthy" if healthy else "unhealthy",
        role=_role(name),
        load=found.concurrent_executions,
        last_heartbeat=found.last_invoked_at or found.last_modified,
        state=found.state,
        runtime=found.runtime,
        memory_mb=found.memory_mb,
        timeout_seconds=found.timeout_seconds,
        reserved_concurrency=found.reserved_concurrency,
    )


def _redrives(fleet: Fleet, dead_letter_arn: str) -> list[MoveTask]:
    try:
        return fleet.move_tasks(dead_letter_arn)
    except MoveTasksUnsupported:
        return []


def status(fleet: Fleet, layout: FleetLayout) -> ClusterStatus:
    nodes = [_node(fleet, name) for name in dict.fromkeys(layout.functions) if name != layout.own_function]
    if layout.own_function:
        nodes.append(
            Node(
                id=layout.own_function,
                status="healthy",
                role="api",
                load=None,
                last_heartbeat=utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    queues = []
    for pair in layout.queues:
        source = fleet.queue(pair.url)
        dead = fleet.queue(pair.dead_letter_url)
        queues.append(
            QueueStatus(
                name=source.name,
                role=pair.role,
                depth=source.visible,
                in_flight=source.in_flight,
                delayed=source.delayed,
                oldest_message_age_seconds=source.oldest_message_age_seconds,
                dead_letter_queue=DeadLetterQueue(
                    name=dead.name,
                    depth=dead.visible,
                    redrives=[
                        Redrive(
                            task_handle=t.task_handle,
                            status=t.status,
                            moved=t.moved,
                            to_move=t.to_move,
                            started_at=t.started_at,
                        )
                        for t in _redrives(fleet, dead.arn)
                    ],
                ),
            )
        )
    running = {name: fleet.running_executions(arn) for name, arn in layout.state_machines.items() if arn}
    return ClusterStatus(
        cluster_id=layout.cluster_id,
        total_nodes=len(nodes),
        healthy_nodes=sum(1 for n in nodes if n.status == "healthy"),
        nodes=nodes,
        queues=queues,
        running_executions=running,
        total_running_executions=sum(running.values()),
        timestamp=utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def check_strategy(strategy: str) -> None:
    if strategy in STRATEGIES:
        return
    why = UNSUPPORTED_STRATEGIES.get(strategy, "unknown strategy")
    raise ValidationFailed(
        "Request validation failed",
        f"strategy: '{strategy}' is not supported ({why}); supported: {', '.join(STRATEGIES)}",
        fields=[{"loc": "body.strategy", "msg": f"unsupported strategy '{strategy}'", "type": "value_error"}],
    )


def rebalance(
    fleet: Fleet, layout: FleetLayout, request: RebalanceRequest, method: Literal["auto", "move_task", "copy"]
) -> RebalanceResult:
    check_strategy(request.strategy)
    bounded = "max_messages" in request.model_fields_set  # a move task cannot stop after N messages
    if bounded and method == "move_task":
        raise ValidationFailed(
            "Request validation failed",
            "max_messages: a message move task moves every message (MLOPS_BOT_REDRIVE_STRATEGY=move_task); "
            "omit max_messages, or let the bot copy",
            fields=[{"loc": "body.max_messages", "msg": "cannot bound a move task", "type": "value_error"}],
        )
    started = utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")
    pairs = [(pair, fleet.queue(pair.url), fleet.queue(pair.dead_letter_url)) for pair in layout.queues]
    if not request.force:
        busy = [dead.name for _, _, dead in pairs if any(t.status == "RUNNING" for t in _redrives(fleet, dead.arn))]
        if busy:
            raise Conflict("Redrive already running", f"A message move task is running on {', '.join(busy)}")
    reports = []
    for pair, source, dead in pairs:
        if dead.visible == 0:
            reports.append(
                RedriveReport(
                    queue=dead.name, destination=source.name, method="none", messages_before=0, moved=0, status="empty"
                )
            )
            continue
        if method in {"auto", "move_task"} and not bounded:
            try:
                handle = fleet.start_move_task(dead.arn, source.arn)
            except MoveTasksUnsupported as exc:
                if method == "move_task":
                    raise ServiceUnavailable("Message move tasks unavailable", "This SQS endpoint has none") from exc
            else:
                reports.append(
                    RedriveReport(
                        queue=dead.name,
                        destination=source.name,
                        method="move_task",
                        messages_before=dead.visible,
                        moved=None,
                        status="RUNNING",
                        task_handle=handle,
                    )
                )
                continue
        copied = fleet.copy_messages(pair.dead_letter_url, pair.url, request.max_messages)
        reports.append(
            RedriveReport(
                queue=dead.name,
                destination=source.name,
                method="copy",
                messages_before=dead.visible,
                moved=copied.moved,
                status="COMPLETED" if not copied.failed else "PARTIAL",
                failures=copied.failed,
            )
        )
    return RebalanceResult(
        strategy=request.strategy,
        description=STRATEGIES[request.strategy],
        started_at=started,
        redrives=reports,
        total_moved=sum(r.moved or 0 for r in reports),
    )
