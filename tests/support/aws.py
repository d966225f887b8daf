"""The template's table and queues, created inside `mock_aws` for unit and integration tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from mlops_bot.local.template import Template

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class MockState:
    table_name: str
    queues: dict[str, str]  # logical id -> URL
    # Resources a test module builds once on top of the table and queues (functions, keys, machines).
    extras: dict[str, Any] = field(default_factory=dict)
    generation: int = 0

    def empty(self) -> None:
        """Forget every item and message, keeping the table and queues: the next test starts clean."""
        table = boto3.resource("dynamodb").Table(self.table_name)
        scan: dict[str, Any] = {"ProjectionExpression": "pk, sk"}
        with table.batch_writer() as batch:
            while True:
                page = table.scan(**scan)
                for item in page.get("Items", []):
                    batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
                if "LastEvaluatedKey" not in page:
                    break
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # SQS allows one purge a minute per queue: the next test gets new queues instead.
        self.generation += 1
        self.queues.update(_create_queues(f"{self.table_name.removesuffix('-state')}-{self.generation}"))

    def messages(self, logical_id: str, max_messages: int = 10) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        found = sqs.receive_message(
            QueueUrl=self.queues[logical_id], MaxNumberOfMessages=max_messages, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]


@cache
def _template() -> Template:
    return Template.load(ROOT / "template.yaml")


def create_state(prefix: str = "test") -> MockState:
    """Create the template's DynamoDB table and SQS queues (with redrive) in the active mock."""
    template = _template()
    table = template.resources["StateTable"]["Properties"]
    table_name = f"{prefix}-state"
    boto3.client("dynamodb").create_table(
        TableName=table_name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    return MockState(table_name=table_name, queues=_create_queues(prefix))


def _create_queues(prefix: str) -> dict[str, str]:
    """The template's queues, each with its dead-letter queue and redrive policy."""
    template = _template()
    sqs = boto3.client("sqs")
    queues: dict[str, str] = {}
    for logical_id in ("EventsDeadLetterQueue", "HealingDeadLetterQueue"):
        queues[logical_id] = sqs.create_queue(QueueName=f"{prefix}-{logical_id}")["QueueUrl"]
    for logical_id, dlq in (
        ("EventsQueue", "EventsDeadLetterQueue"),
        ("HealingQueue", "HealingDeadLetterQueue"),
    ):
        dlq_arn = sqs.get_queue_attributes(QueueUrl=queues[dlq], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = template.resources[logical_id]["Properties"]["RedrivePolicy"]
        queues[logical_id] = sqs.create_queue(
            QueueName=f"{prefix}-{logical_id}",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": redrive["maxReceiveCount"]}
                )
            },
        )["QueueUrl"]
    return queues
