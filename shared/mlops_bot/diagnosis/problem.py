"""The diagnosis result: what broke, how sure we are, and the log lines that say so.

`Problem` is the boundary object between the classifier and everything that acts on it (the healing
playbooks, the API, the CLI), so it is a strict pydantic model: a fixer can trust its shape without
re-validating, and `model_dump_json()` is the wire format.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.diagnosis.category import Category

__all__ = ["Category", "Evidence", "Problem"]


class Evidence(BaseModel):
    """One log line backing a diagnosis; `line` is 1-based in the analysed log (or zip member)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int = Field(ge=1)
    text: str


class Problem(BaseModel):
    """A classified CI failure.

    `kind` is deliberately an open string (``missing-python-module``, ``oom-killed``...): new tools
    bring new kinds faster than the category list should change. `details` holds what a fixer needs
    (``module``/``package``, ``tests``, ``limit``, ``requirement``...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Category
    kind: str
    details: dict[str, Any] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    step: str | None = None

    @classmethod
    def unknown(cls, reason: str) -> Problem:
        """A diagnosis that admits ignorance, so callers never have to handle `None`."""
        return cls(category=Category.UNKNOWN, kind="unknown", details={"reason": reason}, confidence=0.0)
