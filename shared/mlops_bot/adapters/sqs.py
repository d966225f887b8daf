"""Sending to and checking the bot's SQS queues."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class Queue:
    """One SQS queue, addressed by URL."""

    def __init__(self, url: str, client: Any | None = None) -> None:
        self.url = url
        if client is None:
            import boto3  # at the first queue built, not at import (cold start)

            client = boto3.client("sqs")
        self._client = client

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        """Send one JSON message; returns its SQS message id."""
        kwargs: dict[str, Any] = {"QueueUrl": self.url, "MessageBody": json.dumps(body, default=str)}
        if attributes:
            kwargs["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            }
        response = self._client.send_message(**kwargs)
        return str(response["MessageId"])

    def reachable(self) -> bool:
        try:
            self._client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        except (ClientError, BotoCoreError):
            return False
        return True

    # ---------------------------------------------------------------- dashboard (issue 6)
    def depth(self) -> tuple[int, int]:
        """(messages waiting, messages in flight), SQS's approximate counts."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)), int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )
