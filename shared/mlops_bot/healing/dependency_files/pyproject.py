"""pyproject.toml: PEP 621 `[project]` dependencies and Poetry tables."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from mlops_bot.healing.dependency_files._core import (
    DependencyEdit,
    _attached_start,
    _bare,
    _edit,
    _eol,
    _first_on_line,
    _indent_before,
    _insert_line,
    _is_sorted,
    _last_content_index,
    _line_start,
    _lines,
    _next_line_start,
    _python_request,
    _Requested,
    _splice,
    canonical_name,
)
from mlops_bot.healing.dependency_files.requirements import (
    _requirement_name,
)

# --------------------------------------------------------------------------------------------------
# pyproject.toml


_TOML_KEY = r"(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')"
_TOML_HEADER = re.compile(rf"^[ \t]*\[(?P<name>[ \t]*{_TOML_KEY}(?:[ \t]*\.[ \t]*{_TOML_KEY})*)[ \t]*\][ \t]*(?:#.*)?$")
_TOML_ARRAY_HEADER = re.compile(rf"^[ \t]*\[\[[ \t]*{_TOML_KEY}(?:[ \t]*\.[ \t]*{_TOML_KEY})*[ \t]*\]\]")
_TOML_KEY_LINE = re.compile(rf"^(?P<indent>[ \t]*)(?P<key>{_TOML_KEY})(?P<gap>[ \t]*)=[ \t]*(?P<value>.*)$")


@dataclass(frozen=True)
class _Table:
    name: tuple[str, ...]
    body_start: int  # first line after the header
    body_end: int  # the next header's line (or len(lines))


def _toml_tables(lines: Sequence[str]) -> list[_Table]:
    headers: list[tuple[int, tuple[str, ...]]] = []
    for index, line in enumerate(lines):
        text = _bare(line)
        if match := _TOML_HEADER.match(text):
            keys = re.findall(_TOML_KEY, match["name"])
            headers.append((index, tuple(k.strip("\"'") for k in keys)))
        elif _TOML_ARRAY_HEADER.match(text):
            headers.append((index, ("[[array]]",)))
    return [
        _Table(name, start + 1, headers[i + 1][0] if i + 1 < len(headers) else len(lines))
        for i, (start, name) in enumerate(headers)
    ]


def _table(lines: Sequence[str], name: tuple[str, ...]) -> _Table | None:
    return next((t for t in _toml_tables(lines) if t.name == name), None)


@dataclass(frozen=True)
class _ArrayItem:
    start: int
    end: int
    value: str


def _toml_string_end(content: str, start: int) -> int | None:
    quote = content[start]
    if content.startswith(quote * 3, start):
        return None  # multi-line strings never hold a dependency
    index = start + 1
    while index < len(content):
        char = content[index]
        if char == "\n":
            return None
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote:
            return index + 1
        index += 1
    return None


def _toml_string_array(content: str, open_index: int) -> tuple[list[_ArrayItem], int] | None:
    """The string items of the TOML array opening at `open_index`, and the offset of its `]`."""
    items: list[_ArrayItem] = []
    index = open_index + 1
    while index < len(content):
        char = content[index]
        if char in " \t\r\n,":
            index += 1
        elif char == "#":
            index = _next_line_start(content, index)
        elif char == "]":
            return items, index
        elif char in "\"'":
            end = _toml_string_end(content, index)
            if end is None:
                return None
            value = tomllib.loads(f"v = {content[index:end]}")["v"]
            items.append(_ArrayItem(index, end, str(value)))
            index = end
        else:
            return None  # not an array of strings
    return None


def _insert_into_string_array(
    content: str, open_index: int, items: list[_ArrayItem], close: int, position: int, entry: str, key_indent: str
) -> str:
    """Insert `entry` (already quoted) as item `position`, following the array's own layout."""
    eol = _eol(content)
    if not items:
        inner = content[open_index + 1 : close]
        if "\n" not in inner:
            return content[: open_index + 1] + entry + content[close:] if not inner.strip() else content
        return _splice(content, (_line_start(content, close), f"{key_indent}    {entry},{eol}"))
    if position < len(items):
        successor = items[position]
        if _first_on_line(content, successor.start):
            indent = _indent_before(content, successor.start)
            start = _line_start(content, successor.start)
            while start > open_index + 1:  # comments right after the previous item describe this one
                above = _line_start(content, start - 1)
                if not content[above:start].strip().startswith("#"):
                    break
                start = above
            if start < _line_start(content, successor.start) and position > 0:
                previous_line = _line_start(content, start - 1)
                if previous_line <= items[position - 1].start:
                    return _splice(content, (start, f"{indent}{entry},{eol}"))
            return _splice(content, (successor.start, f"{entry},{eol}{indent}"))
        separator = ", "
        if position > 0:
            between = content[items[position - 1].end : successor.start]
            separator = between[between.index(",") :] if "," in between and "\n" not in between else ", "
        return _splice(content, (successor.start, f"{entry}{separator}"))
    last = items[-1]
    after = last.end
    while after < close and content[after] in " \t":
        after += 1
    has_comma = content[after] == ","
    multi_line = "\n" in content[open_index:close]
    if "\n" not in content[last.end : close]:  # `]` closes the last item's line
        if multi_line and _first_on_line(content, last.start):  # hanging: one item per line, `]` on the last
            indent = _indent_before(content, last.start)
            if has_comma:
                return _splice(content, (after + 1, f"{eol}{indent}{entry},"))
            return _splice(content, (last.end, f",{eol}{indent}{entry}"))
        if has_comma:
            return _splice(content, (after + 1, f" {entry},"))
        between = content[items[-2].end : last.start] if len(items) > 1 else ", "
        separator = between if "\n" not in between and "," in between else ", "
        return _splice(content, (last.end, f"{separator}{entry}"))
    indent = _indent_before(content, last.start) if _first_on_line(content, last.start) else f"{key_indent}    "
    line_after = _next_line_start(content, last.end)
    if has_comma:
        return _splice(content, (line_after, f"{indent}{entry},{eol}"))
    return _splice(content, (last.end, ","), (line_after, f"{indent}{entry}{eol}"))


