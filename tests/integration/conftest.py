"""Handlers and adapters against moto's `mock_aws`, with the template's table and queues."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from mlops_bot.local.runtime import LocalContext
from tests.support.aws import MockState, create_state

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "integration-secret"


@pytest.fixture(scope="module")
def aws_account() -> Iterator[MockState]:
    """One moto account with the template's table and queues per test module (building them costs
    about a second); `aws` empties them before each test."""
    with mock_aws():
        yield create_state()


@pytest.fixture
def aws(aws_account: MockState, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockState]:
    if aws_account.extras.pop("used", False):
        aws_account.empty()
    aws_account.extras["used"] = True
    monkeypatch.setenv("MLOPS_BOT_TABLE_NAME", aws_account.table_name)
    monkeypatch.setenv("MLOPS_BOT_EVENTS_QUEUE_URL", aws_account.queues["EventsQueue"])
    monkeypatch.setenv("MLOPS_BOT_HEALING_QUEUE_URL", aws_account.queues["HealingQueue"])
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("MLOPS_BOT_AUTO_ENROLL", "true")
    yield aws_account


def load_handler(function_dir: str) -> ModuleType:
    """Import `functions/<dir>/handler.py` fresh, so module-level dependencies see this test's mock."""
    path = ROOT / "functions" / function_dir / "handler.py"
    name = f"_test_handler_{function_dir}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def lambda_context(name: str = "test-function") -> Any:
    return LocalContext(
        function_name=name,
        memory_limit_in_mb=256,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        aws_request_id="req-test",
        timeout_seconds=30,
    )
