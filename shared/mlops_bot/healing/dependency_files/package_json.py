"""package.json: npm dependencies, in the file's own indentation."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

from mlops_bot.healing.dependency_files._core import (
    _NPM_NAME,
    _NPM_SPEC,
    DependencyEdit,
    _edit,
    _eol,
    _first_on_line,
    _indent_before,
    _is_sorted,
    _splice,
)

# --------------------------------------------------------------------------------------------------
# package.json


@dataclass(frozen=True)
class _JsonMember:
    key: str
    key_start: int
    value_start: int
    value_end: int


def _json_string_end(text: str, start: int) -> int:
    index = start + 1
    while text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _json_value_end(text: str, start: int) -> int:
    if text[start] == '"':
        return _json_string_end(text, start)
    if text[start] in "{[":
        depth, index = 0, start
        while True:
            char = text[index]
            if char == '"':
                index = _json_string_end(text, index)
                continue
            if char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
    match = re.compile(r"[^,\]}\s]+").match(text, start)
    return match.end() if match else start


def _skip_space(text: str, index: int) -> int:
    while text[index] in " \t\r\n":
        index += 1
    return index


def _json_members(text: str, open_index: int) -> tuple[list[_JsonMember], int]:
    """Members of the (valid) JSON object opening at `open_index`, and the offset of its `}`."""
    members: list[_JsonMember] = []
    index = _skip_space(text, open_index + 1)
    while text[index] != "}":
        key_end = _json_string_end(text, index)
        value_start = _skip_space(text, _skip_space(text, key_end) + 1)
        value_end = _json_value_end(text, value_start)
        members.append(_JsonMember(json.loads(text[index:key_end]), index, value_start, value_end))
        index = _skip_space(text, value_end)
        if text[index] == ",":
            index = _skip_space(text, index + 1)
    return members, index


def _json_indent_unit(text: str) -> str:
    match = re.search(r"\n([ \t]+)\S", text)
    return match[1] if match else "  "


_INSTALLED_NODE_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")


def _npm_request(package: str, version_spec: str | None) -> tuple[str, str]:
    if not _NPM_NAME.fullmatch(package):
        raise ValueError(f"not an npm package name: {package!r}")
    spec = (version_spec or "*").strip()
    if spec.startswith("==") and spec[2:3].isdigit():
        spec = spec[2:]
    if not _NPM_SPEC.fullmatch(spec):
        raise ValueError(f"not an npm version range: {spec!r}")
    return package, spec


def _add_to_package_json(path: str, content: str, package: str, version_spec: str | None) -> DependencyEdit | None:
    name, spec = _npm_request(package, version_spec)
    try:
        document = json.loads(content)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    for section in _INSTALLED_NODE_SECTIONS:
        declared = document.get(section)
        if isinstance(declared, dict) and name.lower() in {k.lower() for k in declared}:
            return None
    if "dependencies" in document and not isinstance(document["dependencies"], dict):
        return None
    eol = _eol(content)
    top, _ = _json_members(content, _skip_space(content, 0))
    unit = _json_indent_unit(content)
    separators = [content[m.key_start : m.value_start] for m in top]
    colon = next((s[s.index('"', 1) + 1 :] for s in separators), ": ")
    entry = f"{json.dumps(name)}{colon}{json.dumps(spec)}"
    multi_line = "\n" in content.strip()
    dependencies = next((m for m in top if m.key == "dependencies"), None)
    if dependencies is None:
        new_content = _create_json_dependencies(content, top, entry, colon, unit, multi_line, eol)
    else:
        separator = "," if colon == ":" else ", "
        new_content = _insert_json_member(content, dependencies, entry, name, unit, multi_line, eol, separator)
    if new_content is None:
        return None
    try:
        new_document = json.loads(new_content)
    except json.JSONDecodeError:
        return None
    expected = copy.deepcopy(document)
    expected_dependencies = expected.setdefault("dependencies", {})
    keys = list(expected_dependencies)
    expected_dependencies[name] = spec
    if new_document != expected:
        return None
    order = list(new_document["dependencies"])
    if _is_sorted([k.lower() for k in keys]) and order != sorted(order, key=str.lower):
        return None
    return _edit(path, content, new_content, entry)


def _create_json_dependencies(
    content: str, top: list[_JsonMember], entry: str, colon: str, unit: str, multi_line: bool, eol: str
) -> str | None:
    if not top:
        return None
    key = f'"dependencies"{colon}'
    block = f"{key}{{{eol}{unit * 2}{entry}{eol}{unit}}}" if multi_line else f"{key}{{{entry}}}"
    before = next((m for m in top if m.key == "devDependencies"), None)
    if before is not None:
        tail = f",{eol}{_indent_before(content, before.key_start)}" if multi_line else ("," if colon == ":" else ", ")
        return _splice(content, (before.key_start, block + tail))
    last = top[-1]
    lead = f",{eol}{_indent_before(content, last.key_start)}" if multi_line else ("," if colon == ":" else ", ")
    return _splice(content, (last.value_end, lead + block))


def _insert_json_member(
    content: str,
    dependencies: _JsonMember,
    entry: str,
    name: str,
    unit: str,
    multi_line: bool,
    eol: str,
    separator_default: str,
) -> str | None:
    if content[dependencies.value_start] != "{":
        return None
    members, close = _json_members(content, dependencies.value_start)
    outer = _indent_before(content, dependencies.key_start)
    if not members:
        inner = f"{eol}{outer}{unit}{entry}{eol}{outer}" if multi_line else entry
        return content[: dependencies.value_start + 1] + inner + content[close:]
    keys = [m.key.lower() for m in members]
    separator = separator_default
    if len(members) >= 2 and "\n" not in content[members[0].value_end : members[1].key_start]:
        separator = content[members[0].value_end : members[1].key_start]
    if _is_sorted(keys):
        successor = next((m for m in members if m.key.lower() > name.lower()), None)
        if successor is not None:
            if _first_on_line(content, successor.key_start):
                return _splice(
                    content, (successor.key_start, f"{entry},{eol}{_indent_before(content, successor.key_start)}")
                )
            return _splice(content, (successor.key_start, f"{entry}{separator}"))
    last = members[-1]
    if _first_on_line(content, last.key_start) and "\n" in content[dependencies.value_start : close]:
        return _splice(content, (last.value_end, f",{eol}{_indent_before(content, last.key_start)}{entry}"))
    return _splice(content, (last.value_end, f"{separator}{entry}"))
