"""One step of a playbook state machine: `{"action": name, "state": execution state}` in, fields out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.config import get_settings
from mlops_bot.healing.actions import PlaybookState, run_action

logger = Logger(service="playbook-actions")
tracer = Tracer(service="playbook-actions")

_table: StateTable | None = None


def _state_table() -> StateTable:
    global _table
    if _table is None:
        _table = StateTable(get_settings().table_name)
    return _table


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = PlaybookState.model_validate(event["state"])
    if state.plan is None and isinstance(event["state"].get("planned"), dict):
        state.plan = event["state"]["planned"].get("value")
    result = run_action(_state_table(), str(event["action"]), state)
    logger.info("playbook action done", extra={"action": event["action"], "incident_id": state.incident_id})
    return result
