"""`Diagnosis`: the classifier's result before it becomes a pydantic `Problem`.

The classifier builds this plain, frozen record so that a caller who only prints the verdict (the
``mlops-bot diagnose`` CLI) never imports pydantic (~90 ms at start). `to_problem` makes the validated
`Problem` every other caller gets; `to_json` prints exactly what ``Problem.model_dump_json(indent=2)``
prints, and hands anything the standard library's encoder could spell differently to pydantic.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple

from mlops_bot.diagnosis.category import Category
from mlops_bot.diagnosis.records import FrozenRecord

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from mlops_bot.diagnosis.problem import Problem

    class Cited(NamedTuple):
        """One log line backing a diagnosis, as `Evidence` holds it: 1-based `line` and its `text`."""

        line: int
        text: str

else:
    Cited = namedtuple("Cited", ["line", "text"])  # typing.NamedTuple would import typing


class Diagnosis(FrozenRecord):
    """The fields of `Problem`, unvalidated (the classifier only ever builds valid ones)."""

    __slots__ = ("category", "confidence", "details", "evidence", "kind", "step")
    _fields = ("category", "kind", "details", "evidence", "confidence", "step")
    category: Category
    kind: str
    details: dict[str, Any]
    evidence: tuple[Cited, ...]
    confidence: float
    step: str | None

    def __init__(
        self,
        category: Category,
        kind: str,
        details: dict[str, Any],
        evidence: tuple[Cited, ...],
        confidence: float,
        step: str | None = None,
    ) -> None:
        self._init(category=category, kind=kind, details=details, evidence=evidence, confidence=confidence, step=step)

    @classmethod
    def unknown(cls, reason: str) -> Diagnosis:
        """As `Problem.unknown`: a diagnosis that admits ignorance."""
        return cls(Category.UNKNOWN, "unknown", {"reason": reason}, (), 0.0)

    def replace(self, **changes: Any) -> Diagnosis:
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return Diagnosis(**values)

    def to_problem(self) -> Problem:
        """The validated `Problem` (imports pydantic)."""
        from mlops_bot.diagnosis.problem import Evidence, Problem

        return Problem(
            category=self.category,
            kind=self.kind,
            details=self.details,
            evidence=[Evidence(line=item.line, text=item.text) for item in self.evidence],
            confidence=self.confidence,
            step=self.step,
        )

    def to_json(self) -> str:
        """``self.to_problem().model_dump_json(indent=2)``, without pydantic when the standard encoder agrees."""
        payload = {
            "category": self.category.value,
            "kind": self.kind,
            "details": self.details,
            "evidence": [{"line": item.line, "text": item.text} for item in self.evidence],
            "confidence": self.confidence,
            "step": self.step,
        }
        if _plain(payload) and self._valid():
            return json.dumps(payload, indent=2, ensure_ascii=False)
        return self.to_problem().model_dump_json(indent=2)

    def _valid(self) -> bool:
        """What `Problem` validates; anything else goes through pydantic, which raises as before."""
        return (
            type(self.category) is Category
            and 0.0 <= self.confidence <= 1.0
            and all(type(item.line) is int and item.line >= 1 and type(item.text) is str for item in self.evidence)
        )


# Floats whose shortest form Python's `repr` and pydantic's serializer write alike (both switch to an
# exponent outside this range, at different places).
_FLOAT_RANGE = (1e-4, 1e15)


def _plain(value: object) -> bool:
    """Only JSON's own types (str keys, exact types, finite floats in `_FLOAT_RANGE`): encoded alike."""
    if value is None or type(value) is bool or type(value) is int:
        return True
    if type(value) is str:
        return _no_surrogates(value)
    if type(value) is float:
        return math.isfinite(value) and (value == 0.0 or _FLOAT_RANGE[0] <= abs(value) < _FLOAT_RANGE[1])
    if type(value) is list or type(value) is tuple:
        return all(_plain(item) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _no_surrogates(key) and _plain(item) for key, item in value.items())
    return False


def _no_surrogates(text: str) -> bool:
    return text.isascii() or not any("\ud800" <= char <= "\udfff" for char in text)
