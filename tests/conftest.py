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

    reset_settings()
    yield
    reset_settings()
