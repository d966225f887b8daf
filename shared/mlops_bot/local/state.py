"""Local state that survives a restart: the embedded AWS and the GitHub sandbox, kept in a directory.

moto keeps everything in memory, so the local stack snapshots what matters into its state directory
(default `.local/state`, `MLOPS_BOT_STATE_DIR` or `run-local --state-dir`; delete the directory, or
pass `--clean`, to start from nothing):

- every DynamoDB item (tenants, API keys, users, incidents, deliveries, audit records...);
- every SQS message, visible or in flight, so deliveries answered 202 before a stop are processed
  after the start (the handlers are idempotent: a message processed but not yet deleted when the
  snapshot was taken is processed once more with no second effect);
- the generated secrets (the JWT signing key) and the compliance signing key's private key;
- the sandbox's repositories, pull requests, issues, runs and deployments.

Step Functions executions (moto, in memory) are not state: at stop the stack lets running playbooks
reach their wait first, and after the start it restarts the playbooks of `verifying` incidents at
their `.waitForTaskToken` state (`LocalStack._resume_verifications`).

A snapshot is written at stop (after the gateway and the queue pollers stopped, so nothing changes
under it — `run-local` stops on SIGTERM and SIGINT) and every few seconds while running, so even a
SIGKILL loses at most the last interval. Why not moto's request recorder: replaying requests would
replay `ReceiveMessage` and `StartExecution` too, i.e. run playbooks (and GitHub writes) again.
Files are written to a temporary name and renamed, so a crash mid-write keeps the previous snapshot.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("mlops_bot.local")

DEFAULT_STATE_DIR = Path(".local/state")
AWS_SNAPSHOT = "aws.pickle"
SANDBOX_SNAPSHOT = "github-sandbox.pickle"
API_KEY_FILE = "api-key"
SNAPSHOT_VERSION = 1
# Secrets whose value comes from the configuration at every start, never from a snapshot.
CONFIGURED_SECRETS = frozenset({"WebhookSecret", "GitHubCredentialsSecret"})


def state_dir_from_environment() -> Path:
    return Path(os.environ.get("MLOPS_BOT_STATE_DIR") or DEFAULT_STATE_DIR)


def read_local_api_key(directory: Path | None = None) -> str | None:
    """The admin key the local stack generated for its state directory, if there is one."""
    path = (directory or state_dir_from_environment()) / API_KEY_FILE
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def local_api_key(directory: Path) -> str:
    """The state directory's admin key, created once (mode 0600) and kept across restarts."""
    found = read_local_api_key(directory)
    if found:
        return found
    directory.mkdir(parents=True, exist_ok=True)
    key = f"mlb_local_{secrets.token_urlsafe(24)}"
    path = directory / API_KEY_FILE
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(key + "\n")
    return key


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


@dataclass
class AwsSnapshot:
    """What the embedded AWS holds, by logical id of the template's resources."""

    version: int
    tables: dict[str, list[dict[str, Any]]]
    queues: dict[str, list[dict[str, Any]]]
    secrets: dict[str, str]
    signing_keys: dict[str, bytes]


def take_aws_snapshot(
    client: Callable[[str], Any], physical: dict[str, dict[str, str]], account: str, region: str
) -> AwsSnapshot:
    tables: dict[str, list[dict[str, Any]]] = {}
    queues: dict[str, list[dict[str, Any]]] = {}
    stored_secrets: dict[str, str] = {}
    signing_keys: dict[str, bytes] = {}
    ddb = client("dynamodb")
    for logical_id, resource in physical.items():
        if resource.get("Arn", "").startswith("arn:aws:dynamodb:"):
            items: list[dict[str, Any]] = []
            for page in ddb.get_paginator("scan").paginate(TableName=resource["Ref"], ConsistentRead=True):
                items.extend(page.get("Items", []))
            tables[logical_id] = items
        elif "QueueName" in resource:
            queues[logical_id] = _queue_messages(resource["QueueName"], account, region)
        elif resource.get("Ref", "").startswith("arn:aws:secretsmanager:") and logical_id not in CONFIGURED_SECRETS:
            value = client("secretsmanager").get_secret_value(SecretId=resource["Ref"])
            stored_secrets[logical_id] = str(value.get("SecretString", ""))
        elif "KeyId" in resource:
            pem = _kms_private_key(resource["KeyId"], account, region)
            if pem:
                signing_keys[logical_id] = pem
    return AwsSnapshot(SNAPSHOT_VERSION, tables, queues, stored_secrets, signing_keys)


