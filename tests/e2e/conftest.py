"""The running local stack, driven over HTTP as a user drives it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from mlops_bot.local.stack import LocalStack, StackConfig, free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "mlb_e2e-admin-key"
T = TypeVar("T")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        webhook_secret="e2e-secret",
        bootstrap_api_key=ADMIN_KEY,
        visibility_timeout=1,
    )
    with LocalStack(config) as running:
        yield running


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
