"""DynamoDB stream event sources, emulated: poll the table's stream, filter, batch, invoke.

What Lambda's event source mapping does for a stream, done against moto's `dynamodbstreams`:

- the shard iterators are taken when the stack starts (`StartingPosition`: LATEST sees only what
  is written from then on), and the shard is polled four times a second, as Lambda does;
- `FilterCriteria` drop records before the function sees them (equality, `prefix`, `exists`,
  `anything-but`: the subset of Lambda's filter rules the template may use);
- records reach the function in Lambda's event shape (`eventSourceARN`, typed images, epoch
  `ApproximateCreationDateTime`);
- on a raised error the batch is bisected (`BisectBatchOnFunctionError`) or retried; with
  `ReportBatchItemFailures` the batch is retried from the lowest failed sequence number; after
  `MaximumRetryAttempts` (10 locally when the template says -1, "until the record expires") the
  records are dropped with a log line, as Lambda drops them without an on-failure destination.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlops_bot.local.runtime import FunctionError, LocalFunctions
from mlops_bot.local.template import Template

log = logging.getLogger("mlops_bot.local")
POLL_INTERVAL_SECONDS = 0.25  # Lambda polls each shard four times per second
LOCAL_RETRY_CAP = 10


@dataclass(frozen=True)
class StreamSource:
    """One `Type: DynamoDB` event of a function in the template."""

    function: str
    stream: Any  # the template's `Stream` value (e.g. !GetAtt StateTable.StreamArn), resolved by the stack
    starting_position: str = "LATEST"
    batch_size: int = 100
    report_failures: bool = False
    bisect: bool = False
    max_retries: int = -1
    filters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def retry_cap(self) -> int:
        return self.max_retries if self.max_retries >= 0 else LOCAL_RETRY_CAP


def stream_sources(template: Template) -> list[StreamSource]:
    sources = []
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            props = event.get("Properties", {})
            patterns = [json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
            for pattern in patterns:
                _check_pattern(pattern)
            sources.append(
                StreamSource(
                    function=logical_id,
                    stream=props["Stream"],
                    starting_position=str(props.get("StartingPosition", "LATEST")),
                    batch_size=int(props.get("BatchSize", 100)),
                    report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    max_retries=int(props.get("MaximumRetryAttempts", -1)),
                    filters=patterns,
                )
            )
    return sources


# ---------------------------------------------------------------- event filtering
_OPERATORS = {"prefix", "exists", "anything-but"}


def _check_pattern(pattern: Any) -> None:
    """Refuse, at start, a filter rule this emulation would silently get wrong."""
    if isinstance(pattern, dict):
        for value in pattern.values():
            _check_pattern(value)
    elif isinstance(pattern, list):
        for rule in pattern:
            if isinstance(rule, dict) and not set(rule) <= _OPERATORS:
                raise ValueError(f"filter rule {rule} is not supported by the local stack")
    else:
        raise ValueError(f"a filter pattern's leaves must be lists, not {pattern!r}")


def _leaf_matches(rules: list[Any], present: bool, value: Any) -> bool:
    for rule in rules:
        if isinstance(rule, dict):
            if "exists" in rule and bool(rule["exists"]) == present:
                return True
            if present and "prefix" in rule and isinstance(value, str) and value.startswith(rule["prefix"]):
                return True
            if present and "anything-but" in rule:
                excluded = rule["anything-but"]
                if value not in (excluded if isinstance(excluded, list) else [excluded]):
                    return True
        elif present and value == rule:
            return True
    return False


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    """Lambda's rule: every key of the pattern must match; a list of rules matches if any does."""
    for name, rules in pattern.items():
        present = isinstance(record, dict) and name in record
        value = record.get(name) if present else None
        if isinstance(rules, dict):
            if not present or not isinstance(value, dict) or not matches(rules, value):
                return False
        elif not _leaf_matches(rules, present, value):
            return False
    return True


# ---------------------------------------------------------------- records
def _wire(value: Any) -> Any:
    """boto3 decoded binary attributes and timestamps; Lambda sends base64 and epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": _wire(record["dynamodb"]),
        "eventSourceARN": stream_arn,
    }


class StreamPoller(threading.Thread):
    """One DynamoDB event source mapping: a table's stream feeding one function."""

    def __init__(
        self,
        streams: Any,
        functions: LocalFunctions,
        source: StreamSource,
        stream_arn: str,
        region: str,
        interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(name=f"stream-poller-{source.function}", daemon=True)
        self.streams = streams
        self.functions = functions
        self.source = source
        self.stream_arn = stream_arn
        self.region = region
        self.interval = interval
        self.stopping = threading.Event()
        self.iterators: dict[str, str] = {}
        self.batches = 0
        self.dropped = 0

    def prime(self) -> None:
        """Take the shard iterators now, so that LATEST means "from the start of the stack"."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.source.starting_position,
            )["ShardIterator"]

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("stream poller for %s failed; retrying", self.source.function)
                busy = 0
            if not busy:
                self.stopping.wait(self.interval)

    def poll_once(self) -> int:
        """Read each shard once and hand what was read to the function; returns the records read."""
        read = 0
        for shard_id, iterator in list(self.iterators.items()):
            response = self.streams.get_records(ShardIterator=iterator, Limit=self.source.batch_size)
            records = response.get("Records", [])
            if records and response.get("NextShardIterator"):
                # An empty read keeps the current iterator: moto stores every iterator it hands out.
                self.iterators[shard_id] = response["NextShardIterator"]
            read += len(records)
            wanted = [lambda_record(r, self.stream_arn, self.region) for r in records]
            if self.source.filters:
                wanted = [r for r in wanted if any(matches(p, r) for p in self.source.filters)]
            if wanted:
                self.deliver(wanted)
        return read

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Invoke until the batch is done, bisected into done halves, or out of retries."""
        pending = [records]
        while pending and not self.stopping.is_set():
            batch = pending.pop(0)
            retries = 0
            while batch and not self.stopping.is_set():
                self.batches += 1
                try:
                    result = self.functions.invoke(self.source.function, {"Records": batch})
                except FunctionError as failure:
                    log.warning("%s failed a stream batch of %d: %s", self.source.function, len(batch), failure)
                    if self.source.bisect and len(batch) > 1:
                        half = len(batch) // 2
                        pending[:0] = [batch[:half], batch[half:]]
                        break
                    failed_from = 0
                else:
                    first_failure = self._first_failure(batch, result)
                    if first_failure is None:
                        break
                    failed_from = first_failure
                retries += 1
                if retries > self.source.retry_cap:
                    self.dropped += len(batch) - failed_from
                    log.error("%s: dropping %d stream records after retries", self.source.function, len(batch))
                    break
                batch = batch[failed_from:]

    def _first_failure(self, batch: list[dict[str, Any]], result: Any) -> int | None:
        """Index to retry from (Lambda's checkpoint: the lowest failed sequence number), or None."""
        if not self.source.report_failures or not isinstance(result, dict):
            return None
        failed = {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}
        if not failed:
            return None
        for index, record in enumerate(batch):
            if str(record["dynamodb"].get("SequenceNumber")) in failed:
                return index
        return 0  # an identifier Lambda cannot place: the whole batch is retried
