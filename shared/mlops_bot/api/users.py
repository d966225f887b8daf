"""`/api/users`: the tenant's management users (admins only), within the `max_users` quota.

Login names are unique per tenant: 409 only when this tenant has the name, never because another does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.access import users
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.api.dependencies import access_stores, require, tenant_stores
from mlops_bot.management.accounts import tenants

router = APIRouter(prefix="/api/users", tags=["users"])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=128)
    password: str = Field(min_length=users.MIN_PASSWORD_LENGTH, max_length=users.MAX_PASSWORD_LENGTH)
    role: Permission = "read"


class UserList(BaseModel):
    users: list[users.User]
    total: int


@router.get("", response_model=UserList)
def list_users(
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[users.AccessStores, Depends(access_stores)],
) -> UserList:
    found = users.list_users(stores, caller.tenant_id)
    return UserList(users=found, total=len(found))


@router.post("", response_model=users.User, status_code=201)
def create_user(
    body: UserCreate,
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[tenants.TenantStores, Depends(tenant_stores)],
) -> users.User:
    return tenants.add_user(stores, caller.tenant_id, body.username, body.password, body.role)
