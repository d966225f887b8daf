"""Which table changes revoke a dashboard credential (pure reading of stream records)."""

from __future__ import annotations

from typing import Any

from mlops_bot.dashboard.connections import DashboardConnection
from mlops_bot.dashboard.messages import StreamChange
from mlops_bot.dashboard.revocation import RevokedCredential, revoked_by
from mlops_bot.storage import keys


def _modify(key: dict[str, str], old: dict[str, Any], new: dict[str, Any]) -> StreamChange:
    return StreamChange(
        event_name="MODIFY", sequence_number="1", keys=key, new={**key, **new}, old={**key, **old} if old else None
    )


def _connection(user: str, session_id: str | None = None, tenant: str = "acme") -> DashboardConnection:
    return DashboardConnection(
        connection_id="c1",
        tenant_id=tenant,
        user=user,
        slot=0,
        connected_at="2026-11-25T09:00:00.000000Z",
        expires_at=2_000_000_000,
        session_id=session_id,
    )


def test_a_revoked_api_key_names_the_key_and_its_tenant() -> None:
    key = keys.api_key_key("acme", "key-1")
    fields = {"entity": "api_key", "key_id": "key-1", "tenant_id": "acme"}
    revoked = revoked_by(_modify(key, {**fields, "revoked": False}, {**fields, "revoked": True}))
    assert revoked == RevokedCredential(tenant_id="acme", kind="api_key", id="key-1")
    assert revoked.opened(_connection("api_key:key-1"))
    assert not revoked.opened(_connection("api_key:key-2"))
    assert not revoked.opened(_connection("api_key:key-1", tenant="globex"))


def test_an_ended_login_is_found_from_its_key_even_in_an_older_item() -> None:
    key = keys.token_family_key("acme", "fam-1")
    revoked = revoked_by(_modify(key, {"entity": "token_family"}, {"entity": "token_family", "revoked": True}))
    assert revoked == RevokedCredential(tenant_id="acme", kind="session", id="fam-1")
    assert revoked.opened(_connection("user:user-1", session_id="fam-1"))
    assert not revoked.opened(_connection("user:user-1", session_id="fam-2"))


def test_a_disabled_user_loses_every_socket_of_every_login() -> None:
    key = keys.user_key("acme", "user-1")
    fields = {"entity": "user", "id": "user-1", "tenant_id": "acme"}
    revoked = revoked_by(_modify(key, fields, {**fields, "disabled": True}))
    assert revoked is not None
    assert revoked.opened(_connection("user:user-1", session_id="fam-9"))


def test_other_changes_revoke_nothing() -> None:
    key = keys.api_key_key("acme", "key-1")
    fields = {"entity": "api_key", "key_id": "key-1", "tenant_id": "acme", "revoked": True}
    assert revoked_by(_modify(key, fields, {**fields, "name": "renamed"})) is None  # already revoked
    user = keys.user_key("acme", "user-1")
    assert revoked_by(_modify(user, {"entity": "user", "id": "user-1"}, {"entity": "user", "id": "user-1"})) is None
