"""Logins (token families) and their refresh tokens.

A login opens a family; every refresh token and access token of that login carries the family
id (`fam`). Revoking the family ends the login: no refresh works any more, and access tokens are
refused once the caller's cached view of the family is at most `SESSION_CHECK_SECONDS` old.
A refresh token is consumed with a conditional write, so it works exactly once.
"""

from __future__ import annotations

import threading
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys


class TokenFamily(BaseModel):
    """One login (item `TENANT#t#TOKENFAMILY#id` / `FAMILY`); expires with its last refresh token."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str = Field(min_length=1, max_length=100)
    family_id: str = Field(min_length=1, max_length=100)
    user_id: str = Field(min_length=1, max_length=100)
    created_at: str
    expires_at: int
    revoked: bool = False
    revoked_reason: str | None = Field(default=None, max_length=200)
    revoked_at: str | None = None


class RefreshToken(BaseModel):
    """One issued refresh token (item `TENANT#t#REFRESH#jti` / `REFRESH`)."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    token_id: str
    user_id: str
    family_id: str
    issued_at: str
    expires_at: int
    rotated_at: str | None = None


class SessionStore(Protocol):
    def open(self, family: TokenFamily) -> None: ...
    def get(self, tenant_id: str, family_id: str) -> TokenFamily | None: ...
    def revoke(self, tenant_id: str, family_id: str, reason: str, at: str) -> bool:
        """Mark the login revoked; False when it does not exist."""
        ...

    def record_refresh(self, token: RefreshToken) -> None: ...
    def consume_refresh(self, tenant_id: str, token_id: str, at: str) -> bool:
        """True for the one call that rotates this refresh token; False if unknown or already used."""
        ...


class DynamoSessionStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def open(self, family: TokenFamily) -> None:
        self.table.put(
            {
                **keys.token_family_key(family.tenant_id, family.family_id),
                "entity": "token_family",
                **family.model_dump(),
            }
        )

    def get(self, tenant_id: str, family_id: str) -> TokenFamily | None:
        item = self.table.get(keys.token_family_key(tenant_id, family_id))
        if item is None:
            return None
        return TokenFamily.model_validate({**item, "tenant_id": tenant_id, "family_id": family_id})

    def revoke(self, tenant_id: str, family_id: str, reason: str, at: str) -> bool:
        updated = self.table.set_fields(
            keys.token_family_key(tenant_id, family_id),
            {"revoked": True, "revoked_reason": reason, "revoked_at": at},
            if_exists=True,
        )
        return updated is not None

    def record_refresh(self, token: RefreshToken) -> None:
        self.table.put(
            {
                **keys.refresh_token_key(token.tenant_id, token.token_id),
                "entity": "refresh_token",
                **token.model_dump(),
            }
        )

    def consume_refresh(self, tenant_id: str, token_id: str, at: str) -> bool:
        consumed = self.table.set_fields(
            keys.refresh_token_key(tenant_id, token_id),
            {"rotated_at": at},
            if_exists=True,
            condition="attribute_not_exists(rotated_at)",
        )
        return consumed is not None


class InMemorySessionStore:
    def __init__(self) -> None:
        self.families: dict[tuple[str, str], TokenFamily] = {}
        self.refresh_tokens: dict[tuple[str, str], RefreshToken] = {}
        self._lock = threading.Lock()

    def open(self, family: TokenFamily) -> None:
        self.families[(family.tenant_id, family.family_id)] = family

    def get(self, tenant_id: str, family_id: str) -> TokenFamily | None:
        return self.families.get((tenant_id, family_id))

    def revoke(self, tenant_id: str, family_id: str, reason: str, at: str) -> bool:
        with self._lock:
            family = self.families.get((tenant_id, family_id))
            if family is None:
                return False
            self.families[(tenant_id, family_id)] = family.model_copy(
                update={"revoked": True, "revoked_reason": reason, "revoked_at": at}
            )
            return True

    def record_refresh(self, token: RefreshToken) -> None:
        self.refresh_tokens[(token.tenant_id, token.token_id)] = token

    def consume_refresh(self, tenant_id: str, token_id: str, at: str) -> bool:
        with self._lock:
            token = self.refresh_tokens.get((tenant_id, token_id))
            if token is None or token.rotated_at is not None:
                return False
            self.refresh_tokens[(tenant_id, token_id)] = token.model_copy(update={"rotated_at": at})
            return True
