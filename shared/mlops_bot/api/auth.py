"""`/auth/login`, `/auth/refresh`, `/auth/revoke`: JWTs for management users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.access import tokens, users
from mlops_bot.api.dependencies import access_stores, management_settings
from mlops_bot.api.schemas import Message
from mlops_bot.management.platform.settings import ManagementSettings

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=users.MAX_PASSWORD_LENGTH)
    tenant_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The tenant of the login name (names are unique per tenant); the operator tenant when omitted",
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


@router.post("/login", response_model=users.TokenPair)
def login(
    body: LoginRequest,
    request: Request,
    stores: Annotated[users.AccessStores, Depends(access_stores)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> users.TokenPair:
    """401 for a wrong password and an unknown user alike; 429 with `retry_after` while throttled."""
    return users.login(
        stores,
        settings,
        tokens.signing_secret(settings),
        body.username,
        body.password,
        tenant_id=body.tenant_id,
        address=request.client.host if request.client else "unknown",
    )


@router.post("/refresh", response_model=users.TokenPair)
def refresh(
    body: RefreshRequest,
    stores: Annotated[users.AccessStores, Depends(access_stores)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> users.TokenPair:
    """Rotate: the presented refresh token stops working; reusing it revokes the whole session."""
    return users.refresh(stores, settings, tokens.signing_secret(settings), body.refresh_token)


@router.post("/revoke", response_model=Message)
def revoke(
    body: RefreshRequest,
    stores: Annotated[users.AccessStores, Depends(access_stores)],
    settings: Annotated[ManagementSettings, Depends(management_settings)],
) -> Message:
    """End the session: every refresh token of the login now, its access tokens within 60 s."""
    users.revoke(stores, tokens.signing_secret(settings), body.refresh_token)
    return Message(message="Session revoked")
