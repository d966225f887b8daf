"""API keys: the lookup by digest (under `_system`) and the key's record in its tenant.

The digest route answers "whose key is this" in one consistent read; the tenant's record is what
`list-api-keys` shows. Revoking marks both, so the next request with the key is refused.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys

Permission = Literal["read", "write", "admin"]


class ApiKeyItem(BaseModel):
    """The stored key (never the key itself): `TENANT#t` / `APIKEY#id`, and its route by digest."""

    model_config = ConfigDict(extra="ignore")

    key_id: str = Field(min_length=1, max_length=100)
    tenant_id: str = Field(min_length=1, max_length=100)
    name: str = Field(max_length=200)
    permissions: list[Permission] = Field(default_factory=list, max_length=3)
    key_hash: str = Field(min_length=64, max_length=64)
    created_at: str
    revoked: bool = False
    revoked_at: str | None = None


class ApiKeyStore(Protocol):
    def save(self, key: ApiKeyItem) -> None: ...
    def by_digest(self, key_hash: str) -> ApiKeyItem | None: ...
    def get(self, tenant_id: str, key_id: str) -> ApiKeyItem | None: ...
    def list(self, tenant_id: str) -> list[ApiKeyItem]: ...
    def revoke(self, tenant_id: str, key_id: str, at: str) -> ApiKeyItem | None: ...


class DynamoApiKeyStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def save(self, key: ApiKeyItem) -> None:
        fields = key.model_dump()
        self.table.put({**keys.api_key_route_key(key.key_hash), **fields})
        self.table.put({**keys.api_key_key(key.tenant_id, key.key_id), "entity": "api_key", **fields})

    def by_digest(self, key_hash: str) -> ApiKeyItem | None:
        item = self.table.get(keys.api_key_route_key(key_hash))
        return ApiKeyItem.model_validate({"key_hash": key_hash, **item}) if item else None

    def get(self, tenant_id: str, key_id: str) -> ApiKeyItem | None:
        item = self.table.get(keys.api_key_key(tenant_id, key_id))
        return ApiKeyItem.model_validate(item) if item else None

    def list(self, tenant_id: str) -> list[ApiKeyItem]:
        return [ApiKeyItem.model_validate(i) for i in self.table.query(keys.tenant_pk(tenant_id), "APIKEY#")]

    def revoke(self, tenant_id: str, key_id: str, at: str) -> ApiKeyItem | None:
        found = self.get(tenant_id, key_id)
        if found is None:
            return None
        changes = {"revoked": True, "revoked_at": at}
        self.table.set_fields(keys.api_key_route_key(found.key_hash), changes, if_exists=True)
        updated = self.table.set_fields(keys.api_key_key(tenant_id, key_id), changes, if_exists=True)
        return ApiKeyItem.model_validate(updated) if updated else None


class InMemoryApiKeyStore:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], ApiKeyItem] = {}

    def save(self, key: ApiKeyItem) -> None:
        self.keys[(key.tenant_id, key.key_id)] = key

    def by_digest(self, key_hash: str) -> ApiKeyItem | None:
        return next((k for k in self.keys.values() if k.key_hash == key_hash), None)

    def get(self, tenant_id: str, key_id: str) -> ApiKeyItem | None:
        return self.keys.get((tenant_id, key_id))

    def list(self, tenant_id: str) -> list[ApiKeyItem]:
        return sorted((k for (t, _), k in self.keys.items() if t == tenant_id), key=lambda k: k.created_at)

    def revoke(self, tenant_id: str, key_id: str, at: str) -> ApiKeyItem | None:
        found = self.keys.get((tenant_id, key_id))
        if found is None:
            return None
        self.keys[(tenant_id, key_id)] = found.model_copy(update={"revoked": True, "revoked_at": at})
        return self.keys[(tenant_id, key_id)]
