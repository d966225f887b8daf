"""Regular expressions compiled on first use, so importing the rules costs no `re.compile`.

`mlops-bot diagnose` runs once per process: compiling every rule's and helper's pattern at import
(~150 of them) cost more than classifying a typical log. A `LazyPattern` holds the pattern text and
compiles it (through `re.compile`, so with the same flags and semantics) the first time it is used;
most runs only ever compile the few whose literal pre-filter matched a line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator


class LazyPattern:
    """A `re.Pattern[str]` stand-in for the methods the diagnosis code uses; compiled on first use."""

    __slots__ = ("_compiled", "_source", "flags")

    def __init__(self, pattern: str | Callable[[], str], flags: int = 0) -> None:
        self._source = pattern  # the text, or a function making it (when making it costs too)
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> str:
        if not isinstance(self._source, str):
            self._source = self._source()
        return self._source

    @property
    def is_compiled(self) -> bool:
        return self._compiled is not None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[object]:
        return self.compiled.findall(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


def lazy(pattern: str | Callable[[], str], flags: int = 0) -> LazyPattern:
    """`re.compile`, deferred until the pattern is first used."""
    return LazyPattern(pattern, flags)


Regex = re.Pattern[str] | LazyPattern
