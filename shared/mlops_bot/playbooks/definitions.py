"""The playbooks' Amazon States Language, built in one place and written to `asl/*.asl.json`.

The template points each state machine at its file (`DefinitionUri`) and substitutes the actions
function's ARN. All playbooks share one shape, because the rules differ in the planner, not in
the sequencing: plan -> execute -> (wait out rate limits) -> await the proving run -> resolved or
failed; a new problem after a fix gets one more round (bounded by the incident's attempt budget),
a persistent one ends as failed; any error is caught and marks the incident failed.

Regenerate after a change: `.venv/bin/python -m mlops_bot.playbooks.definitions`.
"""

from __future__ import annotations

import json
from typing import Any

from mlops_bot.playbooks import ASL_DIR

PLAYBOOKS: dict[str, str] = {
    "pipeline_failure_fix": "Repair a failed CI run: add a missing dependency by pull request, re-run a "
    "transient failure once, or open an issue with the diagnosis; prove the repair by the next run.",
    "flaky_test_response": "Re-run flaky tests within a budget, then open (or update) one issue listing "
    "the flaky tests with their flake rate.",
    "data_drift_response": "Dispatch the repository's retrain workflow with the drift report, or open an issue.",
    "model_degradation_response": "Roll back to the last good deployment, or open an issue.",
    "deployment_failure_response": "Roll back a failed deployment to the last good ref, or open an issue.",
}
ACTIONS_ARN = "${PlaybookActionsFunctionArn}"
RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "GitHubError",
            "EndpointConnectionError",
        ],
        "IntervalSeconds": 2,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }
]
CATCH = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}]


def _task(action: str, result_path: str, next_state: str | None, catch: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": ACTIONS_ARN, "Payload": {"action": action, "state.$": "$"}},
        "ResultSelector": {"value.$": "$.Payload"},
        "ResultPath": result_path,
        "Retry": RETRY,
    }
    if catch:
        state["Catch"] = CATCH
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
    return state


def definition(playbook: str) -> dict[str, Any]:
    return {
        "Comment": f"{playbook}: {PLAYBOOKS[playbook]}",
        "StartAt": "Plan",
        "States": {
            "Plan": _task("plan", "$.planned", "HasRepair"),
            "HasRepair": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.planned.value.action", "StringEquals": "none", "Next": "Skip"}],
                "Default": "Execute",
            },
            "Skip": _task("mark_skipped", "$.skipped", "Done"),
            "Execute": _task("execute", "$.executed", "AfterExecute"),
            "AfterExecute": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.executed.value.status", "StringEquals": "rate_limited", "Next": "WaitOutRateLimit"},
                    {"Variable": "$.executed.value.verify", "BooleanEquals": True, "Next": "AwaitVerification"},
                ],
                "Default": "Done",
            },
            "WaitOutRateLimit": {"Type": "Wait", "SecondsPath": "$.executed.value.retry_after", "Next": "Execute"},
            "AwaitVerification": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": ACTIONS_ARN,
                    "Payload": {"action": "await_verification", "state.$": "$", "task_token.$": "$$.Task.Token"},
                },
                "ResultPath": "$.verification",
                "TimeoutSeconds": 21600,
                "Retry": RETRY,
                "Catch": CATCH,
                "Next": "Verified",
            },
            "Verified": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.verification.conclusion", "StringEquals": "success", "Next": "MarkResolved"},
                    {"Variable": "$.verification.retry", "BooleanEquals": True, "Next": "Plan"},
                ],
                "Default": "MarkFailed",
            },
            "MarkResolved": _task("mark_resolved", "$.resolved", "Done"),
            "Done": {"Type": "Succeed"},
            "MarkFailed": _task("mark_failed", "$.marked", "Failed", catch=False),
            "Failed": {
                "Type": "Fail",
                "Error": "PlaybookFailed",
                "Cause": "The repair failed; the incident is marked failed.",
            },
        },
    }


def render(playbook: str) -> str:
    return json.dumps(definition(playbook), indent=2) + "\n"


def write_all() -> None:
    for playbook in PLAYBOOKS:
        (ASL_DIR / f"{playbook}.asl.json").write_text(render(playbook))


if __name__ == "__main__":
    write_all()
