"""Management users: login with a password, JWT access tokens, rotated and revocable refresh tokens.

A login opens a token *family*. Each refresh consumes its refresh token (a conditional write, so a
token works once) and issues the next one in the family. Presenting a consumed refresh token
again means it was copied: the whole family is revoked and every token of that login stops
refreshing. Access tokens live an hour; each request re-reads the user, so disabling a user takes
effect at once.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from pydantic import BaseModel

from mlops_bot.access import passwords, tokens
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.errors import Conflict, RateLimited, Unauthorized, ValidationFailed
from mlops_bot.management.settings import ManagementSettings
from mlops_bot.storage import keys
from mlops_bot.tenancy.service import register_tenant

USERNAME = re.compile(r"^[A-Za-z0-9._%+@-]{3,128}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class User(BaseModel):
    id: str
    username: str
    role: Permission
    tenant_id: str
    created_at: str
    disabled: bool = False


class UserInfo(BaseModel):
    id: str
    username: str
    role: Permission
    tenant_id: str


class TokenPair(BaseModel):
    """The spec's login answer (plus `token_type` and `refresh_expires_in`)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    refresh_expires_in: int
    user_info: UserInfo


def validate_credentials(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise ValidationFailed("Invalid username", "3-128 characters: letters, digits and . _ % + @ -")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed("Invalid password", f"Passwords need at least {MIN_PASSWORD_LENGTH} characters")


def create_user(table: StateTable, tenant_id: str, username: str, password: str, role: Permission) -> User:
    """Store a user with a scrypt hash. Login names are unique across tenants (409 otherwise).

    Quotas are the caller's business (`mlops_bot.management.tenants.add_user`).
    """
    validate_credentials(username, password)
    user = User(
        id=f"user-{uuid.uuid4().hex[:12]}",
        username=username.strip().lower(),
        role=role,
        tenant_id=tenant_id,
        created_at=iso(utc_now()),
    )
    route = {**keys.user_route_key(user.username), "tenant_id": tenant_id, "user_id": user.id}
    if not table.put_new(route):
        raise Conflict("User already exists", f"The login name '{user.username}' is taken")
    register_tenant(table, tenant_id)
    table.put(
        {
            **keys.user_key(tenant_id, user.id),
            "entity": "user",
            **user.model_dump(),
            "password_hash": passwords.hash_password(password),
        }
    )
    return user


def list_users(table: StateTable, tenant_id: str) -> list[User]:
    return [User.model_validate(i) for i in table.query(keys.tenant_pk(tenant_id), "USER#")]


def _throttle_login(table: StateTable, settings: ManagementSettings, username: str) -> None:
    window_seconds = settings.login_window_seconds
    now = epoch_seconds(utc_now())
    window = now // window_seconds
    scope = "login:" + hashlib.sha256(username.encode()).hexdigest()[:32]
    attempts = table.increment(
        keys.rate_window_key(keys.SYSTEM_TENANT, scope, window), "count", expires_at=(window + 2) * window_seconds
    )
    if attempts > settings.login_attempts_per_window:
        raise RateLimited("Too many login attempts", retry_after=max(1, (window + 1) * window_seconds - now))


def _issue(
    table: StateTable, settings: ManagementSettings, secret: str, user: dict[str, Any], family: str
) -> TokenPair:
    access, _ = tokens.encode(
        secret,
        subject=str(user["id"]),
        tenant_id=str(user["tenant_id"]),
        token_type="access",  # noqa: S106
        lifetime_seconds=settings.access_token_seconds,
        role=str(user["role"]),
        family=family,
    )
    refresh, claims = tokens.encode(
        secret,
        subject=str(user["id"]),
        tenant_id=str(user["tenant_id"]),
        token_type="refresh",  # noqa: S106
        lifetime_seconds=settings.refresh_token_seconds,
        family=family,
    )
    table.put(
        {
            **keys.refresh_token_key(str(user["tenant_id"]), claims.jti),
            "entity": "refresh_token",
            "tenant_id": user["tenant_id"],
            "user_id": user["id"],
            "family_id": family,
            "issued_at": iso(utc_now()),
            "expires_at": claims.exp,
        }
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_seconds,
        refresh_expires_in=settings.refresh_token_seconds,
        user_info=UserInfo(
            id=str(user["id"]), username=str(user["username"]), role=user["role"], tenant_id=str(user["tenant_id"])
        ),
    )


def login(table: StateTable, settings: ManagementSettings, secret: str, username: str, password: str) -> TokenPair:
    name = username.strip().lower()
    _throttle_login(table, settings, name)
    route = table.get(keys.user_route_key(name)) if USERNAME.match(name) else None
    user = table.get(keys.user_key(str(route["tenant_id"]), str(route["user_id"]))) if route else None
    stored = str(user.get("password_hash", "")) if user else passwords.dummy_hash()
    valid = passwords.verify_password(password[:MAX_PASSWORD_LENGTH], stored)
    if user is None or not valid or user.get("disabled"):
        raise Unauthorized("Invalid credentials", "Unknown user or wrong password")
    if passwords.needs_rehash(stored):
        table.set_fields(
            keys.user_key(str(user["tenant_id"]), str(user["id"])),
            {"password_hash": passwords.hash_password(password)},
        )
    family = f"fam-{uuid.uuid4().hex}"
    table.put(
        {
            **keys.token_family_key(str(user["tenant_id"]), family),
            "entity": "token_family",
            "user_id": user["id"],
            "created_at": iso(utc_now()),
            "revoked": False,
            "expires_at": epoch_seconds(utc_now()) + settings.refresh_token_seconds,
        }
    )
    return _issue(table, settings, secret, user, family)


def refresh(table: StateTable, settings: ManagementSettings, secret: str, refresh_token: str) -> TokenPair:
    claims = tokens.decode(secret, refresh_token, "refresh")
    family_key = keys.token_family_key(claims.tenant_id, claims.fam or "-")
    family = table.get(family_key)
    if not family or family.get("revoked"):
        raise Unauthorized("Invalid token", "The session was revoked")
    consumed = table.set_fields(
        keys.refresh_token_key(claims.tenant_id, claims.jti),
        {"rotated_at": iso(utc_now())},
        if_exists=True,
        condition="attribute_not_exists(rotated_at)",
    )
    if consumed is None:
        table.set_fields(family_key, {"revoked": True, "revoked_reason": "refresh token reuse"})
        raise Unauthorized("Invalid token", "Refresh token already used; the session was revoked")
    user = table.get(keys.user_key(claims.tenant_id, claims.sub))
    if not user or user.get("disabled"):
        raise Unauthorized("Invalid token", "The user no longer exists or is disabled")
    return _issue(table, settings, secret, user, str(claims.fam))


def revoke(table: StateTable, secret: str, refresh_token: str) -> None:
    """End the login the refresh token belongs to (all its refresh tokens)."""
    claims = tokens.decode(secret, refresh_token, "refresh")
    table.set_fields(
        keys.token_family_key(claims.tenant_id, claims.fam or "-"),
        {"revoked": True, "revoked_reason": "revoked by the user", "revoked_at": iso(utc_now())},
        if_exists=True,
    )


def authenticate_access_token(table: StateTable, secret: str, token: str) -> Principal:
    claims = tokens.decode(secret, token, "access")
    user = table.get(keys.user_key(claims.tenant_id, claims.sub))
    if not user or user.get("disabled"):
        raise Unauthorized("Invalid token", "The user no longer exists or is disabled")
    return Principal(
        key_id=str(user["id"]),
        tenant_id=str(user["tenant_id"]),
        name=str(user["username"]),
        permissions=[user["role"]],
        kind="user",
    )
