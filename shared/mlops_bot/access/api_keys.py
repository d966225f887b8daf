"""API keys: random, shown once, stored only as a SHA-256 digest.

Keys carry 256 bits of randomness, so a fast digest is as strong as a slow password hash here and
lets a request find its key with one lookup (the approach GitHub takes for its tokens). The lookup
item lives under the reserved `_system` tenant; the key's own record lives in its tenant.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import Unauthorized
from mlops_bot.storage import keys
from mlops_bot.tenancy.service import register_tenant

KEY_PREFIX = "mlb_"
Permission = Literal["read", "write", "admin"]


class Principal(BaseModel):
    """The caller behind an API key."""

    key_id: str
    tenant_id: str
    name: str
    permissions: list[Permission] = Field(default_factory=list)

    def can(self, permission: Permission) -> bool:
        return (
            "admin" in self.permissions
            or permission in self.permissions
            or (permission == "read" and "write" in self.permissions)
        )


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def store_key(
    table: StateTable,
    api_key: str,
    tenant_id: str,
    name: str,
    permissions: list[Permission],
    key_id: str | None = None,
) -> Principal:
    principal = Principal(
        key_id=key_id or f"key-{uuid.uuid4().hex[:12]}",
        tenant_id=tenant_id,
        name=name,
        permissions=permissions,
    )
    hashed = digest(api_key)
    now = iso(utc_now())
    register_tenant(table, tenant_id)
    table.put({**keys.api_key_route_key(hashed), **principal.model_dump(), "created_at": now})
    table.put(
        {
            **keys.api_key_key(tenant_id, principal.key_id),
            **principal.model_dump(),
            "key_hash": hashed,
            "created_at": now,
            "revoked": False,
        }
    )
    return principal


def generate(table: StateTable, tenant_id: str, name: str, permissions: list[Permission]) -> tuple[str, Principal]:
    api_key = new_key()
    return api_key, store_key(table, api_key, tenant_id, name, permissions)


def ensure_bootstrap_key(table: StateTable, api_key: str) -> Principal:
    """Make `MLOPS_BOT_BOOTSTRAP_API_KEY` an admin key of the `default` tenant (idempotent)."""
    return store_key(table, api_key, keys.DEFAULT_TENANT, "bootstrap", ["admin"], key_id="key-bootstrap")


def authenticate(table: StateTable, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("Authentication required", "Send 'Authorization: Bearer <api-key>'")
    api_key = authorization[7:].strip()
    hashed = digest(api_key)
    found = table.get(keys.api_key_route_key(hashed), consistent=False)
    if not found or found.get("revoked"):
        raise Unauthorized("Invalid API key", "The API key is unknown or revoked")
    return Principal.model_validate(found)
