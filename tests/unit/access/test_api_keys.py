"""API keys on the in-memory stores: issued once, listed without the secret, revoked at once, and
a bearer credential checked as an API key or a user's access token."""

from __future__ import annotations

import pytest

from mlops_bot.access import api_keys, users
from mlops_bot.access.api_keys import ApiKeyStores
from mlops_bot.access.authentication import CredentialStores, authenticate
from mlops_bot.access.users import AccessStores
from mlops_bot.errors import NotFound, Unauthorized
from mlops_bot.management.platform.settings import ManagementSettings
from mlops_bot.stores.api_keys import InMemoryApiKeyStore
from mlops_bot.stores.tenants import InMemoryTenantStore
from tests.unit.access.conftest import PASSWORD, SECRET


@pytest.fixture
def keys() -> ApiKeyStores:
    return ApiKeyStores(InMemoryApiKeyStore(), InMemoryTenantStore())


def test_an_issued_key_authenticates_as_its_tenant_and_registers_the_tenant(keys: ApiKeyStores) -> None:
    issued = api_keys.issue(keys, "acme", "monitoring", "read")
    caller = api_keys.authenticate(keys.keys, f"Bearer {issued.key}")
    assert (caller.tenant_id, caller.key_id, caller.permissions) == ("acme", issued.id, ["read"])
    assert [r.tenant_id for r in keys.tenants.registered()] == ["acme"]


def test_a_listing_never_shows_the_key_and_spans_every_tenant_without_one(keys: ApiKeyStores) -> None:
    mine = api_keys.issue(keys, "acme", "ci", "write")
    theirs = api_keys.issue(keys, "globex", "ci", "read")
    listed = api_keys.list_keys(keys, "acme")
    assert [r.id for r in listed] == [mine.id]
    assert "key" not in listed[0].model_dump()
    assert {r.id for r in api_keys.list_keys(keys)} == {mine.id, theirs.id}


def test_a_revoked_key_stops_working_and_another_tenants_key_id_is_not_found(keys: ApiKeyStores) -> None:
    issued = api_keys.issue(keys, "acme", "ci", "write")
    with pytest.raises(NotFound):
        api_keys.revoke(keys, issued.id, "globex")
    assert api_keys.revoke(keys, issued.id, "acme").revoked
    with pytest.raises(Unauthorized):
        api_keys.authenticate_key(keys.keys, issued.key)


def test_the_bootstrap_key_is_one_admin_key_however_often_it_is_ensured(keys: ApiKeyStores) -> None:
    api_keys.ensure_bootstrap_key(keys, "mlb_bootstrap-secret")
    api_keys.ensure_bootstrap_key(keys, "mlb_bootstrap-secret")
    [record] = api_keys.list_keys(keys)
    assert (record.id, record.tenant_id, record.permissions) == ("key-bootstrap", "default", ["admin"])


def test_a_bearer_is_checked_as_an_api_key_or_as_an_access_token(
    keys: ApiKeyStores, stores: AccessStores, settings: ManagementSettings
) -> None:
    credentials = CredentialStores(keys.keys, stores)
    issued = api_keys.issue(keys, "default", "ci", "read")
    users.create_user(stores, "default", "dana@example.com", PASSWORD, "write")
    pair = users.login(stores, settings, SECRET, "dana@example.com", PASSWORD)

    def no_secret() -> str:
        raise AssertionError("an API key never needs the JWT secret")

    assert authenticate(credentials, f"Bearer {issued.key}", no_secret).kind == "api_key"
    as_user = authenticate(credentials, f"Bearer {pair.access_token}", lambda: SECRET)
    assert (as_user.kind, as_user.name, as_user.permissions) == ("user", "dana@example.com", ["write"])
    with pytest.raises(Unauthorized):
        authenticate(credentials, None, no_secret)