def _pyproject_declared(document: Mapping[str, Any]) -> set[str]:
    """Every project named anywhere the project declares dependencies (runtime, extras, groups, Poetry)."""
    requirements: list[str] = []
    project = document.get("project", {})
    requirements += [r for r in project.get("dependencies", []) if isinstance(r, str)]
    for extra in project.get("optional-dependencies", {}).values():
        requirements += [r for r in extra if isinstance(r, str)]
    for group in document.get("dependency-groups", {}).values():
        requirements += [r for r in group if isinstance(r, str)]
    names = {n for n in map(_requirement_name, requirements) if n}
    poetry = document.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    names |= {canonical_name(name) for table in tables for name in table if name != "python"}
    return names


def _toml_document(content: str | None) -> dict[str, Any] | None:
    if content is None:
        return None
    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError:
        return None


def _pep621_dependencies(document: Mapping[str, Any]) -> list[Any] | None:
    dependencies = document.get("project", {}).get("dependencies")
    return dependencies if isinstance(dependencies, list) else None


def _poetry_dependencies(document: Mapping[str, Any]) -> dict[str, Any] | None:
    table = document.get("tool", {}).get("poetry", {}).get("dependencies")
    return table if isinstance(table, dict) else None


def _add_to_pyproject(path: str, content: str, requested: _Requested) -> DependencyEdit | None:
    document = _toml_document(content)
    if document is None or requested.canonical in _pyproject_declared(document):
        return None
    lines = _lines(content)
    if _pep621_dependencies(document) is not None:
        return _add_to_pep621(path, content, lines, document, requested)
    if _poetry_dependencies(document) is not None:
        return _add_to_poetry(path, content, lines, document, requested)
    project = document.get("project")
    if isinstance(project, dict) and "dependencies" not in project.get("dynamic", []):
        return _create_pep621(path, content, lines, document, requested)
    return None


def _add_to_pep621(
    path: str, content: str, lines: list[str], document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    table = _table(lines, ("project",))
    if table is None:
        return None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for index in range(table.body_start, table.body_end):
        match = _TOML_KEY_LINE.match(_bare(lines[index]))
        if match and match["key"].strip("\"'") == "dependencies" and match["value"].startswith("["):
            open_index = offsets[index] + match.start("value")
            key_indent = match["indent"]
            break
    else:
        return None
    found = _toml_string_array(content, open_index)
    if found is None:
        return None
    items, close = found
    quote = content[items[0].start] if items else '"'
    entry = f"{quote}{requested.requirement}{quote}"
    names = [_requirement_name(i.value) or "" for i in items]
    position = len(items)
    if _is_sorted(names):
        position = next((i for i, n in enumerate(names) if n > requested.canonical), len(items))
    new_content = _insert_into_string_array(content, open_index, items, close, position, entry, key_indent)
    expected = copy.deepcopy(document)
    expected["project"]["dependencies"].insert(position, requested.requirement)
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, entry)


