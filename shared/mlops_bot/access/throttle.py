"""Login throttling that an attacker cannot turn against the user it guesses at.

Failures are counted three ways, each with a growing lock (doubling from a base, capped):

- per (user, client address): one address guessing one user is held back first and longest;
- per client address: one address spraying many users is held back, whoever they are;
- per user, across addresses: many addresses guessing one user. This lock only holds addresses
  that have themselves failed for this user more than `clean_failures` times, and it is short
  (at most `user.max_seconds`): the right password from an address with a clean record is never
  refused because someone else guessed wrong.

Unknown user names are counted exactly like known ones (the scopes hash the name, existing or
not), and the caller verifies the password against a dummy hash for them, so neither the answer
nor its timing tells whether a name exists.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from mlops_bot.errors import RateLimited
from mlops_bot.stores.login_attempts import FailedLogins, LoginAttemptStore


class LockRule(BaseModel):
    """`free_failures` cost nothing; each further failure doubles the lock from `base_seconds`."""

    free_failures: int = Field(ge=1)
    base_seconds: int = Field(ge=1)
    max_seconds: int = Field(ge=1)

    def lock_seconds(self, failures: int) -> int:
        if failures < self.free_failures:
            return 0
        doubling: int = 2 ** min(failures - self.free_failures, 30)
        return min(self.max_seconds, self.base_seconds * doubling)


class ThrottlePolicy(BaseModel):
    pair: LockRule = LockRule(free_failures=5, base_seconds=30, max_seconds=900)
    address: LockRule = LockRule(free_failures=50, base_seconds=30, max_seconds=900)
    user: LockRule = LockRule(free_failures=10, base_seconds=5, max_seconds=60)
    clean_failures: int = Field(default=2, ge=0, description="failures for this user an address may have and be clean")
    forget_after_seconds: int = Field(default=3600, ge=60)


class LoginScopes(BaseModel):
    user: str
    address: str
    pair: str

    @classmethod
    def of(cls, tenant_id: str, username: str, address: str) -> LoginScopes:
        def digest(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()[:32]

        user = digest(f"{tenant_id}\n{username}")
        where = digest(address)
        return cls(user=f"user:{user}", address=f"addr:{where}", pair="pair:" + digest(user + "\n" + where))


def _wait(found: FailedLogins | None, now: int) -> int:
    return max(0, found.locked_until - now) if found is not None else 0


def check(store: LoginAttemptStore, policy: ThrottlePolicy, scopes: LoginScopes, now: int) -> None:
    """RateLimited (429, `retry_after`) while a lock holds this attempt; called before any password check."""
    pair = store.get(scopes.pair, now)
    waits = [_wait(pair, now), _wait(store.get(scopes.address, now), now)]
    if pair is not None and pair.failures > policy.clean_failures:
        waits.append(_wait(store.get(scopes.user, now), now))
    wait = max(waits)
    if wait > 0:
        raise RateLimited("Too many login attempts", retry_after=wait)


def failed(store: LoginAttemptStore, policy: ThrottlePolicy, scopes: LoginScopes, now: int) -> None:
    forget = policy.forget_after_seconds
    store.record_failure(scopes.pair, now, policy.pair.lock_seconds, forget)
    store.record_failure(scopes.address, now, policy.address.lock_seconds, forget)
    store.record_failure(scopes.user, now, policy.user.lock_seconds, forget)


def succeeded(store: LoginAttemptStore, scopes: LoginScopes) -> None:
    """The user proved who they are: their own and this address's record for them start clean."""
    store.clear(scopes.pair)
    store.clear(scopes.user)
