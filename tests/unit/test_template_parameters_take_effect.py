"""A deployment parameter the template declares and then ignores is worse than none: each one is used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_bot.local.template import Template

ROOT = Path(__file__).resolve().parents[2]


def _references(node: Any) -> set[str]:
    """Every name a `Ref` or `Fn::Sub` (`${Name}`) reaches anywhere under `node`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else json.dumps(value)
                found.update(part.split("}", 1)[0] for part in text.split("${")[1:])
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def test_every_parameter_is_used_by_the_template() -> None:
    template = Template.load(ROOT / "template.yaml")
    document = {key: value for key, value in template.document.items() if key != "Parameters"}
    unused = set(template.document["Parameters"]) - _references(document)
    assert unused == set()


def test_every_functions_log_group_keeps_the_configured_retention() -> None:
    template = Template.load(ROOT / "template.yaml")
    functions = set(template.of_type("AWS::Serverless::Function"))
    groups = template.of_type("AWS::Logs::LogGroup")
    kept = {
        name
        for group in groups.values()
        for name in _references(group["Properties"]["LogGroupName"])
        if group["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}
    }
    assert functions and functions <= kept


def test_the_check_sees_an_unused_parameter() -> None:
    assert _references({"A": {"Fn::Sub": "x-${Stage}-${AWS::Region}"}, "B": [{"Ref": "DryRun"}]}) == {
        "Stage",
        "AWS::Region",
        "DryRun",
    }
