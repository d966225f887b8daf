"""Password hashing for management users: scrypt from the standard library.

Passwords are chosen by people and guessable, so unlike API keys (256 random bits, a fast digest
is enough) they need a slow, memory-hard hash: a stolen table must cost an attacker real work per
guess. scrypt is memory-hard and in `hashlib`, so the Lambda layer gains no native dependency.
The parameters travel inside the stored string, so they can be raised later without a migration:
a login with old parameters still verifies, and `needs_rehash` tells the caller to re-store it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

# N=2^15, r=8: 32 MiB and roughly 0.1-0.2 s per hash on a Lambda vCPU (OWASP's floor is N=2^17
# with r=8 for interactive logins on servers; 2^15 keeps a 512 MB function responsive).
COST = 2**15
BLOCK_SIZE = 8
PARALLELISM = 1
KEY_LENGTH = 32
SALT_BYTES = 16
MAX_MEMORY = 128 * 1024 * 1024
SCHEME = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=KEY_LENGTH)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash base64url."""
    salt = secrets.token_bytes(SALT_BYTES)
    derived = _derive(password, salt, COST, BLOCK_SIZE, PARALLELISM)
    return f"{SCHEME}${COST}${BLOCK_SIZE}${PARALLELISM}${_b64(salt)}${_b64(derived)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison; False for anything malformed."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != SCHEME:
            return False
        derived = _derive(password, _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, _unb64(expected))
    except (ValueError, TypeError):
        return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"{SCHEME}${COST}${BLOCK_SIZE}${PARALLELISM}$")


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the user does not exist, so a login for an unknown name takes as
    long as one with a wrong password (no user enumeration by timing). Built on first use."""
    return hash_password(secrets.token_urlsafe(16))
