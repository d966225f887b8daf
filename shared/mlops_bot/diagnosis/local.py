"""The repository's own importable names, from its file tree: never a package to add from PyPI.

`local_names` reads what GitHub's Git Trees API lists (paths) plus, when the caller fetched them, the
text of ``pyproject.toml`` and ``setup.cfg``. Local names are: top-level packages (a directory holding
Python code) and modules (``utils.py``), the same under ``src/`` (the src layout), and the project's
distribution name (``[project].name``, ``[tool.poetry].name``, ``[metadata] name``) with its import form.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROJECT_FILES = ("pyproject.toml", "setup.cfg")


def local_names(paths: Iterable[str], project_files: Mapping[str, str] | None = None) -> frozenset[str]:
    """Top-level importable names the repository defines itself (see the module docstring)."""
    names: set[str] = set()
    for path in paths:
        parts = PurePosixPath(path).parts
        if len(parts) >= 2 and parts[0] == "src":
            parts = parts[1:]
        if not parts or not parts[-1].endswith((".py", ".pyi", ".pyx")):
            continue
        first = parts[0]
        if len(parts) == 1:
            stem = first.rsplit(".", 1)[0]
            if _IDENTIFIER.match(stem):
                names.add(stem)
        elif _IDENTIFIER.match(first):  # generous on purpose: a local name only ever blocks a PR
            names.add(first)
    for text_name, text in (project_files or {}).items():
        project = _project_name(text_name, text)
        if project:
            names.add(project)
            names.add(re.sub(r"[-.]+", "_", project))
    return frozenset(names)


def _project_name(file_name: str, text: str) -> str | None:
    if file_name.endswith("pyproject.toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return None
        for table in (data.get("project", {}), data.get("tool", {}).get("poetry", {})):
            name = table.get("name") if isinstance(table, dict) else None
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None
    if file_name.endswith("setup.cfg"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
        except configparser.Error:
            return None
        name = parser.get("metadata", "name", fallback="").strip()
        return name or None
    return None
