"""Closing the dashboard connections of a credential that was revoked.

A connection remembers what opened it: an API key (`user` = `api_key:<key id>`), or a user's
login (`user` = `user:<user id>`, `session_id` = the login's token family). Two paths close it:

- at once: revoking an API key, ending a login (`/auth/revoke`, refresh-token reuse) or disabling
  a user changes an item the broadcaster receives from the table's stream; `revoked_by` reads the
  change and the broadcaster closes every matching connection of that tenant (`@connections`
  DELETE; API Gateway then calls `$disconnect`) and forgets it;
- as a backstop, before each broadcast the broadcaster re-checks every watcher's credential
  (`CredentialCheck`, each answer cached at most `CHECK_SECONDS`), so a stream record that was
  missed or expired still cannot keep a revoked socket streaming.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from mlops_bot.dashboard.connections import DashboardConnection
from mlops_bot.dashboard.messages import StreamChange, tenant_of
from mlops_bot.stores.api_keys import ApiKeyStore
from mlops_bot.stores.sessions import SessionStore
from mlops_bot.stores.users import UserStore

CHECK_SECONDS = 60.0
API_KEY = "api_key:"
USER = "user:"
_FAMILY_MARK = "#TOKENFAMILY#"


class RevokedCredential(BaseModel):
    tenant_id: str
    kind: Literal["api_key", "session", "user"]
    id: str

    def opened(self, connection: DashboardConnection) -> bool:
        """Was `connection` opened with this credential?"""
        if connection.tenant_id != self.tenant_id:
            return False
        if self.kind == "api_key":
            return connection.user == API_KEY + self.id
        if self.kind == "session":
            return connection.session_id == self.id
        return connection.user == USER + self.id


def _newly(field: str, change: StreamChange) -> bool:
    return bool((change.new or {}).get(field)) and not (change.old or {}).get(field)


def revoked_by(change: StreamChange) -> RevokedCredential | None:
    """The credential this change revokes, if it revokes one."""
    new = change.new
    tenant_id = tenant_of(change)
    if new is None or change.event_name == "REMOVE" or tenant_id is None:
        return None
    entity = new.get("entity")
    if entity == "api_key" and _newly("revoked", change) and new.get("key_id"):
        return RevokedCredential(tenant_id=tenant_id, kind="api_key", id=str(new["key_id"]))
    if entity == "token_family" and _newly("revoked", change):
        family = new.get("family_id") or str(change.keys.get("pk") or new.get("pk") or "").rpartition(_FAMILY_MARK)[2]
        return RevokedCredential(tenant_id=tenant_id, kind="session", id=str(family)) if family else None
    if entity == "user" and _newly("disabled", change) and new.get("id"):
        return RevokedCredential(tenant_id=tenant_id, kind="user", id=str(new["id"]))
    return None


class CredentialCheck:
    """Whether the credential a connection was opened with still stands (per process, cached).

    Only a record that says so (a revoked key, a revoked login, a disabled user) ends a
    connection; each answer is re-read after `seconds`.
    """

    def __init__(
        self,
        keys: ApiKeyStore,
        sessions: SessionStore,
        users: UserStore,
        seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.sessions = sessions
        self.users = users
        self.seconds = seconds
        self.clock = clock
        self._known: dict[tuple[str, str], tuple[float, bool]] = {}

    def stands(self, connection: DashboardConnection) -> bool:
        answers = [self._cached(connection.tenant_id, connection.user, lambda: self._principal_stands(connection))]
        if connection.session_id:
            session = connection.session_id
            answers.append(
                self._cached(connection.tenant_id, "session:" + session, lambda: self._session_stands(connection))
            )
        return all(answers)

    def _cached(self, tenant_id: str, what: str, read: Callable[[], bool]) -> bool:
        key = (tenant_id, what)
        now = self.clock()
        found = self._known.get(key)
        if found is None or now - found[0] >= self.seconds:
            found = (now, read())
            self._known[key] = found
        return found[1]

    def _principal_stands(self, connection: DashboardConnection) -> bool:
        if connection.user.startswith(API_KEY):
            key = self.keys.get(connection.tenant_id, connection.user.removeprefix(API_KEY))
            return key is None or not key.revoked
        if connection.user.startswith(USER):
            user = self.users.get(connection.tenant_id, connection.user.removeprefix(USER))
            return user is None or not user.disabled
        return True

    def _session_stands(self, connection: DashboardConnection) -> bool:
        family = self.sessions.get(connection.tenant_id, str(connection.session_id))
        return family is None or not family.revoked
