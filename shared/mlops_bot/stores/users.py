"""Management users, counted against the tenant's `max_users` in the same write.

Login names are unique within a tenant, not across tenants: creating `dana@example.com` in one
tenant says nothing about any other tenant. A user item (`TENANT#t` / `USER#id`) and its login
route (`TENANT#t#LOGIN#name` / `ROUTE`) are written with the counter in one transaction, so the
name is taken, the user stored and the slot counted together or not at all.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores import _dynamo
from mlops_bot.stores.api_keys import Permission

USER_COUNTER = "user_count"


class UserRecord(BaseModel):
    """The stored user, password hash included: never leaves the access service."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    username: str = Field(min_length=1, max_length=254)
    role: Permission
    tenant_id: str = Field(min_length=1, max_length=100)
    created_at: str
    disabled: bool = False
    password_hash: str = Field(max_length=512)


class UserCreation(StrEnum):
    CREATED = "created"
    NAME_TAKEN = "name_taken"
    TENANT_FULL = "tenant_full"


class UserStore(Protocol):
    def get(self, tenant_id: str, user_id: str) -> UserRecord | None: ...
    def find_login(self, tenant_id: str, username: str) -> UserRecord | None: ...
    def list(self, tenant_id: str) -> list[UserRecord]: ...
    def create(self, user: UserRecord, *, max_users: int) -> UserCreation: ...
    def set_password_hash(self, tenant_id: str, user_id: str, password_hash: str) -> None: ...


class DynamoUserStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, tenant_id: str, user_id: str) -> UserRecord | None:
        item = self.table.get(keys.user_key(tenant_id, user_id))
        return UserRecord.model_validate(item) if item else None

    def find_login(self, tenant_id: str, username: str) -> UserRecord | None:
        route = self.table.get(keys.login_route_key(tenant_id, username))
        if route is None:  # users created before logins were per tenant
            legacy = self.table.get(keys.user_route_key(username))
            route = legacy if legacy and legacy.get("tenant_id") == tenant_id else None
        return self.get(tenant_id, str(route["user_id"])) if route else None

    def list(self, tenant_id: str) -> list[UserRecord]:
        return [UserRecord.model_validate(i) for i in self.table.query(keys.tenant_pk(tenant_id), "USER#")]

    def create(self, user: UserRecord, *, max_users: int) -> UserCreation:
        route = {**keys.login_route_key(user.tenant_id, user.username), "tenant_id": user.tenant_id, "user_id": user.id}
        item = {**keys.user_key(user.tenant_id, user.id), "entity": "user", **user.model_dump()}
        counters = keys.tenant_counters_key(user.tenant_id)
        legacy = self.table.get(keys.user_route_key(user.username))
        if legacy is not None and legacy.get("tenant_id") == user.tenant_id:
            return UserCreation.NAME_TAKEN
        try:
            _dynamo.transact(
                self.table,
                [
                    _dynamo.put_new(route),
                    _dynamo.counter_update(counters, user.tenant_id, USER_COUNTER, 1, max_users),
                    _dynamo.put_new(item),
                ],
            )
        except _dynamo.TransactionRefused as refused:
            if 0 in refused.failed:
                return UserCreation.NAME_TAKEN
            if 1 in refused.failed:
                return UserCreation.TENANT_FULL
            raise
        return UserCreation.CREATED

    def set_password_hash(self, tenant_id: str, user_id: str, password_hash: str) -> None:
        self.table.set_fields(keys.user_key(tenant_id, user_id), {"password_hash": password_hash}, if_exists=True)


class InMemoryUserStore:
    def __init__(self) -> None:
        self.users: dict[tuple[str, str], UserRecord] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str, user_id: str) -> UserRecord | None:
        return self.users.get((tenant_id, user_id))

    def find_login(self, tenant_id: str, username: str) -> UserRecord | None:
        return next((u for u in self.list(tenant_id) if u.username == username), None)

    def list(self, tenant_id: str) -> list[UserRecord]:
        return sorted((u for (t, _), u in self.users.items() if t == tenant_id), key=lambda u: u.id)

    def create(self, user: UserRecord, *, max_users: int) -> UserCreation:
        with self._lock:
            if self.find_login(user.tenant_id, user.username) is not None:
                return UserCreation.NAME_TAKEN
            if len(self.list(user.tenant_id)) >= max_users:
                return UserCreation.TENANT_FULL
            self.users[(user.tenant_id, user.id)] = user
            return UserCreation.CREATED

    def set_password_hash(self, tenant_id: str, user_id: str, password_hash: str) -> None:
        user = self.users.get((tenant_id, user_id))
        if user is not None:
            self.users[(tenant_id, user_id)] = user.model_copy(update={"password_hash": password_hash})
