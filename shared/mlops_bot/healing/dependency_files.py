"""Adding a missing package to the dependency file a repository really installs from.

When CI fails on a missing import, the fix pull request must touch the file the project's install
step reads (otherwise CI stays red) and must look like a maintainer wrote it: every existing line,
comment, quote style, indentation, key order and line ending stays as it was, and the new entry goes
where the maintainers would have put it (in alphabetical position when the list is sorted, at the
end otherwise). Edits are therefore textual; a TOML/YAML/JSON library round-trip would reformat the
file and drop comments. Every edit is then re-parsed and compared with the original document: the
result must equal the original plus exactly the new entry, or no edit is proposed at all (a pull
request that breaks the file is worse than none).
"""

from __future__ import annotations

import configparser
import copy
import difflib
import json
import posixpath
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

Ecosystem = Literal["python", "node"]

PYTHON_DEPENDENCY_FILES: tuple[str, ...] = (
    "requirements.txt",
    "requirements/base.txt",
    "requirements/prod.txt",
    "pyproject.toml",
    "setup.cfg",
    "environment.yml",
    "environment.yaml",
    "requirements-dev.txt",
)
NODE_DEPENDENCY_FILES: tuple[str, ...] = ("package.json",)

# What to fetch from the repository before choosing, in probe order (Python first, then Node).
DEPENDENCY_FILE_CANDIDATES: tuple[str, ...] = PYTHON_DEPENDENCY_FILES + NODE_DEPENDENCY_FILES
DEPENDENCY_FILES_BY_ECOSYSTEM: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"python": PYTHON_DEPENDENCY_FILES, "node": NODE_DEPENDENCY_FILES}
)

_REQUIREMENTS_FILES = ("requirements.txt", "requirements/base.txt", "requirements/prod.txt")
_DEV_REQUIREMENTS = "requirements-dev.txt"
_CONDA_FILES = ("environment.yml", "environment.yaml")


class DependencyEdit(BaseModel):
    """One proposed change to one dependency file."""

    model_config = ConfigDict(frozen=True)

    path: str
    new_content: str
    added_line: str  # the new entry as written into the file, without indentation or line ending
    diff: str  # unified diff (a/path, b/path) of the whole change
    note: str | None = None  # what a reviewer should know (e.g. "added unpinned in a pinned file")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Scikit_Learn`, `scikit.learn` and `scikit-learn` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------------------------------
# The requested package


_PY_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PY_PACKAGE = re.compile(rf"\s*(?P<name>{_PY_NAME})\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;#]*?)\s*")
_PY_VERSION = r"[A-Za-z0-9.*+!_-]+"
_PY_CLAUSE = rf"(?:===|==|!=|~=|<=|>=|<|>)\s*{_PY_VERSION}"
_POETRY_RANGE = re.compile(rf"[\^~]\s*{_PY_VERSION}")  # caret/tilde: Poetry's own syntax, not PEP 440
_PY_SPEC = re.compile(rf"{_PY_CLAUSE}(?:\s*,\s*{_PY_CLAUSE})*")
_NPM_NAME = re.compile(r"(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*", re.IGNORECASE)
_NPM_SPEC = re.compile(r"[A-Za-z0-9.*^~<>=|+ _-]+")


@dataclass(frozen=True)
class _Requested:
    name: str
    extras: tuple[str, ...]
    spec: str  # PEP 440 specifier or Poetry caret/tilde range ("" when no version is known)

    @property
    def canonical(self) -> str:
        return canonical_name(self.name)

    @property
    def pep440_spec(self) -> str:
        """The specifier for any file but a Poetry table, which alone understands `^1.2` / `~1.2`."""
        if _POETRY_RANGE.fullmatch(self.spec):
            raise ValueError(f"{self.spec!r} is a Poetry range; this file needs e.g. '>=1.2,<2'")
        return self.spec

    @property
    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}{self.pep440_spec}"


