"""SQS event source mappings, emulated: long-poll, batch, invoke, delete what succeeded.

As Lambda's mapping does: a batch goes to the handler; with `ReportBatchItemFailures` only the
reported messages stay on the queue; if the handler raises, none is deleted. Messages left on the
queue come back after the visibility timeout and, past the queue's `maxReceiveCount`, moto's
redrive moves them to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from mlops_bot.local.runtime import FunctionError, LocalFunctions

log = logging.getLogger("mlops_bot.local")


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller(threading.Thread):
    """One event source mapping: a queue feeding one function."""

    def __init__(
        self,
        sqs: Any,
        functions: LocalFunctions,
        logical_id: str,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_failures: bool,
        visibility_timeout: int,
        region: str,
    ) -> None:
        super().__init__(name=f"poller-{logical_id}", daemon=True)
        self.sqs = sqs
        self.functions = functions
        self.logical_id = logical_id
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.report_failures = report_failures
        self.visibility_timeout = visibility_timeout
        self.region = region
        self.stopping = threading.Event()
        self.batches = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                if not self.stopping.is_set():
                    log.exception("poller %s failed; retrying", self.logical_id)
                    self.stopping.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        self.batches += 1
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
        try:
            result = self.functions.invoke(self.logical_id, event)
        except FunctionError as failure:
            log.warning("%s failed the whole batch: %s", self.logical_id, failure)
            return len(messages)
        failed = set()
        if self.report_failures and isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)
