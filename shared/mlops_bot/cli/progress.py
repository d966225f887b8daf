"""Progress for long CLI work: on a terminal's stderr only, never in pipes or with `--json`.

Stdout stays the command's answer (scripts parse it); progress is one line on stderr, rewritten in
place, and erased when the work ends. Standard library only, so every subcommand can use it at no
start-up cost.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """`with Progress(enabled) as progress: progress.update("3/10 events/x.json")`."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self.min_interval = min_interval
        self._shown = 0
        self._last = 0.0
        self.started = time.monotonic()

    def update(self, message: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        line = f"{message}  ({now - self.started:.0f}s)"
        self.stream.write("\r" + line + " " * max(0, self._shown - len(line)))
        self.stream.flush()
        self._shown = len(line)

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.clear()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
