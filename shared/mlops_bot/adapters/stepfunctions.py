"""Starting and reading playbook executions on Step Functions."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


class PlaybookRunner:
    """Starts state machine executions with idempotent names."""

    def __init__(self, client: Any | None = None) -> None:
        if client is None:
            import boto3  # at the first runner built, not at import (cold start)

            client = boto3.client("stepfunctions")
        self._client = client

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named `name`; a second start with the same name returns the first ARN."""
        try:
            response = self._client.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload, default=str)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
            return arn
        return str(response["executionArn"])

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        """Resume a `.waitForTaskToken` task; False when the token is no longer waiting."""
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(output, default=str))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
                return False
            raise
        return True