def _queue_messages(name: str, account: str, region: str) -> list[dict[str, Any]]:
    """Every message, including those received and not yet deleted (in flight): moto's own list."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return []
    messages = []
    for message in list(queue._messages):
        messages.append(
            {
                "body": message.body,
                "attributes": {
                    key: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                    for key, value in (message.message_attributes or {}).items()
                },
            }
        )
    return messages


def _kms_private_key(key_id: str, account: str, region: str) -> bytes | None:
    from cryptography.hazmat.primitives import serialization
    from moto.kms.models import kms_backends

    key = kms_backends[account][region].keys.get(key_id)
    wrapper = getattr(key, "private_key", None)  # moto's wrapper around the cryptography key
    private = getattr(wrapper, "private_key", None)
    if private is None or not hasattr(private, "private_bytes"):
        return None
    pem: bytes = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem


def restore_aws_snapshot(
    snapshot: AwsSnapshot, client: Callable[[str], Any], physical: dict[str, dict[str, str]], account: str, region: str
) -> dict[str, int]:
    """Load a snapshot into freshly provisioned resources; returns counts per kind."""
    counts = {"items": 0, "messages": 0, "secrets": 0}
    ddb = client("dynamodb")
    for logical_id, items in snapshot.tables.items():
        if logical_id not in physical:
            continue
        name = physical[logical_id]["Ref"]
        for start in range(0, len(items), 25):
            requests: dict[str, Any] = {name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while requests:
                requests = ddb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
        counts["items"] += len(items)
    sqs = client("sqs")
    for logical_id, messages in snapshot.queues.items():
        if logical_id not in physical:
            continue
        url = physical[logical_id]["Ref"]
        for message in messages:
            kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["body"]}
            if message["attributes"]:
                kwargs["MessageAttributes"] = message["attributes"]
            sqs.send_message(**kwargs)
        counts["messages"] += len(messages)
    for logical_id, value in snapshot.secrets.items():
        if logical_id in physical:
            client("secretsmanager").put_secret_value(SecretId=physical[logical_id]["Ref"], SecretString=value)
            counts["secrets"] += 1
    for logical_id, pem in snapshot.signing_keys.items():
        if logical_id in physical:
            _restore_kms_private_key(physical[logical_id]["KeyId"], pem, account, region)
    return counts


def _restore_kms_private_key(key_id: str, pem: bytes, account: str, region: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from moto.kms.models import kms_backends

    key = kms_backends[account][region].keys.get(key_id)
    wrapper = getattr(key, "private_key", None)
    if wrapper is not None and hasattr(wrapper, "private_key"):
        wrapper.private_key = serialization.load_pem_private_key(pem, password=None)


def save_aws_snapshot(snapshot: AwsSnapshot, directory: Path) -> None:
    write_atomically(directory / AWS_SNAPSHOT, pickle.dumps(snapshot))


def load_aws_snapshot(directory: Path) -> AwsSnapshot | None:
    path = directory / AWS_SNAPSHOT
    if not path.is_file():
        return None
    try:
        snapshot = pickle.loads(path.read_bytes())  # noqa: S301 - our own file in the local state directory
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as exc:
        log.warning("ignoring unreadable snapshot %s: %s", path, exc)
        return None
    if not isinstance(snapshot, AwsSnapshot) or snapshot.version != SNAPSHOT_VERSION:
        log.warning("ignoring snapshot %s of another version", path)
        return None
    return snapshot


class PeriodicSnapshots(threading.Thread):
    """Calls `save` every `interval` seconds until stopped (the last one is the caller's, at stop)."""

    def __init__(self, save: Callable[[], None], interval: float) -> None:
        super().__init__(name="state-snapshots", daemon=True)
        self.save = save
        self.interval = interval
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.save()
            except Exception:
                if not self.stopping.is_set():
                    log.exception("periodic snapshot failed; will try again")
