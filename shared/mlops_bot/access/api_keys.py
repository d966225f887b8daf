"""API keys: random, shown once, stored only as a SHA-256 digest.

Keys carry 256 bits of randomness, so a fast digest is as strong as a slow password hash here and
lets a request find its key with one lookup (the approach GitHub takes for its tokens). The lookup
item lives under the reserved `_system` tenant; the key's own record lives in its tenant.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound, Unauthorized
from mlops_bot.storage import keys
from mlops_bot.stores.api_keys import ApiKeyItem, ApiKeyStore
from mlops_bot.stores.api_keys import Permission as Permission
from mlops_bot.stores.tenants import TenantStore

KEY_PREFIX = "mlb_"
PERMISSIONS: tuple[Permission, ...] = ("read", "write", "admin")


class Principal(BaseModel):
    """The caller, whether it sent an API key or a JWT: routes only look at tenant and permissions.

    Permissions are ordered read < write < admin: a write key may read, an admin may do anything
    in its tenant.
    """

    key_id: str
    tenant_id: str
    name: str
    permissions: list[Permission] = Field(default_factory=list)
    kind: Literal["api_key", "user"] = "api_key"
    session_id: str | None = Field(default=None, description="the login (token family) of a user's access token")

    def can(self, permission: Permission) -> bool:
        return (
            "admin" in self.permissions
            or permission in self.permissions
            or (permission == "read" and "write" in self.permissions)
        )


class ApiKeyRecord(BaseModel):
    """What `list-api-keys` shows: never the key, never its digest."""

    id: str
    name: str
    permissions: list[Permission]
    tenant_id: str
    created_at: str
    revoked: bool = False
    revoked_at: str | None = None


class IssuedApiKey(ApiKeyRecord):
    """The answer to `generate-api-key`: the only time the key itself is shown."""

    key: str


def digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ApiKeyStores:
    """What the key services read and write: the keys, and the tenant registry a key's tenant joins."""

    keys: ApiKeyStore
    tenants: TenantStore


def store_key(
    stores: ApiKeyStores,
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
    now = iso(utc_now())
    stores.tenants.register(tenant_id, now)
    stores.keys.save(
        ApiKeyItem(
            key_id=principal.key_id,
            tenant_id=tenant_id,
            name=name,
            permissions=permissions,
            key_hash=digest(api_key),
            created_at=now,
        )
    )
    return principal


def generate(stores: ApiKeyStores, tenant_id: str, name: str, permissions: list[Permission]) -> tuple[str, Principal]:
    api_key = new_key()
    return api_key, store_key(stores, api_key, tenant_id, name, permissions)


def issue(stores: ApiKeyStores, tenant_id: str, name: str, permission: Permission) -> IssuedApiKey:
    """A new key with one permission level (read < write < admin), shown once."""
    api_key, principal = generate(stores, tenant_id, name, [permission])
    stored = stores.keys.get(tenant_id, principal.key_id)
    return IssuedApiKey(
        id=principal.key_id,
        name=name,
        permissions=principal.permissions,
        tenant_id=tenant_id,
        created_at=stored.created_at if stored else iso(utc_now()),
        key=api_key,
    )


def _record(item: ApiKeyItem) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=item.key_id,
        name=item.name,
        permissions=item.permissions,
        tenant_id=item.tenant_id,
        created_at=item.created_at,
        revoked=item.revoked,
        revoked_at=item.revoked_at,
    )


def list_keys(stores: ApiKeyStores, tenant_id: str | None = None) -> list[ApiKeyRecord]:
    """The keys of one tenant, or of every registered tenant when `tenant_id` is None."""
    tenants = [tenant_id] if tenant_id else [r.tenant_id for r in stores.tenants.registered()]
    found: list[ApiKeyRecord] = []
    for tenant in tenants:
        found.extend(_record(i) for i in stores.keys.list(tenant))
    return sorted(found, key=lambda r: (r.tenant_id, r.created_at))


def revoke(stores: ApiKeyStores, key_id: str, tenant_id: str | None = None) -> ApiKeyRecord:
    """Revoke a key by id (in one tenant, or wherever it is); it stops working at once, and the
    dashboard connections it opened are closed by the broadcaster (`dashboard.revocation`)."""
    candidates = [r for r in list_keys(stores, tenant_id) if r.id == key_id]
    if not candidates:
        raise NotFound("API key not found", f"No API key '{key_id}'")
    updated = stores.keys.revoke(candidates[0].tenant_id, key_id, iso(utc_now()))
    if updated is None:
        raise NotFound("API key not found", f"No API key '{key_id}'")
    return _record(updated)


def ensure_bootstrap_key(stores: ApiKeyStores, api_key: str) -> Principal:
    """Make `MLOPS_BOT_BOOTSTRAP_API_KEY` an admin key of the `default` tenant (idempotent)."""
    return store_key(stores, api_key, keys.DEFAULT_TENANT, "bootstrap", ["admin"], key_id="key-bootstrap")


def authenticate_key(store: ApiKeyStore, api_key: str) -> Principal:
    """The principal of a presented key. Read consistently, so a revocation takes effect at once."""
    found = store.by_digest(digest(api_key))
    if found is None or found.revoked:
        raise Unauthorized("Invalid API key", "The API key is unknown or revoked")
    return Principal(key_id=found.key_id, tenant_id=found.tenant_id, name=found.name, permissions=found.permissions)


def authenticate(store: ApiKeyStore, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("Authentication required", "Send 'Authorization: Bearer <api-key>'")
    return authenticate_key(store, authorization[7:].strip())
