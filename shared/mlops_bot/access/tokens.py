"""JWTs for management users: HS256 only, short-lived access tokens, rotated refresh tokens.

The algorithm is pinned on both sides: a token whose header names anything but HS256 (`none`,
HS512, RS256 signed with some public key...) is refused before its signature is even considered,
and `jwt.decode` is told the one algorithm it may accept, so there is no algorithm confusion. The
claims `exp`, `iat`, `sub`, `tenant_id` and `type` must be present; `type` keeps a refresh token
from being used as an access token and the other way round.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel

from mlops_bot.access.settings import AccessSettings
from mlops_bot.errors import ServiceUnavailable, Unauthorized

ALGORITHM = "HS256"
ISSUER = "mlops-bot"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "tenant_id", "type"]
MIN_SECRET_LENGTH = 32
SECRET_CACHE_SECONDS = 300
TokenType = Literal["access", "refresh"]

# PyJWT (with cryptography, ~90 ms) and powertools' parameters (boto3) are imported by the calls
# that use them: an API-key request needs neither, and the management API's cold start pays for none.


class Claims(BaseModel):
    sub: str
    tenant_id: str
    type: TokenType
    iat: int
    exp: int
    jti: str
    role: str | None = None
    fam: str | None = None


def signing_secret(settings: AccessSettings) -> str:
    """The HS256 key: `MLOPS_BOT_JWT_SECRET` locally, else the Secrets Manager secret (cached)."""
    value = settings.jwt_secret
    if not value and settings.jwt_secret_name:
        from aws_lambda_powertools.utilities import parameters

        value = str(parameters.get_secret(settings.jwt_secret_name, max_age=SECRET_CACHE_SECONDS))
    if not value or len(value) < MIN_SECRET_LENGTH:
        raise ServiceUnavailable(
            "Token authentication is not configured",
            f"Set MLOPS_BOT_JWT_SECRET_NAME (or MLOPS_BOT_JWT_SECRET, at least {MIN_SECRET_LENGTH} characters)",
        )
    return value


def encode(
    secret: str,
    *,
    subject: str,
    tenant_id: str,
    token_type: TokenType,
    lifetime_seconds: int,
    role: str | None = None,
    family: str | None = None,
    now: int | None = None,
) -> tuple[str, Claims]:
    import jwt

    issued = int(time.time()) if now is None else now
    claims = Claims(
        sub=subject,
        tenant_id=tenant_id,
        type=token_type,
        iat=issued,
        exp=issued + lifetime_seconds,
        jti=uuid.uuid4().hex,
        role=role,
        fam=family,
    )
    payload: dict[str, Any] = {**claims.model_dump(exclude_none=True), "iss": ISSUER}
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and token.startswith("eyJ")


def decode(secret: str, token: str, expected: TokenType) -> Claims:
    """Verified claims of `token`, or Unauthorized (never which check failed beyond a short reason)."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("Invalid token", "The token is malformed") from exc
    if header.get("alg") != ALGORITHM:
        raise Unauthorized("Invalid token", f"Only {ALGORITHM} tokens are accepted")
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": [*REQUIRED_CLAIMS, "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token expired", "Log in again or use the refresh token") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("Invalid token", "The token signature or claims are invalid") from exc
    if payload.get("type") != expected:
        raise Unauthorized("Invalid token", f"An {expected} token is required here")
    try:
        return Claims.model_validate(payload)
    except ValueError as exc:
        raise Unauthorized("Invalid token", "The token claims are invalid") from exc
