"""The management API in process (FastAPI's TestClient) against moto, with the template's resources."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from mlops_bot.access import api_keys
from mlops_bot.access.api_keys import Permission
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.api.app import create_app
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.detection.incidents import Incident, TimelineEntry, incident_item
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.stores import api_key_stores

JWT_SECRET = "integration-jwt-secret-with-at-least-32-chars"
FUNCTIONS = ("WebhookIngressFunction", "DetectorFunction", "HealerFunction")


@dataclass
class Api:
    """The app plus what a test needs to arrange the table and read the queues."""

    client: TestClient
    table: StateTable
    state: MockState
    state_machine_arn: str
    function_names: list[str]

    def key(self, permission: Permission = "admin", tenant: str = "default") -> dict[str, str]:
        secret, _ = api_keys.generate(api_key_stores(self.table), tenant, f"{permission}-key", [permission])
        return {"authorization": f"Bearer {secret}"}

    def repository(self, full_name: str, tenant: str = "default") -> None:
        enroll_repository(DynamoRepositoryStore(self.table), tenant, full_name, source="test")

    def incident(self, tenant: str = "default", **fields: Any) -> dict[str, Any]:
        now = utc_now()
        values: dict[str, Any] = {
            "id": f"inc-{uuid.uuid4().hex[:12]}",
            "tenant_id": tenant,
            "repository": "acme/model",
            "type": "pipeline_failure",
            "severity": "high",
            "description": "Workflow 'CI' failure on main",
            "detected_at": iso(now - timedelta(minutes=30)),
            "metadata": {"workflow_name": "CI", "run_id": 1},
            "timeline": [TimelineEntry(event="issue_detected", timestamp=iso(now - timedelta(minutes=30)))],
        }
        extra = {k: fields.pop(k) for k in list(fields) if k not in Incident.model_fields}
        values.update(fields)
        item = {**incident_item(Incident(**values)), **extra}
        self.table.put(item)
        return item

    def event(
        self,
        repository: str = "acme/model",
        tenant: str = "default",
        received_at: datetime | None = None,
        **summary: Any,
    ) -> dict[str, Any]:
        at = iso(received_at or utc_now())
        delivery = str(uuid.uuid4())
        item = {
            **keys.event_key(tenant, repository, at, delivery),
            "gsi1pk": keys.events_index(tenant),
            "gsi1sk": f"{at}#{delivery}",
            "entity": "event",
            "tenant_id": tenant,
            "repository": repository,
            "delivery_id": delivery,
            "execution_id": str(uuid.uuid4()),
            "received_at": at,
            "summary": {"event": "workflow_run", "action": "completed", "workflow": "CI", **summary},
            "expires_at": epoch_seconds(utc_now() + timedelta(days=90)),
        }
        self.table.put(item)
        return item

    def healing_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        found = sqs.receive_message(
            QueueUrl=self.state.queues["HealingQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return [
            {"body": json.loads(m["Body"]), "tenant_id": m["MessageAttributes"]["tenant_id"]["StringValue"]}
            for m in found
        ]


def _lambda_functions(role: str) -> list[str]:
    """New functions per test: what one test does to the fleet (invocations, errors) stays its own."""
    suffix = uuid.uuid4().hex[:8]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    names = []
    for logical_id in FUNCTIONS:
        name = f"test-{logical_id}-{suffix}"
        boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        names.append(name)
    return names


def _state_machine(role: str) -> str:
    """A new machine per test: its executions are that test's alone."""
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    return str(
        boto3.client("stepfunctions").create_state_machine(
            name=f"test-pipeline-fix-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=role
        )["stateMachineArn"]
    )


@pytest.fixture
def api(aws: MockState, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    if "api" not in aws.extras:  # built once per module, on the module's account
        boto3.client("dynamodb").update_time_to_live(
            TableName=aws.table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        aws.extras["api"] = (
            boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"],
            boto3.client("iam").create_role(RoleName="api-test-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"],
            boto3.client("iam").create_role(RoleName="api-test-sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"],
        )
    key_id, function_role, machine_role = aws.extras["api"]
    functions = _lambda_functions(function_role)
    machine = _state_machine(machine_role)
    for name, value in {
        "MLOPS_BOT_JWT_SECRET": JWT_SECRET,
        "MLOPS_BOT_COMPLIANCE_KEY_ID": key_id,
        "MLOPS_BOT_FLEET_FUNCTIONS": ",".join(functions),
        "MLOPS_BOT_EVENTS_DLQ_URL": aws.queues["EventsDeadLetterQueue"],
        "MLOPS_BOT_HEALING_DLQ_URL": aws.queues["HealingDeadLetterQueue"],
        "MLOPS_BOT_PLAYBOOK_STATE_MACHINES": json.dumps({"pipeline_failure_fix": machine}),
        # Nothing listens there: the GitHub check fails fast instead of reaching the internet.
        "GITHUB_API_URL": "http://127.0.0.1:9",
        # A deployment that sends e-mail (without a sender the email channel is refused).
        "MLOPS_BOT_NOTIFICATION_SENDER": "bot@example.com",
    }.items():
        monkeypatch.setenv(name, value)
    table = StateTable(aws.table_name)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield Api(client=client, table=table, state=aws, state_machine_arn=machine, function_names=functions)