def _create_pep621(
    path: str, content: str, lines: list[str], document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    table = _table(lines, ("project",))
    if table is None:
        return None
    eol = _eol(content)
    index = _last_content_index(lines, table.body_start, table.body_end) + 1
    entry = f'"{requested.requirement}"'
    block = f"dependencies = [{eol}    {entry},{eol}]"
    new_content = _insert_line(lines, index, block, eol)
    expected = copy.deepcopy(document)
    expected["project"]["dependencies"] = [requested.requirement]
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, entry)


def _add_to_poetry(
    path: str, content: str, lines: list[str], document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    table = _table(lines, ("tool", "poetry", "dependencies"))
    if table is None:
        return None
    keyed = [
        (index, match)
        for index in range(table.body_start, table.body_end)
        if (match := _TOML_KEY_LINE.match(_bare(lines[index])))
    ]
    quote = next((m["value"][0] for _, m in keyed if m["value"][:1] in ('"', "'")), '"')
    version = requested.spec or "*"
    if requested.extras:
        extras = ", ".join(f"{quote}{e}{quote}" for e in requested.extras)
        value = f"{{version = {quote}{version}{quote}, extras = [{extras}]}}"
    else:
        value = f"{quote}{version}{quote}"
    key = requested.name if re.fullmatch(r"[A-Za-z0-9_-]+", requested.name) else f'"{requested.name}"'
    indent = keyed[0][1]["indent"] if keyed else ""
    columns = {len(m["indent"]) + len(m["key"]) + len(m["gap"]) for _, m in keyed}
    aligned = len(keyed) >= 2 and len(columns) == 1 and any(len(m["gap"]) > 1 for _, m in keyed)
    gap = " " * max(1, columns.pop() - len(indent) - len(key)) if aligned else " "
    entry = f"{key}{gap}= {value}"
    packages = [(index, canonical_name(m["key"].strip("\"'"))) for index, m in keyed if m["key"] != "python"]
    successor = None
    if _is_sorted([name for _, name in packages]):
        successor = next((index for index, name in packages if name > requested.canonical), None)
    if successor is not None:
        index = _attached_start(lines, successor, {i for i, _ in keyed})
    else:
        index = _last_content_index(lines, table.body_start, table.body_end) + 1
    new_content = _insert_line(lines, index, f"{indent}{entry}", _eol(content))
    expected = copy.deepcopy(document)
    expected["tool"]["poetry"]["dependencies"][requested.name] = (
        {"version": version, "extras": list(requested.extras)} if requested.extras else version
    )
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, entry)


TEST_GROUPS = ("test", "tests", "testing", "dev")


def add_test_dependency(path: str, content: str, package: str) -> DependencyEdit | None:
    """Add `package` to the project's test dependencies (dependency group, extra, or Poetry group).

    A tomlkit round trip: comments, quoting and the array's layout stay. None when the file has no
    test group, already declares the package, or the result is not the original plus that entry.
    """
    requested = _python_request(package, None)
    old = _toml_document(content)
    if old is None or requested.canonical in _pyproject_declared(old):
        return None
    try:
        document = tomlkit.parse(content)
    except TOMLKitError:
        return None
    expected = copy.deepcopy(old)
    tables: list[tuple[tuple[str, ...], Any]] = [
        (("dependency-groups",), document.get("dependency-groups")),
        (("project", "optional-dependencies"), document.get("project", {}).get("optional-dependencies")),
    ]
    for keys, table in tables:
        group = next((g for g in TEST_GROUPS if table is not None and isinstance(table.get(g), list)), None)
        if group is None:
            continue
        table[group].append(requested.requirement)
        target = expected
        for key in keys:
            target = target[key]
        target[group].append(requested.requirement)
        break
    else:
        poetry_groups = document.get("tool", {}).get("poetry", {}).get("group", {})
        group = next((g for g in TEST_GROUPS if isinstance(poetry_groups.get(g, {}).get("dependencies"), dict)), None)
        if group is None:
            return None
        poetry_groups[group]["dependencies"][requested.name] = "*"
        expected["tool"]["poetry"]["group"][group]["dependencies"][requested.name] = "*"
    new_content = tomlkit.dumps(document)
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, f'"{requested.requirement}"')
