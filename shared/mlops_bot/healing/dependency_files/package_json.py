"""package.json: npm dependencies, written with `json` in the file's own indentation.

npm writes package.json as `JSON.stringify(manifest, null, indent)` (plus the file's line ending
and final newline) every time it installs, so the file is re-rendered the same way with the
detected indentation: a tab or N spaces, or compact when the file is one line. A file that this
rendering does not reproduce unchanged (hand-aligned, comments-like keys in odd places) is not
edited at all, rather than reformatted in a fix pull request.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from mlops_bot.healing.dependency_files._core import (
    _NPM_NAME,
    _NPM_SPEC,
    DependencyEdit,
    _edit,
    _eol,
    _is_sorted,
    parse_bounded,
)

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


class _JsonStyle:
    """How the file renders: indentation unit (None: compact), line ending, final newline."""

    def __init__(self, content: str) -> None:
        body = content.strip()
        multi_line = "\n" in body
        unit = re.search(r"\n([ \t]+)\S", content)
        self.indent: str | None = (unit.group(1) if unit else "  ") if multi_line else None
        self.compact_separators = (",", ":") if not multi_line and '":"' in body else (", ", ": ")
        self.eol = _eol(content)
        self.final_newline = content.endswith("\n")

    def render(self, document: Any) -> str:
        if self.indent is None:
            text = json.dumps(document, ensure_ascii=False, separators=self.compact_separators)
        else:
            text = json.dumps(document, ensure_ascii=False, indent=self.indent)
        text = text.replace("\n", self.eol)
        return text + self.eol if self.final_newline else text


def _with_dependency(document: dict[str, Any], name: str, spec: str) -> dict[str, Any]:
    """The manifest with `name` in `dependencies`: sorted place in a sorted object, else last; a new
    `dependencies` object goes before `devDependencies`, or at the end."""
    if isinstance(document.get("dependencies"), dict):
        current: dict[str, Any] = document["dependencies"]
        keys = list(current)
        entries = list(current.items())
        position = len(entries)
        if _is_sorted([k.lower() for k in keys]):
            position = next((i for i, k in enumerate(keys) if k.lower() > name.lower()), len(entries))
        entries.insert(position, (name, spec))
        return {k: (dict(entries) if k == "dependencies" else v) for k, v in document.items()}
    result: dict[str, Any] = {}
    for key, value in document.items():
        if key == "devDependencies":
            result["dependencies"] = {name: spec}
        result[key] = value
    result.setdefault("dependencies", {name: spec})
    return result


def _add_to_package_json(path: str, content: str, package: str, version_spec: str | None) -> DependencyEdit | None:
    name, spec = _npm_request(package, version_spec)
    document = parse_bounded(json.loads, content, (json.JSONDecodeError,))
    if not isinstance(document, dict) or not document:
        return None
    for section in _INSTALLED_NODE_SECTIONS:
        declared = document.get(section)
        if isinstance(declared, dict) and name.lower() in {k.lower() for k in declared}:
            return None
    if "dependencies" in document and not isinstance(document["dependencies"], dict):
        return None
    style = _JsonStyle(content)
    if style.render(document) != content:
        return None  # re-rendering would reformat the file, not just add one line
    new_content = style.render(_with_dependency(document, name, spec))
    expected = copy.deepcopy(document)
    expected.setdefault("dependencies", {})[name] = spec
    if json.loads(new_content) != expected:
        return None
    entry = f"{json.dumps(name)}{':' if style.compact_separators == (',', ':') else ': '}{json.dumps(spec)}"
    return _edit(path, content, new_content, entry)
