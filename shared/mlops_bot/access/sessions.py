"""Whether a login is still open, as access-token checks see it: read from the store, cached briefly.

Access tokens are JWTs, valid by signature for their hour; each one names its login (`fam`). A
request checks that login in the session store at most every `SESSION_CHECK_SECONDS` per process
(an open login is re-read after that; a revoked one stays revoked), so revoking a login or
detecting a reused refresh token ends every access token of that login within that time: at once
in the process that revoked it, within a minute in every other Lambda instance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mlops_bot.stores.sessions import SessionStore

SESSION_CHECK_SECONDS = 60.0
MAX_REMEMBERED = 10_000


class SessionCheck:
    def __init__(self, seconds: float = SESSION_CHECK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._known: dict[tuple[str, str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_open(self, store: SessionStore, scope: str, tenant_id: str, family_id: str) -> bool:
        """`scope` names the store (its table), so two tables never share an answer."""
        key = (scope, tenant_id, family_id)
        now = self.clock()
        with self._lock:
            found = self._known.get(key)
        if found is not None and (not found[1] or now - found[0] < self.seconds):
            return found[1]
        family = store.get(tenant_id, family_id)
        is_open = family is not None and not family.revoked
        self._remember(key, now, is_open)
        return is_open

    def closed(self, scope: str, tenant_id: str, family_id: str) -> None:
        """This process revoked the login: no need to wait for the next read."""
        self._remember((scope, tenant_id, family_id), self.clock(), False)

    def _remember(self, key: tuple[str, str, str], now: float, is_open: bool) -> None:
        with self._lock:
            if len(self._known) >= MAX_REMEMBERED:
                self._known.clear()
            self._known[key] = (now, is_open)


session_check = SessionCheck()
