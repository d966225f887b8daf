"""API keys through the web interface (/api/v1/api-keys): a tenant's admins create, list and revoke keys.

The same keys as `mlops-bot generate-api-key`: a key is shown once, in the answer that created it,
and stored only as its digest; revocation takes effect on the next request. Everything stays
within the caller's tenant (another tenant's key id answers 404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.access import api_keys
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.api.dependencies import api_key_stores, require

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .@-]+$")
    permissions: Permission = "read"


class ApiKeyList(BaseModel):
    api_keys: list[api_keys.ApiKeyRecord]
    total: int


@router.get("", response_model=ApiKeyList)
def list_api_keys(
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[api_keys.ApiKeyStores, Depends(api_key_stores)],
) -> ApiKeyList:
    found = api_keys.list_keys(stores, caller.tenant_id)
    return ApiKeyList(api_keys=found, total=len(found))


@router.post("", response_model=api_keys.IssuedApiKey, status_code=201)
def create_api_key(
    body: ApiKeyCreate,
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[api_keys.ApiKeyStores, Depends(api_key_stores)],
) -> api_keys.IssuedApiKey:
    """The answer is the only time the key is shown."""
    return api_keys.issue(stores, caller.tenant_id, body.name, body.permissions)


@router.delete("/{key_id}", response_model=api_keys.ApiKeyRecord)
def revoke_api_key(
    key_id: str,
    caller: Annotated[Principal, Depends(require("admin"))],
    stores: Annotated[api_keys.ApiKeyStores, Depends(api_key_stores)],
) -> api_keys.ApiKeyRecord:
    return api_keys.revoke(stores, key_id, caller.tenant_id)
