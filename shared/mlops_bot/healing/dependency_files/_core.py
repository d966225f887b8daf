"""What every format module shares: the requested package, the edit, line-preserving text helpers."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mlops_bot.strict_json import shape_problem


class DependencyEdit(BaseModel):
    """One proposed change to one dependency file."""

    model_config = ConfigDict(frozen=True)

    path: str
    new_content: str
    added_line: str  # the new entry as written into the file, without indentation or line ending
    diff: str  # unified diff (a/path, b/path) of the whole change
    note: str | None = None  # what a reviewer should know (e.g. "added unpinned in a pinned file")


# A repository's file as the repairs walk it, each YAML alias counted in full: real dependency and
# workflow files hold a few thousand values. Aliases can make a few hundred bytes stand for
# billions (the comparisons would expand them); deep nesting exhausts a parser's stack (or, past
# the parser, `copy.deepcopy`'s and the comparisons').
MAX_FILE_VALUES = 50_000


class UnreadableYAML(YAMLError):
    """YAML the repairs will not walk: nested too deeply or too large once its aliases are expanded."""


def load_bounded(yaml: YAML, content: str) -> Any:
    """`yaml.load(content)`; a hostile shape raises `UnreadableYAML`, a `YAMLError` like any unparsable file."""
    try:
        document = yaml.load(content)
    except RecursionError as exc:
        raise UnreadableYAML("nested too deeply") from exc
    problem = shape_problem(document, max_values=MAX_FILE_VALUES)
    if problem:
        raise UnreadableYAML(problem)
    return document


def parse_bounded(parse: Callable[[str], Any], content: str, errors: tuple[type[Exception], ...]) -> Any | None:
    """`parse(content)` (a TOML or JSON parser), or None when it raises one of `errors`, exhausts
    the parser's stack, or gives a document too deep or too large for the repairs to walk."""
    refused: tuple[type[BaseException], ...] = (*errors, RecursionError)
    try:
        document = parse(content)
    except refused:
        return None
    return None if shape_problem(document, max_values=MAX_FILE_VALUES) else document


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Scikit_Learn`, `scikit.learn` and `scikit-learn` are one project."""
    return str(canonicalize_name(name))


# --------------------------------------------------------------------------------------------------
# The requested package


_PY_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PY_PACKAGE = re.compile(rf"\s*(?P<name>{_PY_NAME})\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;#]*?)\s*")
_PY_VERSION = r"[A-Za-z0-9.*+!_-]+"
_POETRY_RANGE = re.compile(rf"[\^~]\s*{_PY_VERSION}")  # caret/tilde: Poetry's own syntax, not PEP 440
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
    """Parse `pkg`, `pkg[extra]` or `pkg>=1` with `packaging`; a bare version means that exact version.

    Poetry's caret/tilde ranges (`^1.2`) are kept as written (only a Poetry table takes them);
    anything else must be a PEP 508 name with a PEP 440 specifier, or ValueError.
    """
    match = _PY_PACKAGE.fullmatch(package)
    if match is None:
        raise ValueError(f"not a Python package name: {package!r}")
    spec = (version_spec if version_spec is not None else match["spec"]).strip()
    if spec and spec[0].isdigit():
        spec = f"=={spec}"
    spec = re.sub(r"\s+", "", spec)
    poetry = bool(_POETRY_RANGE.fullmatch(spec))
    extras_text = f"[{match['extras']}]" if match["extras"] is not None else ""
    try:
        requirement = Requirement(f"{match['name']}{extras_text}{'' if poetry else spec}")
        if not poetry and spec:
            SpecifierSet(spec)
    except (InvalidRequirement, InvalidSpecifier) as exc:
        raise ValueError(f"not a Python requirement: {package!r} {spec!r}") from exc
    if requirement.url or requirement.marker:
        raise ValueError(f"not a plain Python requirement: {package!r}")
    extras = tuple(e.strip() for e in (match["extras"] or "").split(",") if e.strip())
    return _Requested(requirement.name, extras, spec)


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