def _python_request(package: str, version_spec: str | None) -> _Requested:
    """Parse `pkg`, `pkg[extra]` or `pkg>=1`; a bare version means that exact version."""
    match = _PY_PACKAGE.fullmatch(package)
    if match is None:
        raise ValueError(f"not a Python package name: {package!r}")
    extras = tuple(e.strip() for e in (match["extras"] or "").split(",") if e.strip())
    if any(not re.fullmatch(_PY_NAME, e) for e in extras):
        raise ValueError(f"invalid extras in {package!r}")
    spec = (version_spec if version_spec is not None else match["spec"]).strip()
    if spec and spec[0].isdigit():
        spec = f"=={spec}"
    spec = re.sub(r"\s+", "", spec)
    if spec and not (_PY_SPEC.fullmatch(spec) or _POETRY_RANGE.fullmatch(spec)):
        raise ValueError(f"not a PEP 440 version specifier: {spec!r}")
    return _Requested(match["name"], extras, spec)


# --------------------------------------------------------------------------------------------------
# Text helpers: the file's own line ending, lines that keep theirs, offsets


def _eol(content: str) -> str:
    crlf = content.count("\r\n")
    return "\r\n" if crlf and crlf >= content.count("\n") - crlf else "\n"


def _lines(content: str) -> list[str]:
    """Physical lines with their endings (only `\\n` splits, so `\\r` stays with its line)."""
    parts = content.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _bare(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def _insert_line(lines: Sequence[str], index: int, text: str, eol: str) -> str:
    """Insert `text` as a whole line before `lines[index]`, keeping the file's final-newline habit."""
    new = list(lines)
    if index >= len(new) and new and not new[-1].endswith("\n"):
        new[-1] += eol
        new.append(text)
    else:
        new.insert(index, text + eol)
    return "".join(new)


def _last_content_index(lines: Sequence[str], start: int = 0, stop: int | None = None) -> int:
    """Index of the last line in [start, stop) that is neither blank nor a comment; start - 1 if none."""
    stop = len(lines) if stop is None else stop
    for index in range(stop - 1, start - 1, -1):
        text = _bare(lines[index]).strip()
        if text and not text.startswith("#"):
            return index
    return start - 1


def _line_start(content: str, offset: int) -> int:
    return content.rfind("\n", 0, offset) + 1


def _next_line_start(content: str, offset: int) -> int:
    end = content.find("\n", offset)
    return len(content) if end < 0 else end + 1


def _first_on_line(content: str, offset: int) -> bool:
    return content[_line_start(content, offset) : offset].strip() == ""


def _indent_before(content: str, offset: int) -> str:
    prefix = content[_line_start(content, offset) : offset]
    return prefix[: len(prefix) - len(prefix.lstrip())]


def _splice(content: str, *inserts: tuple[int, str]) -> str:
    for offset, text in sorted(inserts, reverse=True):
        content = content[:offset] + text + content[offset:]
    return content


def _attached_start(lines: Sequence[str], index: int, entry_lines: set[int]) -> int:
    """Where to insert "before line `index`" so that comments describing that entry stay on it.

    Comments right after another entry describe the next entry (`# pinned: #123` above `torch==2.1`)
    and move with it; comments after a blank line or the start of the list head a section and stay.
    """
    start = index
    while start > 0 and _bare(lines[start - 1]).strip().startswith("#"):
        start -= 1
    return start if start < index and start - 1 in entry_lines else index


def _is_sorted(names: Sequence[str]) -> bool:
    return len(names) >= 2 and list(names) == sorted(names)


def _unified_diff(path: str, old: str, new: str) -> str:
    diff: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=f"a/{path}", tofile=f"b/{path}"
    ):
        diff.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(diff)


def _edit(path: str, old: str, new: str, added: str, note: str | None = None) -> DependencyEdit:
    return DependencyEdit(path=path, new_content=new, added_line=added, diff=_unified_diff(path, old, new), note=note)


# --------------------------------------------------------------------------------------------------
# requirements*.txt


_OPTION = re.compile(r"(?P<flag>-[a-zA-Z]|--[a-z-]+)(?:\s*=\s*|\s+|(?<=^-[a-zA-Z]))(?P<value>\S+)?")
_EGG = re.compile(rf"#egg=(?P<name>{_PY_NAME})")
_WHEEL = re.compile(r"(?:^|/)(?P<name>[A-Za-z0-9_.]+?)-\d[^/]*\.(?:whl|tar\.gz|zip)$")
_GENERATED = re.compile(r"autogenerated by|generated by pip-compile|uv pip compile|poetry export", re.IGNORECASE)
_PROJECT_ITSELF = re.compile(r"^(?:file:)?\.(?:/)?(?:\[[^\]]*\])?$")


