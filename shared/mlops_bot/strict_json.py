"""JSON as RFC 8259 defines it, and only numbers every store of the bot can hold.

Python's `json` accepts `NaN`, `Infinity` and `-Infinity`, turns `1e400` into `inf`, and builds
integers of thousands of digits. None of these can be stored (DynamoDB refuses them, or stores
one that every later read chokes on), so the edges (the webhook ingress, the management API)
parse request bodies here and refuse them before any model or store sees them.

Nesting is bounded too (`MAX_DEPTH`): a document that parses here could otherwise fail further
on, where limits are lower, as a 5xx or as a queue message its consumer can never read (pydantic
stops serialising and parsing JSON at a few hundred levels; DynamoDB stores 32).

Pure standard library: this module is on the webhook ingress's cold-start path.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Every numeric id GitHub sends fits a signed 64-bit integer; so does every count the bot keeps.
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
# Decided on the digits before building the int: a 5,000-digit literal never reaches `int()`.
_MAX_INT_DIGITS = len(str(MAX_INT))
# Objects and arrays inside one another, the document itself being level 1. DynamoDB's limit;
# GitHub's payloads and the API's bodies stay under ten.
MAX_DEPTH = 32


class NotStorableNumber(ValueError):
    """A number the bot refuses to take: non-finite, overflowing to infinity, or beyond 64 bits."""

    def __init__(self, literal: str, reason: str) -> None:
        shown = literal if len(literal) <= 40 else f"{literal[:37]}..."
        super().__init__(f"{shown} is not accepted: {reason}")
        self.literal = literal
        self.reason = reason


class NonFiniteNumber(NotStorableNumber):
    """`NaN`, `Infinity`, `-Infinity`, or a float literal that overflows (`1e400`)."""


class IntegerOutOfRange(NotStorableNumber):
    """An integer literal outside the signed 64-bit range."""


class NestingTooDeep(ValueError):
    """Objects and arrays nested deeper than `MAX_DEPTH` (or than the parser itself can go)."""

    def __init__(self) -> None:
        super().__init__(f"JSON nesting is too deep: at most {MAX_DEPTH} levels of objects and arrays")


def _refuse_constant(name: str) -> Any:
    raise NonFiniteNumber(name, "numbers must be finite")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise NonFiniteNumber(literal, "numbers must be finite")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > _MAX_INT_DIGITS:
        raise IntegerOutOfRange(literal, "integers must fit in 64 bits")
    value = int(literal)
    if not MIN_INT <= value <= MAX_INT:
        raise IntegerOutOfRange(literal, "integers must fit in 64 bits")
    return value


def loads(text: str | bytes) -> Any:
    """Parse one JSON document; raises `json.JSONDecodeError`, `NotStorableNumber`, `NestingTooDeep`."""
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except RecursionError as exc:  # deeper than the interpreter's stack: far beyond MAX_DEPTH
        raise NestingTooDeep() from exc
    if shape_problem(document) is not None:
        raise NestingTooDeep()
    return document


def shape_problem(document: Any, *, max_depth: int = MAX_DEPTH, max_values: int | None = None) -> str | None:
    """Why a decoded document is too deep or (counting every value) too large, or None.

    Walked without recursion and stopped at `max_values`, so a document whose repeated references
    stand for billions of values (YAML aliases) costs no more than `max_values` steps.
    """
    pending: list[tuple[Any, int]] = [(document, 1)]
    seen = 0
    while pending:
        value, depth = pending.pop()
        seen += 1
        if max_values is not None and seen > max_values:
            return f"too large: more than {max_values} values"
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return f"nested too deeply: at most {max_depth} levels of objects and arrays"
        pending.extend(
            (child, depth + 1) for child in children if max_values is not None or isinstance(child, dict | list)
        )
    return None


def finite_tree(value: Any, where: str = "") -> Any:
    """Check a decoded document (or any nested dict/list of values) holds only finite floats.

    For `dict[str, Any]` fields of models, which pydantic's `allow_inf_nan=False` does not reach.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where or 'value'}: numbers must be finite")
    if isinstance(value, dict):
        for key, nested in value.items():
            finite_tree(nested, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, nested in enumerate(value):
            finite_tree(nested, f"{where}[{index}]")
    return value
