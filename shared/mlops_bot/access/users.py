"""Management users: login with a password, JWT access tokens, rotated and revocable refresh tokens.

A login opens a token *family* (a session). Each refresh consumes its refresh token (a
conditional write, so a token works once) and issues the next one in the family. Presenting a
consumed refresh token again means it was copied: the whole family is revoked. A revoked family
ends its access tokens too: every request checks the token's family (`fam`), read at most every
60 s per process (`access.sessions`). Each request also re-reads the user, so disabling a user
takes effect at once.

Login names are unique within a tenant; a login names its tenant (`tenant_id`, the operator
tenant when omitted), so creating a user never reveals what names other tenants use.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from pydantic import BaseModel

from mlops_bot.access import passwords, throttle, tokens
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.access.sessions import SessionCheck, session_check
from mlops_bot.access.settings import AccessSettings
from mlops_bot.clock import epoch_seconds, iso, utc_now
from mlops_bot.errors import Conflict, Unauthorized, ValidationFailed
from mlops_bot.stores.login_attempts import LoginAttemptStore
from mlops_bot.stores.sessions import RefreshToken, SessionStore, TokenFamily
from mlops_bot.stores.users import UserCreation, UserRecord, UserStore

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


@dataclass(frozen=True)
class AccessStores:
    """What the user services read and write; `scope` names them for the session cache."""

    users: UserStore
    sessions: SessionStore
    attempts: LoginAttemptStore
    scope: str
    check: SessionCheck = session_check


def _public(user: UserRecord) -> User:
    return User.model_validate(user.model_dump(exclude={"password_hash"}))


def normalized(username: str) -> str:
    return username.strip().lower()


def validate_credentials(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise ValidationFailed("Invalid username", "3-128 characters: letters, digits and . _ % + @ -")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed("Invalid password", f"Passwords need at least {MIN_PASSWORD_LENGTH} characters")


class QuotaFull(Exception):
    """The tenant has `max_users` users (the management layer turns this into QUOTA_EXCEEDED)."""


def create_user(
    stores: AccessStores,
    tenant_id: str,
    username: str,
    password: str,
    role: Permission,
    *,
    max_users: int = 1_000_000,
) -> User:
    """Store a user with a scrypt hash, within `max_users`. 409 only when this tenant has the name."""
    validate_credentials(username, password)
    user = UserRecord(
        id=f"user-{uuid.uuid4().hex[:12]}",
        username=normalized(username),
        role=role,
        tenant_id=tenant_id,
        created_at=iso(utc_now()),
        password_hash=passwords.hash_password(password),
    )
    outcome = stores.users.create(user, max_users=max_users)
    if outcome is UserCreation.NAME_TAKEN:
        raise Conflict("User already exists", f"This tenant already has a user '{user.username}'")
    if outcome is UserCreation.TENANT_FULL:
        raise QuotaFull(tenant_id)
    return _public(user)


def list_users(stores: AccessStores, tenant_id: str) -> list[User]:
    return [_public(u) for u in stores.users.list(tenant_id)]


def _issue(stores: AccessStores, settings: AccessSettings, secret: str, user: UserRecord, family: str) -> TokenPair:
    access, _ = tokens.encode(
        secret,
        subject=user.id,
        tenant_id=user.tenant_id,
        token_type="access",  # noqa: S106
        lifetime_seconds=settings.access_token_seconds,
        role=user.role,
        family=family,
    )
    refresh, claims = tokens.encode(
        secret,
        subject=user.id,
        tenant_id=user.tenant_id,
        token_type="refresh",  # noqa: S106
        lifetime_seconds=settings.refresh_token_seconds,
        family=family,
    )
    stores.sessions.record_refresh(
        RefreshToken(
            tenant_id=user.tenant_id,
            token_id=claims.jti,
            user_id=user.id,
            family_id=family,
            issued_at=iso(utc_now()),
            expires_at=claims.exp,
        )
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_seconds,
        refresh_expires_in=settings.refresh_token_seconds,
        user_info=UserInfo(id=user.id, username=user.username, role=user.role, tenant_id=user.tenant_id),
    )


def throttle_policy(settings: AccessSettings) -> throttle.ThrottlePolicy:
    """`MLOPS_BOT_LOGIN_ATTEMPTS` is how many failures one address may have for one user before back-off."""
    policy = throttle.ThrottlePolicy()
    return policy.model_copy(
        update={"pair": policy.pair.model_copy(update={"free_failures": max(1, settings.login_attempts_per_window)})}
    )


def login(
    stores: AccessStores,
    settings: AccessSettings,
    secret: str,
    username: str,
    password: str,
    *,
    tenant_id: str | None = None,
    address: str = "unknown",
) -> TokenPair:
    """Tokens for the right password; 401 otherwise, the same for unknown users; 429 while throttled."""
    tenant = tenant_id or settings.operator_tenant
    name = normalized(username)
    policy = throttle_policy(settings)
    scopes = throttle.LoginScopes.of(tenant, name, address)
    now = epoch_seconds(utc_now())
    throttle.check(stores.attempts, policy, scopes, now)
    user = stores.users.find_login(tenant, name) if USERNAME.match(name) else None
    stored = user.password_hash if user else passwords.dummy_hash()
    valid = passwords.verify_password(password[:MAX_PASSWORD_LENGTH], stored)
    if user is None or not valid or user.disabled:
        throttle.failed(stores.attempts, policy, scopes, now)
        raise Unauthorized("Invalid credentials", "Unknown user or wrong password")
    throttle.succeeded(stores.attempts, scopes)
    if passwords.needs_rehash(stored):
        stores.users.set_password_hash(user.tenant_id, user.id, passwords.hash_password(password))
    family = f"fam-{uuid.uuid4().hex}"
    stores.sessions.open(
        TokenFamily(
            tenant_id=user.tenant_id,
            family_id=family,
            user_id=user.id,
            created_at=iso(utc_now()),
            expires_at=now + settings.refresh_token_seconds,
        )
    )
    return _issue(stores, settings, secret, user, family)


def _end_session(stores: AccessStores, tenant_id: str, family: str, reason: str) -> None:
    stores.sessions.revoke(tenant_id, family, reason, iso(utc_now()))
    stores.check.closed(stores.scope, tenant_id, family)


def refresh(stores: AccessStores, settings: AccessSettings, secret: str, refresh_token: str) -> TokenPair:
    claims = tokens.decode(secret, refresh_token, "refresh")
    family = stores.sessions.get(claims.tenant_id, claims.fam or "-")
    if family is None or family.revoked:
        raise Unauthorized("Invalid token", "The session was revoked")
    if not stores.sessions.consume_refresh(claims.tenant_id, claims.jti, iso(utc_now())):
        _end_session(stores, claims.tenant_id, family.family_id, "refresh token reuse")
        raise Unauthorized("Invalid token", "Refresh token already used; the session was revoked")
    user = stores.users.get(claims.tenant_id, claims.sub)
    if user is None or user.disabled:
        raise Unauthorized("Invalid token", "The user no longer exists or is disabled")
    return _issue(stores, settings, secret, user, family.family_id)


def revoke(stores: AccessStores, secret: str, refresh_token: str) -> None:
    """End the login the refresh token belongs to: its refresh tokens and its access tokens."""
    claims = tokens.decode(secret, refresh_token, "refresh")
    _end_session(stores, claims.tenant_id, claims.fam or "-", "revoked by the user")


def authenticate_access_token(stores: AccessStores, secret: str, token: str) -> Principal:
    claims = tokens.decode(secret, token, "access")
    if not claims.fam or not stores.check.is_open(stores.sessions, stores.scope, claims.tenant_id, claims.fam):
        raise Unauthorized("Invalid token", "The session was revoked; log in again")
    user = stores.users.get(claims.tenant_id, claims.sub)
    if user is None or user.disabled:
        raise Unauthorized("Invalid token", "The user no longer exists or is disabled")
    return Principal(
        key_id=user.id,
        tenant_id=user.tenant_id,
        name=user.username,
        permissions=[user.role],
        kind="user",
        session_id=claims.fam,
    )