@dataclass(frozen=True)
class _RequirementEntry:
    first: int  # physical line where the logical line starts
    last: int  # physical line where it ends (continuations)
    name: str  # canonical
    pinned: bool


@dataclass
class _RequirementsFile:
    entries: list[_RequirementEntry] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # `-r` targets as written
    installs_project: bool = False  # `-e .`, `.`, `.[extra]`
    hashed: bool = False
    generated: bool = False

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]


def _logical_lines(lines: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """(first, last, text without comment) per logical line, joining `\\` continuations like pip."""
    index = 0
    while index < len(lines):
        first, text = index, _bare(lines[index])
        while text.endswith("\\") and index + 1 < len(lines):
            index += 1
            text = text[:-1] + _bare(lines[index])
        yield first, index, re.sub(r"(?:^|\s+)#.*$", "", text).strip()
        index += 1


def _reference_name(reference: str) -> str | None:
    """Project name of a URL or path requirement (`...#egg=name`, `name-1.0-py3-none-any.whl`)."""
    egg = _EGG.search(reference)
    if egg:
        return canonical_name(egg["name"])
    wheel = _WHEEL.search(reference.split("#", 1)[0])
    return canonical_name(wheel["name"]) if wheel else None


def _requirement_name(text: str) -> str | None:
    """Canonical project name of one PEP 508 requirement or pip URL/path line; None if it has none."""
    if re.match(r"[\w.+-]+://|[./~]", text):
        return _reference_name(text)
    match = re.match(_PY_NAME, text)
    if match is None:
        return None
    rest = text[match.end() :].lstrip()
    if rest and rest[0] not in "[;<>=!~@(,-":
        return _reference_name(text)
    return canonical_name(match[0])


def _parse_requirements(content: str) -> _RequirementsFile:
    lines = _lines(content)
    parsed = _RequirementsFile(generated=any(_GENERATED.search(line) for line in lines[:15]))
    for first, last, text in _logical_lines(lines):
        if not text:
            continue
        if "--hash" in text:
            parsed.hashed = True
        if text.startswith("-"):
            option = _OPTION.match(text)
            if option is None:
                continue
            flag, value = option["flag"], option["value"] or ""
            if flag in ("-r", "--requirement"):
                parsed.includes.append(value)
            elif flag in ("-e", "--editable"):
                if _PROJECT_ITSELF.match(value):
                    parsed.installs_project = True
                elif name := _reference_name(value):
                    parsed.entries.append(_RequirementEntry(first, last, name, pinned=False))
            continue
        if _PROJECT_ITSELF.match(text.split(";", 1)[0].strip()):
            parsed.installs_project = True
            continue
        name = _requirement_name(text)
        if name:
            parsed.entries.append(_RequirementEntry(first, last, name, pinned=bool(re.search(r"===?\s*\w", text))))
    return parsed


def _included_path(path: str, target: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), target))


def _requirements_declared(path: str, content: str, others: Mapping[str, str], seen: set[str]) -> set[str]:
    """Names declared by a requirements file and, when their content is known, the files it `-r` includes."""
    seen.add(path)
    parsed = _parse_requirements(content)
    names = set(parsed.names)
    for target in parsed.includes:
        included = _included_path(path, target)
        if included not in seen and included in others:
            names |= _requirements_declared(included, others[included], others, seen)
    return names


def _add_to_requirements(
    path: str, content: str, requested: _Requested, others: Mapping[str, str]
) -> DependencyEdit | None:
    parsed = _parse_requirements(content)
    if requested.canonical in _requirements_declared(path, content, others, set()):
        return None
    if parsed.hashed:
        return None  # pip's --require-hashes mode rejects a line without hashes: regenerate the lock instead
    lines = _lines(content)
    entries = parsed.entries
    if _is_sorted(parsed.names):
        successor = next((e for e in entries if e.name > requested.canonical), None)
        ends = {e.last for e in entries}
        index = _attached_start(lines, successor.first, ends) if successor else entries[-1].last + 1
    else:
        index = max(_last_nonblank(lines), entries[-1].last if entries else -1) + 1
    new_content = _insert_line(lines, index, requested.requirement, _eol(content))
    if _parse_requirements(new_content).names != _with_inserted(parsed.names, requested.canonical, entries, index):
        return None
    note = None
    if not requested.spec and entries and 2 * sum(e.pinned for e in entries) > len(entries):
        note = (
            f"{path} pins most packages with '==' but no version of {requested.name} is known: "
            "it was added unpinned; pin it once CI passes."
        )
    return _edit(path, content, new_content, requested.requirement, note)


