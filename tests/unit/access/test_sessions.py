"""Ending a login ends its access tokens, not only its refresh tokens."""

from __future__ import annotations

import pytest

from mlops_bot.access import users
from mlops_bot.access.users import AccessStores
from mlops_bot.errors import Unauthorized
from mlops_bot.management.platform.settings import ManagementSettings
from tests.unit.access.conftest import PASSWORD, SECRET, Clock


def _login(stores: AccessStores, settings: ManagementSettings) -> users.TokenPair:
    return users.login(stores, settings, SECRET, "dana@example.com", PASSWORD, address="10.0.0.1")


@pytest.fixture
def dana(stores: AccessStores) -> users.User:
    return users.create_user(stores, "default", "dana@example.com", PASSWORD, "write")


def test_revoking_a_login_ends_its_access_token_at_once(
    stores: AccessStores, settings: ManagementSettings, dana: users.User
) -> None:
    pair = _login(stores, settings)
    other = _login(stores, settings)
    assert users.authenticate_access_token(stores, SECRET, pair.access_token).key_id == dana.id
    users.revoke(stores, SECRET, pair.refresh_token)
    with pytest.raises(Unauthorized):
        users.authenticate_access_token(stores, SECRET, pair.access_token)
    # another login of the same user is not affected
    assert users.authenticate_access_token(stores, SECRET, other.access_token).session_id is not None


def test_a_reused_refresh_token_ends_the_access_tokens_of_that_login(
    stores: AccessStores, settings: ManagementSettings, dana: users.User
) -> None:
    first = _login(stores, settings)
    rotated = users.refresh(stores, settings, SECRET, first.refresh_token)
    with pytest.raises(Unauthorized):
        users.refresh(stores, settings, SECRET, first.refresh_token)  # the copy
    for token in (first.access_token, rotated.access_token):
        with pytest.raises(Unauthorized):
            users.authenticate_access_token(stores, SECRET, token)


def test_a_revocation_elsewhere_takes_effect_within_sixty_seconds(
    stores: AccessStores, settings: ManagementSettings, clock: Clock, dana: users.User
) -> None:
    pair = _login(stores, settings)
    users.authenticate_access_token(stores, SECRET, pair.access_token)  # this process now knows it open
    family = users.tokens.decode(SECRET, pair.refresh_token, "refresh").fam
    assert family is not None
    stores.sessions.revoke("default", family, "revoked by another instance", "2026-01-01T00:00:00Z")
    clock.now += 59
    users.authenticate_access_token(stores, SECRET, pair.access_token)  # the cached answer, at most 60 s old
    clock.now += 2
    with pytest.raises(Unauthorized):
        users.authenticate_access_token(stores, SECRET, pair.access_token)


def test_an_access_token_without_a_login_is_refused(
    stores: AccessStores, settings: ManagementSettings, dana: users.User
) -> None:
    token, _ = users.tokens.encode(
        SECRET, subject=dana.id, tenant_id="default", token_type="access", lifetime_seconds=3600, role="write"
    )
    with pytest.raises(Unauthorized):
        users.authenticate_access_token(stores, SECRET, token)
