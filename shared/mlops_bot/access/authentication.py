"""`Authorization: Bearer <credential>` -> Principal, whether the credential is an API key or a JWT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlops_bot.access import api_keys, tokens, users
from mlops_bot.access.api_keys import Principal
from mlops_bot.errors import Unauthorized
from mlops_bot.stores.api_keys import ApiKeyStore


@dataclass(frozen=True)
class CredentialStores:
    """What checking a bearer credential reads: API keys, and users with their sessions."""

    api_keys: ApiKeyStore
    access: users.AccessStores


def bearer_credential(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer ") or not authorization[7:].strip():
        raise Unauthorized("Authentication required", "Send 'Authorization: Bearer <api-key or access token>'")
    return authorization[7:].strip()


def authenticate(stores: CredentialStores, authorization: str | None, jwt_secret: Callable[[], str]) -> Principal:
    """API keys (`mlb_...`) are looked up by digest; anything shaped like a JWT is verified as one.

    The JWT secret is only fetched when a JWT is presented, so API-key callers never depend on it.
    """
    credential = bearer_credential(authorization)
    if tokens.looks_like_jwt(credential):
        return users.authenticate_access_token(stores.access, jwt_secret(), credential)
    return api_keys.authenticate_key(stores.api_keys, credential)
