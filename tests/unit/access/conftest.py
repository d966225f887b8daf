"""The access services on in-memory stores, with a cheaper scrypt cost so a test can hash often."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlops_bot.access import passwords
from mlops_bot.access.sessions import SessionCheck
from mlops_bot.access.users import AccessStores
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.stores.login_attempts import InMemoryLoginAttemptStore
from mlops_bot.stores.sessions import InMemorySessionStore
from mlops_bot.stores.users import InMemoryUserStore

SECRET = "unit-test-jwt-secret-with-at-least-32-characters"
PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "COST", 2**10)
    passwords.dummy_hash.cache_clear()
    yield
    passwords.dummy_hash.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stores(clock: Clock) -> AccessStores:
    return AccessStores(
        users=InMemoryUserStore(),
        sessions=InMemorySessionStore(),
        attempts=InMemoryLoginAttemptStore(),
        scope="memory",
        check=SessionCheck(clock=clock),
    )


@pytest.fixture
def settings() -> ManagementSettings:
    return ManagementSettings.model_validate({"MLOPS_BOT_JWT_SECRET": SECRET, "MLOPS_BOT_LOGIN_ATTEMPTS": 5})
