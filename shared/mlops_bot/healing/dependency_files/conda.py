"""environment.yml: conda dependencies and their pip section, located and checked with ruamel.yaml.

ruamel.yaml's round-trip loader says where each entry sits (line and indentation, also for the
nested `pip:` list, whose indentation often differs from the outer list's and which a dumper would
normalise); the new entry is inserted as one line there, and the result must load (ruamel.yaml
again) as the original plus exactly that entry.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

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
    load_bounded,
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


def _conda_name(spec: str) -> str:
    match = re.match(r"(?:[\w./-]+::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9._-]*)", spec)
    return canonical_name(match["name"]) if match else ""


def _round_trip(content: str) -> Any:
    """The document as ruamel.yaml's round-trip loader sees it (with each node's line and column)."""
    try:
        return load_bounded(YAML(typ="rt"), content)
    except YAMLError:
        return None


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _indent_of(lines: Sequence[str], index: int) -> int:
    text = _bare(lines[index])
    return len(text) - len(text.lstrip(" "))


def _conda_layout(content: str) -> _CondaLayout | None:
    """Where the conda and pip entries sit, as ruamel.yaml located them (None: not a layout to edit)."""
    document = _round_trip(content)
    if not isinstance(document, CommentedMap) or not isinstance(document.get("dependencies"), CommentedSeq):
        return None
    lines = _lines(content)
    if any(_bare(line).startswith("\t") for line in lines):
        return None
    dependencies: CommentedSeq = document["dependencies"]
    layout = _CondaLayout(document.lc.key("dependencies")[0])
    for position, item in enumerate(dependencies):
        line = dependencies.lc.item(position)[0]
        if layout.conda_indent is None:
            layout.conda_indent = _indent_of(lines, line)
        if isinstance(item, CommentedMap):
            pip = item.get("pip")
            if list(item) != ["pip"] or not isinstance(pip, CommentedSeq):
                return None  # some other mapping: not a layout this edit understands
            layout.pip_index = line
            layout.conda.append(_YamlItem(line, ""))
            for pip_position, requirement in enumerate(pip):
                pip_line = pip.lc.item(pip_position)[0]
                if layout.pip_indent is None:
                    layout.pip_indent = _indent_of(lines, pip_line)
                text = str(requirement)
                if text.startswith("-"):
                    option = _OPTION.match(text)
                    if option and option["flag"] in ("-r", "--requirement"):
                        layout.pip_includes.append(option["value"] or "")
                    elif option and _PROJECT_ITSELF.match(option["value"] or ""):
                        layout.pip_installs_project = True
                    layout.pip.append(_YamlItem(pip_line, ""))
                else:
                    layout.pip.append(_YamlItem(pip_line, _requirement_name(text) or ""))
        elif isinstance(item, str):
            layout.conda.append(_YamlItem(line, _conda_name(item)))
        else:
            return None
    return layout


def _conda_document(content: str | None) -> dict[str, Any] | None:
    if content is None:
        return None
    document = _plain(_round_trip(content))
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
    layout = _conda_layout(content)
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
