"""A value per key, kept for a while: one per app (`app.state.cache`), used by the routes that read slow sources."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class TimedCache:
    """A value per key, recomputed after `seconds` (the system configuration, the GitHub quota)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        found = self._values.get(key)
        if found is None or now - found[0] > self.seconds:
            found = (now, compute())
            self._values[key] = found
        return found[1]

    def forget(self, key: str) -> None:
        self._values.pop(key, None)
