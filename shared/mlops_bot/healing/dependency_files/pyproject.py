"""pyproject.toml: PEP 621 `[project]` dependencies and Poetry tables, edited with tomlkit.

tomlkit round-trips the file (comments, quoting, array layout, line endings); what it decides alone
is kept to its public API except one call, `Container._insert_after`, for an alphabetical position
in a Poetry table. Every result is re-parsed with `tomllib` and must equal the original document
plus exactly the new entry.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array, SingleKey, Table
from tomlkit.toml_document import TOMLDocument

from mlops_bot.healing.dependency_files._core import (
    DependencyEdit,
    _edit,
    _eol,
    _is_sorted,
    _python_request,
    _Requested,
    canonical_name,
    parse_bounded,
)
from mlops_bot.healing.dependency_files.requirements import _requirement_name


def _tomlkit(content: str) -> TOMLDocument | None:
    try:
        return tomlkit.parse(content)
    except TOMLKitError:
        return None


def _dumped(document: TOMLDocument, content: str) -> str:
    """tomlkit's text, in the file's line endings (new lines it writes use `\\n`)."""
    new_content = tomlkit.dumps(document)
    if _eol(content) == "\r\n":
        new_content = re.sub(r"(?<!\r)\n", "\r\n", new_content)
    return new_content


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
    document = parse_bounded(tomllib.loads, content, (tomllib.TOMLDecodeError,))
    return document if isinstance(document, dict) else None


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
    editable = _tomlkit(content)
    if editable is None:
        return None
    if _pep621_dependencies(document) is not None:
        return _add_to_pep621(path, content, editable, document, requested)
    if _poetry_dependencies(document) is not None:
        return _add_to_poetry(path, content, editable, document, requested)
    project = document.get("project")
    if isinstance(project, dict) and "dependencies" not in project.get("dynamic", []):
        return _create_pep621(path, content, editable, document, requested)
    return None


def _comment_line(line: str) -> bool:
    return line.strip().startswith("#")


def _before_describing_comments(old: str, new: str, entry: str) -> str:
    """Move the new array line above comment lines that tomlkit left it under.

    tomlkit keeps a comment line with the item before it; here, comments right after an item
    describe the next one (`# 2.x changed the pickle format` above `"lightgbm<5"`), so an entry
    inserted before that next item goes above its comments.
    """
    lines = new.splitlines(keepends=True)
    index = next((i for i, line in enumerate(lines) if line.strip().rstrip(",") == entry), None)
    if index is None or len(lines) != len(old.splitlines(keepends=True)) + 1:
        return new
    top = index
    while top > 0 and _comment_line(lines[top - 1]):
        top -= 1
    if top == index or top == 0 or lines[top - 1].rstrip().endswith("["):
        return new
    return "".join([*lines[:top], lines[index], *lines[top:index], *lines[index + 1 :]])


def _add_to_pep621(
    path: str, content: str, editable: TOMLDocument, document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    array = editable["project"]["dependencies"]
    if not isinstance(array, Array) or any(not isinstance(v, str) for v in array):
        return None
    raw = tomlkit.dumps(editable)
    quote = "'" if re.search(r"dependencies\s*=\s*\[\s*'", raw) else '"'
    names = [_requirement_name(str(v)) or "" for v in array]
    position = len(names)
    if _is_sorted(names):
        position = next((i for i, n in enumerate(names) if n > requested.canonical), len(names))
    item = tomlkit.string(requested.requirement, literal=quote == "'")
    if position < len(names):
        array.insert(position, item)
    else:
        array.append(item)
    entry = f"{quote}{requested.requirement}{quote}"
    new_content = _before_describing_comments(content, _dumped(editable, content), entry)
    expected = copy.deepcopy(document)
    expected["project"]["dependencies"].insert(position, requested.requirement)
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, entry)


def _create_pep621(
    path: str, content: str, editable: TOMLDocument, document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    project = editable["project"]
    if not isinstance(project, Table):
        return None
    array = tomlkit.array()
    array.append(requested.requirement)
    project.add("dependencies", array.multiline(True))
    new_content = _dumped(editable, content)
    expected = copy.deepcopy(document)
    expected["project"]["dependencies"] = [requested.requirement]
    if _toml_document(new_content) != expected:
        return None
    return _edit(path, content, new_content, f'"{requested.requirement}"')


def _aligned_key(table: Table, name: str) -> SingleKey | str:
    """The new key, padded like the table's when every `=` in it sits in one column."""
    lines = [line for line in table.as_string().splitlines() if re.match(r"\s*[\w\"'.-]+\s*=", line)]
    columns = {line.index("=") for line in lines}
    padded = any(re.search(r"\S\s{2,}=", line) for line in lines)
    if len(lines) < 2 or len(columns) != 1 or not padded:
        return name
    width = columns.pop()
    key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
    return SingleKey(name, sep=" " * max(1, width - len(key)) + "= ")


def _add_to_poetry(
    path: str, content: str, editable: TOMLDocument, document: dict[str, Any], requested: _Requested
) -> DependencyEdit | None:
    table = editable["tool"]["poetry"]["dependencies"]
    if not isinstance(table, Table):
        return None
    literal = bool(re.search(r"^\s*[\w\"'.-]+\s*=\s*'", table.as_string(), re.M))
    version = requested.spec or "*"
    value: Any
    if requested.extras:
        value = tomlkit.inline_table()
        value.update({"version": tomlkit.string(version, literal=literal), "extras": list(requested.extras)})
    else:
        value = tomlkit.string(version, literal=literal)
    key = _aligned_key(table, requested.name)
    packages = [(str(k), canonical_name(str(k))) for k in table if k != "python"]
    after = None
    if _is_sorted([name for _, name in packages]):
        successor = next((i for i, (_, name) in enumerate(packages) if name > requested.canonical), None)
        if successor is not None:
            after = packages[successor - 1][0] if successor > 0 else ("python" if "python" in table else None)
    if after is not None:
        table.value._insert_after(after, key, value)  # tomlkit's own positional insert (no public one)
    else:
        table.add(key, value)
    new_content = _dumped(editable, content)
    expected = copy.deepcopy(document)
    expected["tool"]["poetry"]["dependencies"][requested.name] = (
        {"version": version, "extras": list(requested.extras)} if requested.extras else version
    )
    if _toml_document(new_content) != expected:
        return None
    entry = next(
        (line.strip() for line in new_content.splitlines() if line not in content.splitlines() and "=" in line),
        f"{requested.name} = {value.as_string()}",
    )
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
