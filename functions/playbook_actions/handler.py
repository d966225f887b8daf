"""One step of a playbook state machine: `{"action": name, "state": execution state}` in, fields out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.config import get_settings
from mlops_bot.github_access import github_client
from mlops_bot.healing.actions import ActionDependencies, PlaybookState, run_step
from mlops_bot.management.platform import system_config
from mlops_bot.stores.actions import DynamoActionLog
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.installations import DynamoInstallationStore
from mlops_bot.stores.playbook_settings import DynamoPlaybookSettingsStore
from mlops_bot.stores.quarantines import DynamoQuarantineStore
from mlops_bot.stores.repair_claims import DynamoRepairClaimStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.stores.system_config import DynamoSystemConfigStore

logger = Logger(service="playbook-actions")
tracer = Tracer(service="playbook-actions")

_dependencies: ActionDependencies | None = None


def _deps() -> ActionDependencies:
    global _dependencies
    if _dependencies is None:
        settings = get_settings()
        table = StateTable(settings.table_name)
        _dependencies = ActionDependencies(
            settings=settings,
            incidents=DynamoIncidentStore(table),
            repositories=DynamoRepositoryStore(table),
            playbook_settings=DynamoPlaybookSettingsStore(table),
            action_log=DynamoActionLog(table),
            activity=DynamoEventStore(table),
            installations=DynamoInstallationStore(table),
            budget=DynamoRepairBudgetStore(table),
            audit_log=DynamoAuditLog(table),
            flaky_history=DynamoFlakyHistory(table),
            quarantines=DynamoQuarantineStore(table),
            repair_claims=DynamoRepairClaimStore(table),
            github=lambda repository, installation: github_client(settings, repository, installation),
            notification_configuration=lambda configuration: system_config.with_integrations(
                configuration, system_config.current(DynamoSystemConfigStore(table))
            ),
        )
    return _dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = PlaybookState.model_validate(event["state"])
    logger.set_correlation_id(state.correlation_id)
    logger.append_keys(incident_id=state.incident_id, playbook=state.playbook)
    result = run_step(_deps(), str(event["action"]), state, event.get("task_token"))
    logger.info("playbook step done", extra={"step": event["action"], "result_status": result.get("status")})
    return result
