"""environment.yml: conda dependencies and their pip section."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from mlops_bot.healing.dependency_files._core import (
    DependencyEdit,
    _attached_start,
    _bare,
    _edit,
    _eol,
    _insert_line,
    _is_sorted,
    _lines,
    _Requested,
    canonical_name,
)
from mlops_bot.healing.dependency_files.requirements import (
    _OPTION,
    _PROJECT_ITSELF,
    _included_path,
    _requirement_name,
    _requirements_declared,
)

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
