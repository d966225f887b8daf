"""The deployed fleet as AWS sees it: functions, queues, dead-letter redrive, running executions.

It reads Lambda, SQS, Step Functions and CloudWatch and knows nothing of what the numbers mean;
`mlops_bot.management.platform.cluster` decides that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# Answers meaning "this endpoint does not implement the call" (emulators such as moto 5.2 lack
# SQS message move tasks); anything else is a real error and propagates.
UNSUPPORTED_CODES = frozenset(
    {"500", "501", "NotImplemented", "UnsupportedOperation", "InvalidAction", "UnknownOperationException"}
)


class MoveTasksUnsupported(Exception):
    """The SQS endpoint has no message move tasks."""


@dataclass(frozen=True)
class FunctionState:
    name: str
    state: str
    last_update_status: str
    last_modified: str | None
    runtime: str | None
    memory_mb: int | None
    timeout_seconds: int | None
    reserved_concurrency: int | None
    concurrent_executions: float | None
    last_invoked_at: str | None


@dataclass(frozen=True)
class QueueState:
    url: str
    name: str
    arn: str
    visible: int
    in_flight: int
    delayed: int
    oldest_message_age_seconds: float | None
    dead_letter_arn: str | None


@dataclass(frozen=True)
class MoveTask:
    source_arn: str
    status: str
    task_handle: str | None = None
    moved: int | None = None
    to_move: int | None = None
    started_at: str | None = None
    failure_reason: str | None = None


@dataclass
class CopyResult:
    moved: int = 0
    failed: list[str] = field(default_factory=list)


def _unsupported(exc: BaseException) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in UNSUPPORTED_CODES or status == 501
    return False


def _attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"DataType": value["DataType"]}
    if "StringValue" in value:
        kept["StringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        kept["BinaryValue"] = value["BinaryValue"]
    return kept


class Fleet:
    """Read-mostly access to the stack's functions, queues and state machines."""

    def __init__(
        self,
        *,
        lambda_client: Any | None = None,
        sqs_client: Any | None = None,
        stepfunctions_client: Any | None = None,
        cloudwatch_client: Any | None = None,
    ) -> None:
        import boto3  # at the first fleet built, not at import (cold start)
        from botocore.config import Config

        self._lambda: Any = lambda_client or boto3.client("lambda")
        self._sqs: Any = sqs_client or boto3.client("sqs")
        # One attempt for move tasks: an endpoint that lacks them answers 500, which must not be retried.
        self._sqs_once: Any = sqs_client or boto3.client("sqs", config=Config(retries={"total_max_attempts": 1}))
        self._sfn: Any = stepfunctions_client or boto3.client("stepfunctions")
        self._cloudwatch: Any = cloudwatch_client or boto3.client("cloudwatch")

    # ---------------------------------------------------------------- CloudWatch
    def _latest_metric(
        self, namespace: str, metric: str, dimension: tuple[str, str], statistic: str
    ) -> tuple[float | None, datetime | None]:
        now = datetime.now(UTC)
        try:
            points = self._cloudwatch.get_metric_statistics(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
                StartTime=now - timedelta(minutes=10),
                EndTime=now,
                Period=60,
                Statistics=[statistic],
            ).get("Datapoints", [])
        except (ClientError, BotoCoreError):
            return None, None
        if not points:
            return None, None
        latest = max(points, key=lambda p: p["Timestamp"])
        return float(latest[statistic]), latest["Timestamp"]

    # ---------------------------------------------------------------- Lambda
    def function(self, name: str) -> FunctionState | None:
        try:
            config = self._lambda.get_function_configuration(FunctionName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        try:
            reserved = self._lambda.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        except ClientError:
            reserved = None
        concurrency, _ = self._latest_metric("AWS/Lambda", "ConcurrentExecutions", ("FunctionName", name), "Maximum")
        _, invoked = self._latest_metric("AWS/Lambda", "Invocations", ("FunctionName", name), "Sum")
        return FunctionState(
            name=name,
            state=str(config.get("State", "Active")),
            last_update_status=str(config.get("LastUpdateStatus", "Successful")),
            last_modified=config.get("LastModified"),
            runtime=config.get("Runtime"),
            memory_mb=config.get("MemorySize"),
            timeout_seconds=config.get("Timeout"),
            reserved_concurrency=reserved,
            concurrent_executions=concurrency,
            last_invoked_at=invoked.strftime("%Y-%m-%dT%H:%M:%SZ") if invoked else None,
        )

    # ---------------------------------------------------------------- SQS
    def queue(self, url: str) -> QueueState:
        attributes = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        name = url.rstrip("/").rsplit("/", 1)[-1]
        redrive = attributes.get("RedrivePolicy")
        dead_letter_arn = None
        if redrive:
            dead_letter_arn = json.loads(redrive).get("deadLetterTargetArn")
        age, _ = self._latest_metric("AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", name), "Maximum")
        return QueueState(
            url=url,
            name=name,
            arn=str(attributes.get("QueueArn", "")),
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            oldest_message_age_seconds=age,
            dead_letter_arn=dead_letter_arn,
        )

    def start_move_task(self, source_arn: str, destination_arn: str) -> str:
        """Start an SQS message move task (DLQ -> its source); returns the task handle."""
        try:
            response = self._sqs_once.start_message_move_task(SourceArn=source_arn, DestinationArn=destination_arn)
        except (ClientError, NotImplementedError) as exc:
            if _unsupported(exc):
                raise MoveTasksUnsupported(str(exc)[:200]) from exc
            raise
        return str(response["TaskHandle"])

    def move_tasks(self, source_arn: str) -> list[MoveTask]:
        try:
            found = self._sqs_once.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
        except (ClientError, NotImplementedError) as exc:
            if _unsupported(exc):
                raise MoveTasksUnsupported(str(exc)[:200]) from exc
            raise
        tasks = []
        for task in found:
            started = task.get("StartedTimestamp")
            tasks.append(
                MoveTask(
                    source_arn=source_arn,
                    status=str(task.get("Status", "")),
                    task_handle=task.get("TaskHandle"),
                    moved=task.get("ApproximateNumberOfMessagesMoved"),
                    to_move=task.get("ApproximateNumberOfMessagesToMove"),
                    started_at=datetime.fromtimestamp(started / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    if started
                    else None,
                    failure_reason=task.get("FailureReason"),
                )
            )
        return tasks

    def copy_messages(self, source_url: str, destination_url: str, limit: int) -> CopyResult:
        """Move up to `limit` messages by receive -> send -> delete (at least once; consumers are idempotent).

        A message is deleted from the source only after the destination accepted it.
        """
        result = CopyResult()
        while result.moved < limit:
            received = self._sqs.receive_message(
                QueueUrl=source_url,
                MaxNumberOfMessages=min(10, limit - result.moved),
                WaitTimeSeconds=0,
                VisibilityTimeout=60,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            entries = []
            for index, message in enumerate(received):
                entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    entry["MessageAttributes"] = {
                        k: _attribute_value(v) for k, v in message["MessageAttributes"].items()
                    }
                entries.append(entry)
            sent = self._sqs.send_message_batch(QueueUrl=destination_url, Entries=entries)
            accepted = {s["Id"] for s in sent.get("Successful", [])}
            result.failed.extend(f.get("Message", f.get("Code", "")) for f in sent.get("Failed", []))
            if accepted:
                self._sqs.delete_message_batch(
                    QueueUrl=source_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(received)
                        if str(i) in accepted
                    ],
                )
            result.moved += len(accepted)
            if not accepted:
                break
        return result

    # ---------------------------------------------------------------- Step Functions
    def running_executions(self, state_machine_arn: str) -> int:
        count = 0
        kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "statusFilter": "RUNNING", "maxResults": 1000}
        while True:
            page = self._sfn.list_executions(**kwargs)
            count += len(page.get("executions", []))
            token = page.get("nextToken")
            if not token:
                return count
            kwargs["nextToken"] = token