def _last_nonblank(lines: Sequence[str]) -> int:
    for index in range(len(lines) - 1, -1, -1):
        if _bare(lines[index]).strip():
            return index
    return -1


def _with_inserted(names: list[str], name: str, entries: list[_RequirementEntry], index: int) -> list[str]:
    position = sum(1 for e in entries if e.first < index)
    return [*names[:position], name, *names[position:]]


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


# --------------------------------------------------------------------------------------------------
# setup.cfg


@dataclass(frozen=True)
class _CfgValueLine:
    index: int
    name: str  # canonical, "" for a `file:` directive


def _setup_cfg(content: str) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(content)
    except configparser.Error:
        return None
    return parser


def _cfg_requirements(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _setup_cfg_declared(parser: configparser.ConfigParser) -> set[str]:
    requirements: list[str] = []
    for section, option in (("options", "install_requires"), ("options", "tests_require")):
        requirements += _cfg_requirements(parser.get(section, option, fallback=""))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            requirements += _cfg_requirements(value)
    return {n for n in map(_requirement_name, requirements) if n}


def _add_to_setup_cfg(path: str, content: str, requested: _Requested) -> DependencyEdit | None:
    parser = _setup_cfg(content)
    if parser is None or not parser.has_option("options", "install_requires"):
        return None
    if requested.canonical in _setup_cfg_declared(parser):
        return None
    old_value = _cfg_requirements(parser.get("options", "install_requires"))
    if any(v.startswith(("file:", "attr:")) for v in old_value):
        return None
    lines = _lines(content)
    section = None
    key_index = None
    for index, line in enumerate(lines):
        text = _bare(line)
        if header := re.match(r"^\[(?P<name>[^\]]+)\]", text):
            section = header["name"].strip()
        elif section == "options" and re.match(r"^install_requires\s*[=:]", text):
            key_index = index
            break
    if key_index is None:
        return None
    values: list[_CfgValueLine] = []
    inline = re.sub(r"^install_requires\s*[=:]", "", _bare(lines[key_index])).strip()
    if inline:
        values.append(_CfgValueLine(key_index, _requirement_name(inline) or ""))
    last = key_index
    indent = "    "
    for index in range(key_index + 1, len(lines)):
        text = _bare(lines[index])
        if text.strip() and not text[0].isspace():
            break
        if text.strip():
            last = index
            if not text.strip().startswith("#"):
                if len(values) == (1 if inline else 0):
                    indent = text[: len(text) - len(text.lstrip())]
                values.append(_CfgValueLine(index, _requirement_name(text.strip()) or ""))
    names = [v.name for v in values]
    position = len(values)
    index = last + 1
    if _is_sorted(names):
        position = next((i for i, v in enumerate(values) if v.name > requested.canonical), len(values))
        if position < len(values):
            index = max(_attached_start(lines, values[position].index, {v.index for v in values}), key_index + 1)
            position = max(position, 1 if inline else 0)
    new_content = _insert_line(lines, index, f"{indent}{requested.requirement}", _eol(content))
    new_parser = _setup_cfg(new_content)
    if new_parser is None:
        return None
    expected_value = [*old_value[:position], requested.requirement, *old_value[position:]]
    if _cfg_requirements(new_parser.get("options", "install_requires")) != expected_value:
        return None
    if _cfg_without(new_parser) != _cfg_without(parser):
        return None
    return _edit(path, content, new_content, requested.requirement)


def _cfg_without(parser: configparser.ConfigParser) -> dict[str, dict[str, str]]:
    """Every option but `[options] install_requires`: what an edit must leave alone."""
    return {
        section: {k: v for k, v in parser.items(section) if (section, k) != ("options", "install_requires")}
        for section in parser.sections()
    }


# --------------------------------------------------------------------------------------------------
# environment.yml (conda)


@dataclass(frozen=True)
class _YamlItem:
    index: int
    name: str  # canonical; "" for options (`-r file`) and the `pip:` mapping


@dataclass
class _CondaLayout:
    key_index: int
    conda: list[_YamlItem] = field(default_factory=list)
    conda_indent: int | None = None
    pip_index: int | None = None  # the `- pip:` line
    pip: list[_YamlItem] = field(default_factory=list)
    pip_indent: int | None = None
    pip_includes: list[str] = field(default_factory=list)
    pip_installs_project: bool = False


def _yaml_scalar(text: str) -> str:
    text = re.sub(r"\s+#.*$", "", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text


def _conda_name(spec: str) -> str:
    match = re.match(r"(?:[\w./-]+::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9._-]*)", spec)
    return canonical_name(match["name"]) if match else ""


def _conda_layout(lines: Sequence[str]) -> _CondaLayout | None:
    key_index = next(
        (i for i, line in enumerate(lines) if re.match(r"^dependencies\s*:\s*(?:#.*)?$", _bare(line))), None
    )
    if key_index is None:
        return None
    layout = _CondaLayout(key_index)
    for index in range(key_index + 1, len(lines)):
        raw = _bare(lines[index])
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if raw[0] == "\t":
            return None
        indent = len(raw) - len(raw.lstrip(" "))
        is_item = stripped.startswith("- ") or stripped == "-"
        if layout.conda_indent is None:
            if not is_item:
                break
            layout.conda_indent = indent
        if indent < layout.conda_indent or (indent == layout.conda_indent and not is_item):
            break
        body = _yaml_scalar(stripped[1:])
        if indent == layout.conda_indent:
            if re.fullmatch(r"pip\s*:", body):
                layout.pip_index = index
                layout.conda.append(_YamlItem(index, ""))
            elif body.endswith(":") or ": " in body:
                return None  # some other mapping: not a layout this edit understands
            else:
                layout.conda.append(_YamlItem(index, _conda_name(body)))
        elif layout.pip_index is not None and is_item:
            if layout.pip_indent is None:
                layout.pip_indent = indent
            if indent != layout.pip_indent:
                continue
            if body.startswith("-"):
                option = _OPTION.match(body)
                if option and option["flag"] in ("-r", "--requirement"):
                    layout.pip_includes.append(option["value"] or "")
                elif option and _PROJECT_ITSELF.match(option["value"] or ""):
                    layout.pip_installs_project = True
                layout.pip.append(_YamlItem(index, ""))
            else:
                layout.pip.append(_YamlItem(index, _requirement_name(body) or ""))
    return layout


def _conda_document(content: str | None) -> dict[str, Any] | None:
    if content is None:
        return None
    try:
        document = yaml.safe_load(content)
    except yaml.YAMLError:
        return None
    return document if isinstance(document, dict) and isinstance(document.get("dependencies"), list) else None


def _conda_pip_list(document: Mapping[str, Any]) -> list[Any] | None:
    for item in document["dependencies"]:
        if isinstance(item, dict) and isinstance(item.get("pip"), list):
            return item["pip"]  # type: ignore[no-any-return]
    return None


def _add_to_environment(
    path: str, content: str, requested: _Requested, others: Mapping[str, str]
) -> DependencyEdit | None:
    document = _conda_document(content)
    lines = _lines(content)
    layout = _conda_layout(lines)
    if document is None or layout is None:
        return None
    declared = {i.name for i in layout.conda + layout.pip if i.name}
    for target in layout.pip_includes:
        included = _included_path(path, target)
        if included in others:
            declared |= _requirements_declared(included, others[included], others, set())
    if requested.canonical in declared:
        return None
    note = None
    if layout.pip_index is not None:
        items, indent = layout.pip, layout.pip_indent
        value = requested.requirement
        default_indent = (layout.conda_indent or 0) + 4
        after = max([layout.pip_index, *(i.index for i in layout.pip)])
    else:
        items, indent = layout.conda, layout.conda_indent
        value = f"{requested.name}{requested.pep440_spec}"
        if requested.extras:
            note = f"conda cannot install extras; add {requested.requirement} under a `- pip:` section if needed."
        default_indent = 2
        after = max([layout.key_index, *(i.index for i in layout.conda)])
    if indent is None:
        indent = default_indent
    named = [i for i in items if i.name]
    index = after + 1
    if _is_sorted([i.name for i in named]):
        successor = next((i for i in named if i.name > requested.canonical), None)
        if successor is not None:
            index = _attached_start(lines, successor.index, {i.index for i in items})
        else:
            index = named[-1].index + 1
    entry = f"- {value}"
    new_content = _insert_line(lines, index, f"{' ' * indent}{entry}", _eol(content))
    new_document = _conda_document(new_content)
    if new_document is None or not _is_old_plus(document, new_document, value):
        return None
    return _edit(path, content, new_content, entry, note)


def _is_old_plus(old: dict[str, Any], new: dict[str, Any], value: str) -> bool:
    """True when `new` is `old` with `value` added once to its dependencies (or their pip list)."""
    reduced = copy.deepcopy(new)
    for target in (_conda_pip_list(reduced), reduced["dependencies"]):
        if target is not None and value in target:
            target.remove(value)
            return reduced == old
    return False


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


# --------------------------------------------------------------------------------------------------
# The public API


def add_dependency(
    path: str,
    content: str,
    package: str,
    version_spec: str | None = None,
    *,
    others: Mapping[str, str] | None = None,
) -> DependencyEdit | None:
    """The edit that declares `package` in `path`, or None when there is nothing safe to propose.

    None means the package is already declared there (PEP 503 names: `Scikit_Learn` is `scikit-learn`;
    extras, version specifiers, markers and comments do not hide a name; a requirements file's `-r`
    includes and a conda file's pip `-r` count when their content is in `others`), or that this file
    cannot take it without breaking: a hash-locked requirements file, a pyproject whose dependencies
    are dynamic, a layout the textual edit does not understand or an edit that would not re-parse to
    the original plus the new entry. `package` may carry extras (`uvicorn[standard]`); `version_spec`
    is a PEP 440 specifier (or npm range), a bare version meaning exactly that version. Raises
    ValueError for a name or specifier that is not one (nothing unvalidated is written into a file).
    """
    name = posixpath.basename(path)
    if name == "package.json":
        return _add_to_package_json(path, content, package, version_spec)
    requested = _python_request(package, version_spec)
    known = dict(others or {})
    if name == "pyproject.toml":
        return _add_to_pyproject(path, content, requested)
    if name == "setup.cfg":
        return _add_to_setup_cfg(path, content, requested)
    if name.endswith((".yml", ".yaml")):
        return _add_to_environment(path, content, requested, known)
    if name.endswith((".txt", ".in")):
        return _add_to_requirements(path, content, requested, known)
    raise ValueError(f"not a dependency file this bot edits: {path}")


def declared_packages(path: str, content: str) -> frozenset[str]:
    """Canonical names (npm names lowercased) the file declares: lets a caller tell "already there"
    apart from "cannot edit" when `add_dependency` returns None."""
    name = posixpath.basename(path)
    if name == "package.json":
        try:
            document = json.loads(content)
        except json.JSONDecodeError:
            return frozenset()
        sections = [document.get(s) for s in _INSTALLED_NODE_SECTIONS] if isinstance(document, dict) else []
        return frozenset(k.lower() for s in sections if isinstance(s, dict) for k in s)
    if name == "pyproject.toml":
        document = _toml_document(content)
        return frozenset(_pyproject_declared(document)) if document else frozenset()
    if name == "setup.cfg":
        parser = _setup_cfg(content)
        return frozenset(_setup_cfg_declared(parser)) if parser else frozenset()
    if name.endswith((".yml", ".yaml")):
        layout = _conda_layout(_lines(content))
        return frozenset(i.name for i in layout.conda + layout.pip if i.name) if layout else frozenset()
    return frozenset(_parse_requirements(content).names)


def _requirements_source(path: str, files: Mapping[str, str], seen: set[str]) -> str:
    """The file that really lists the packages: `path`, or the first `-r` include that does."""
    seen.add(path)
    parsed = _parse_requirements(files[path])
    if parsed.entries:
        return path
    for target in parsed.includes:
        included = _included_path(path, target)
        if included in files and included not in seen:
            source = _requirements_source(included, files, seen)
            if _parse_requirements(files[source]).entries:
                return source
    return path


def _declared_file_pointer(files: Mapping[str, str]) -> str | None:
    """A requirements file the packaging metadata names as the dependency list
    (`[tool.setuptools.dynamic] dependencies = {file = [...]}`, setup.cfg `install_requires = file: ...`)."""
    document = _toml_document(files.get("pyproject.toml")) or {}
    if "dependencies" in document.get("project", {}).get("dynamic", []):
        dynamic = document.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("dependencies", {})
        targets = dynamic.get("file", []) if isinstance(dynamic, dict) else []
        for target in [targets] if isinstance(targets, str) else targets:
            if posixpath.normpath(target) in files:
                return posixpath.normpath(target)
    parser = _setup_cfg(files["setup.cfg"]) if "setup.cfg" in files else None
    if parser is not None:
        value = parser.get("options", "install_requires", fallback="").strip()
        if value.startswith("file:"):
            for target in re.split(r"[,\s]+", value.removeprefix("file:").strip()):
                if target and posixpath.normpath(target) in files:
                    return posixpath.normpath(target)
    return None


def choose_dependency_file(existing: Mapping[str, str], ecosystem: Ecosystem) -> str | None:
    """Which of the existing dependency files (`{path: content}`) the project really installs from.

    Node: `package.json` (when it is a JSON object). Python, first rule that matches:

    1. a requirements file the packaging metadata points at (setuptools dynamic dependencies,
       `install_requires = file:`): that file is the declaration;
    2. a hand-written `requirements.txt` / `requirements/base.txt` / `requirements/prod.txt` that
       lists packages and does not install the project itself: `pip install -r` is the install step,
       whatever pyproject says (a file that only `-r`-includes others resolves to the included file
       that lists the packages);
    3. the packaging metadata when it declares dependencies: pyproject `[project] dependencies`
       (non-empty), else `[tool.poetry.dependencies]` beyond `python`, else setup.cfg
       `install_requires`. This is where a requirements file that merely says `-e .` (or is
       generated by pip-compile / uv / poetry export) takes its packages from;
    4. a requirements file that lists packages (it installs the project, or is generated, and no
       metadata declares anything);
    5. `environment.yml` / `environment.yaml` with a `dependencies:` list: a conda project (its pip
       section's `-r file` or `-e .` already led to rules 2-3);
    6. a first dependency: an existing requirements file that does not install the project, else a
       pyproject `[project]` table (without dynamic dependencies) or Poetry table, else any
       requirements file;
    7. `requirements-dev.txt`, only when it is the only candidate present.
    """
    files = {posixpath.normpath(p): c for p, c in existing.items()}
    if ecosystem == "node":
        try:
            return "package.json" if isinstance(json.loads(files.get("package.json", "")), dict) else None
        except json.JSONDecodeError:
            return None
    pointer = _declared_file_pointer(files)
    if pointer is not None:
        return _requirements_source(pointer, files, set())
    requirement_files = [p for p in _REQUIREMENTS_FILES if p in files]
    sources = [(root, _requirements_source(root, files, set())) for root in requirement_files]
    for root, source in sources:
        parsed = _parse_requirements(files[source])
        installs = parsed.installs_project or _parse_requirements(files[root]).installs_project
        if parsed.entries and not installs and not parsed.generated:
            return source
    document = _toml_document(files.get("pyproject.toml"))
    if document is not None and (_pep621_dependencies(document) or []):
        return "pyproject.toml"
    if document is not None and any(k != "python" for k in (_poetry_dependencies(document) or {})):
        return "pyproject.toml"
    parser = _setup_cfg(files["setup.cfg"]) if "setup.cfg" in files else None
    if parser is not None and _cfg_requirements(parser.get("options", "install_requires", fallback="")):
        return "setup.cfg"
    for _, source in sources:
        if _parse_requirements(files[source]).entries:
            return source
    for path in _CONDA_FILES:
        if _conda_document(files.get(path)) is not None:
            return path
    plain = [p for p in requirement_files if not _parse_requirements(files[p]).installs_project]
    if plain:
        return plain[0]
    if document is not None and (
        _pep621_dependencies(document) is not None
        or _poetry_dependencies(document) is not None
        or ("project" in document and "dependencies" not in document["project"].get("dynamic", []))
    ):
        return "pyproject.toml"
    if requirement_files:
        return requirement_files[0]
    present = [p for p in PYTHON_DEPENDENCY_FILES if p in files]
    return _DEV_REQUIREMENTS if present == [_DEV_REQUIREMENTS] else None
