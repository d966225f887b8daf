"""Every test runs against fake AWS credentials: nothing can reach a real account by accident."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "SAM_CLI_TELEMETRY": "0",
}.items():
    os.environ[_name] = _value
for _name in (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "GITHUB_TOKEN",
    "GITHUB_WEBHOOK_SECRET",
    "MLOPS_BOT_DRY_RUN",
):
    os.environ.pop(_name, None)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    from mlops_bot.config import reset_settings
    from mlops_bot.management.platform.settings import reset_management_settings

    # Both settings caches: a test that changes the environment never leaks into the next one,
    # whatever the order the tests run in.
    reset_settings()
    reset_management_settings()
    yield
    reset_settings()
    reset_management_settings()


# ------------------------------------------------------------------ every collected test runs
# A passing count can hide tests that never ran (pytest-xdist once ran 1 of 42 schema-fuzz items
# that shared a node id). The session fails when fewer tests were executed than were selected.
_counts = {"selected": 0, "executed": 0}


def pytest_collection_finish(session: pytest.Session) -> None:
    _counts["selected"] = len(session.items)


def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    # Every worker collects the whole selection; items sharing a node id still count one by one.
    _counts["selected"] = max(_counts["selected"], len(ids))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # One count per test: its call, or the setup that skipped or failed it before the call.
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _counts["executed"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.getoption("collectonly") or hasattr(session.config, "workerinput"):
        return
    selected, executed = _counts["selected"], _counts["executed"]
    if selected and executed < selected and not session.shouldfail and not session.shouldstop:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ERROR: {selected} tests selected, only {executed} executed", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
