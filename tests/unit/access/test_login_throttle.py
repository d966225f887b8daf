"""Login throttling holds attackers back without locking the user they guess at out."""

from __future__ import annotations

import pytest

from mlops_bot.access import passwords, throttle, users
from mlops_bot.access.users import AccessStores
from mlops_bot.errors import Conflict, RateLimited, Unauthorized
from mlops_bot.management.platform.settings import ManagementSettings
from tests.unit.access.conftest import PASSWORD, SECRET

WRONG = "not the password at all"


def _attempt(
    stores: AccessStores,
    settings: ManagementSettings,
    address: str,
    password: str = WRONG,
    username: str = "dana@example.com",
) -> str:
    """`ok`, `401` or `429`."""
    try:
        users.login(stores, settings, SECRET, username, password, address=address)
    except Unauthorized:
        return "401"
    except RateLimited:
        return "429"
    return "ok"


@pytest.fixture(autouse=True)
def dana(stores: AccessStores) -> users.User:
    return users.create_user(stores, "default", "dana@example.com", PASSWORD, "write")


def test_guessing_from_one_address_never_locks_the_user_out_elsewhere(
    stores: AccessStores, settings: ManagementSettings
) -> None:
    outcomes = [_attempt(stores, settings, "203.0.113.66") for _ in range(40)]
    assert outcomes[:5] == ["401"] * 5
    assert set(outcomes[5:]) == {"429"}
    assert _attempt(stores, settings, "198.51.100.7", PASSWORD) == "ok"


def test_many_addresses_guessing_one_user_never_block_the_right_password_from_a_clean_address(
    stores: AccessStores, settings: ManagementSettings
) -> None:
    for n in range(30):  # a botnet: each address guesses a few times, well under the per-address limit
        for _ in range(3):
            _attempt(stores, settings, f"203.0.113.{n}")
    assert _attempt(stores, settings, "198.51.100.7", PASSWORD) == "ok"


def test_the_per_user_lock_is_short_and_only_holds_addresses_that_guessed(
    stores: AccessStores, settings: ManagementSettings
) -> None:
    for n in range(15):
        for _ in range(3):
            _attempt(stores, settings, f"203.0.113.{n}")
    with pytest.raises(RateLimited) as held:
        users.login(stores, settings, SECRET, "dana@example.com", PASSWORD, address="203.0.113.1")
    assert 0 < held.value.extra["retry_after"] <= throttle.ThrottlePolicy().user.max_seconds


def test_back_off_grows_with_each_failure() -> None:
    rule = throttle.ThrottlePolicy().pair
    locks = [rule.lock_seconds(n) for n in range(1, 12)]
    assert locks[:4] == [0, 0, 0, 0]
    assert locks[4:8] == [30, 60, 120, 240]
    assert locks[-1] == rule.max_seconds


def test_unknown_users_are_throttled_exactly_like_known_ones(
    stores: AccessStores, settings: ManagementSettings
) -> None:
    known = [_attempt(stores, settings, "203.0.113.1") for _ in range(8)]
    unknown = [_attempt(stores, settings, "203.0.113.2", username="nobody@example.com") for _ in range(8)]
    assert known == unknown


def test_an_unknown_user_costs_a_password_verification_like_a_known_one(
    stores: AccessStores, settings: ManagementSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        verified.append(stored.rsplit("$", 2)[0])  # the scheme and cost, not the salt or hash
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", counting)
    _attempt(stores, settings, "203.0.113.1")
    _attempt(stores, settings, "203.0.113.2", username="nobody@example.com")
    assert len(verified) == 2
    assert verified[0] == verified[1]


def test_login_names_are_per_tenant_and_each_logs_in_to_its_own(
    stores: AccessStores, settings: ManagementSettings
) -> None:
    other = users.create_user(stores, "tenant-b", "dana@example.com", "another long password", "read")
    with pytest.raises(Conflict):
        users.create_user(stores, "default", "Dana@Example.com", PASSWORD, "read")
    mine = users.login(stores, settings, SECRET, "dana@example.com", PASSWORD)
    theirs = users.login(stores, settings, SECRET, "dana@example.com", "another long password", tenant_id="tenant-b")
    assert mine.user_info.tenant_id == "default"
    assert theirs.user_info.id == other.id
    with pytest.raises(Unauthorized):
        users.login(stores, settings, SECRET, "dana@example.com", PASSWORD, tenant_id="tenant-b")
