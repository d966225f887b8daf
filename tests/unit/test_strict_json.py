"""The edges' JSON parser: RFC 8259 JSON with only numbers a store can hold."""

from __future__ import annotations

import json

import pytest

from mlops_bot import strict_json


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e400}', "[-1e999]"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    assert json.loads(text) is not None  # what Python's own parser would have let through
    with pytest.raises(strict_json.NonFiniteNumber):
        strict_json.loads(text)


@pytest.mark.parametrize("literal", [str(2**63), str(-(2**63) - 1), "1" + "0" * 40, "9" * 5000])
def test_integers_beyond_64_bits_are_refused_without_building_them(literal: str) -> None:
    with pytest.raises(strict_json.IntegerOutOfRange):
        strict_json.loads(f'{{"id": {literal}}}')


def test_ordinary_documents_parse_as_json_would() -> None:
    text = '{"id": 9223372036854775807, "low": -9223372036854775808, "x": 1.5e-300, "s": "NaN", "l": [0, -0.0]}'
    assert strict_json.loads(text) == json.loads(text)


def test_finite_tree_finds_a_non_finite_value_anywhere() -> None:
    strict_json.finite_tree({"a": [1, 2.5, {"b": "inf"}]})
    with pytest.raises(ValueError, match=r"a\[1\]\.b"):
        strict_json.finite_tree({"a": [1, {"b": float("-inf")}]})


def _nested(depth: int) -> str:
    return '{"a":' * (depth - 1) + "[]" + "}" * (depth - 1)


def test_nesting_up_to_the_limit_parses_and_one_level_more_is_refused() -> None:
    assert strict_json.loads(_nested(strict_json.MAX_DEPTH)) is not None
    with pytest.raises(strict_json.NestingTooDeep):
        strict_json.loads(_nested(strict_json.MAX_DEPTH + 1))
    with pytest.raises(strict_json.NestingTooDeep):
        strict_json.loads("[" * (strict_json.MAX_DEPTH + 1) + "]" * (strict_json.MAX_DEPTH + 1))


def test_nesting_beyond_the_interpreters_stack_is_the_same_refusal() -> None:
    with pytest.raises(strict_json.NestingTooDeep):
        strict_json.loads("[" * 200_000 + "]" * 200_000)


def test_wide_documents_are_not_deep() -> None:
    wide = {"items": [{"a": [1, 2, {"b": None}]} for _ in range(10_000)]}
    assert strict_json.loads(json.dumps(wide)) == wide
