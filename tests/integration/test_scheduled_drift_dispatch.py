"""Where the numeric stack is not deployed, the scheduled drift check runs in the repository's CI."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.adapters.sqs import Queue
from mlops_bot.monitoring.scheduled import DriftCheckStores, run_drift_check
from mlops_bot.monitoring.service import SignalStores
from mlops_bot.storage import keys
from mlops_bot.stores.audit import DynamoAuditLog
from mlops_bot.stores.budgets import DynamoRepairBudgetStore
from mlops_bot.stores.events import DynamoEventStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn

FILE = """drift:
  reference: s3://ml-data/churn/reference.parquet
  current: s3://ml-data/churn/current.parquet
  check_workflow: drift-check.yml
"""


def stores(table: StateTable) -> DriftCheckStores:
    return DriftCheckStores(
        SignalStores(DynamoRepositoryStore(table), DynamoIncidentStore(table), DynamoEventStore(table)),
        DynamoAuditLog(table),
        DynamoRepairBudgetStore(table),
    )


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=("t",)) as standin:
        standin.add_repo("acme/churn", files={".github/mlops-bot.yml": FILE})
        yield standin


@pytest.fixture
def without_numeric_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith(("mlops_bot.drift.report", "mlops_bot.drift.datasets", "pyarrow")):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    import sys

    for module in [m for m in sys.modules if m.startswith(("mlops_bot.drift.report", "mlops_bot.drift.datasets"))]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", refuse)


def test_the_check_workflow_is_dispatched_with_the_configured_locations(
    aws: MockState, github: GitHubStandIn, without_numeric_stack: None
) -> None:
    table = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/churn", source="test")
    client = GitHubClient.from_token("t", github.url)
    outcome = run_drift_check(
        stores(table), Queue(aws.queues["HealingQueue"]), "default", "acme/churn", github=client, dry_run=False
    )
    assert outcome is not None and outcome.summary == "drift check dispatched to drift-check.yml"
    [dispatch] = github.calls_to("POST", r"/actions/workflows/drift-check.yml/dispatches$")
    assert dispatch.json["ref"] == "main"
    assert dispatch.json["inputs"]["reference"] == "s3://ml-data/churn/reference.parquet"
    [record] = table.query(keys.audit_pk("default"), "AUDIT#")
    assert record["rule"] == "drift:scheduled_check" and record["result"] == "done"


def test_without_a_check_workflow_the_check_says_why(aws: MockState, without_numeric_stack: None) -> None:
    table = StateTable(aws.table_name)
    enroll_repository(DynamoRepositoryStore(table), "default", "acme/plain", source="test")
    table.set_fields(
        keys.repository_key("default", "acme/plain"),
        {"configuration": {"drift": {"reference": "s3://a/r.csv", "current": "s3://a/c.csv"}}},
    )
    outcome = run_drift_check(stores(table), Queue(aws.queues["HealingQueue"]), "default", "acme/plain")
    assert outcome is not None and outcome.summary.startswith("drift check unavailable")
    assert run_drift_check(stores(table), Queue(aws.queues["HealingQueue"]), "default", "acme/none") is None
