"""GitHub Actions workflow files: raising a job's own `timeout-minutes`, round-trip with ruamel.yaml.

The file is loaded and dumped by ruamel.yaml's round-trip mode with the file's own indentation
(guessed from the file), quotes and line width kept, so comments and layout survive. The result is
accepted only when the re-parsed document equals the original with the one value changed and the
text differs from the original on that value's line alone; anything else is no edit at all.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from mlops_bot.healing.dependency_files._core import DependencyEdit, _edit, _eol, load_bounded

GITHUB_MAX_JOB_MINUTES = 360


# A top-level key and the first key nested under it (blank and comment lines between allowed).
_NESTED_KEY = re.compile(r"^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*( +)[^\s#-]", re.M)


class _Layout:
    """The file's own indentation: of mappings, of block sequences, and of their dashes."""

    def __init__(self, content: str) -> None:
        _, sequence, offset = load_yaml_guess_indent(content)
        nested = re.search(
            r"^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*( +)[^\s#-]", content, re.M
        )
        self.mapping = len(nested.group(1)) if nested else 2
        self.offset = int(offset or 0)
        self.sequence = max(int(sequence or 2), self.offset + 2)

    def yaml(self) -> YAML:
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        yaml.indent(mapping=self.mapping, sequence=self.sequence, offset=self.offset)
        return yaml


def _load(content: str) -> tuple[Any, _Layout] | None:
    try:
        layout = _Layout(content)
        return load_bounded(layout.yaml(), content), layout
    except (YAMLError, RecursionError):  # RecursionError: guessing the indentation of a hostile file
        return None


def _plain(document: Any) -> Any:
    """The document as plain Python values (what a comparison should look at)."""
    if isinstance(document, dict):
        return {str(k): _plain(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_plain(v) for v in document]
    return document


def _only_line_changed(old: str, new: str, line: int) -> bool:
    before, after = old.splitlines(), new.splitlines()
    return len(before) == len(after) and all(
        a == b for i, (a, b) in enumerate(zip(before, after, strict=True)) if i != line
    )


def jobs_with_timeout(content: str, minutes: int) -> list[str]:
    """The ids of the jobs whose own `timeout-minutes` is `minutes`."""
    loaded = _load(content)
    if loaded is None or not isinstance(loaded[0], dict) or not isinstance(loaded[0].get("jobs"), dict):
        return []
    return [
        str(job_id)
        for job_id, job in loaded[0]["jobs"].items()
        if isinstance(job, dict) and job.get("timeout-minutes") == minutes
    ]


def raise_job_timeout(
    path: str, content: str, *, minutes: int, raise_to: int, job: str | None = None
) -> DependencyEdit | None:
    """Set `timeout-minutes` of the job that ran out of time from `minutes` to `raise_to` (≤ 360).

    The job is `job` when the caller knows it, else the one job whose own limit is `minutes`; two
    jobs with that limit and no name to tell them apart is no edit (the wrong job must not change).
    """
    raise_to = min(raise_to, GITHUB_MAX_JOB_MINUTES)
    if raise_to <= minutes:
        return None
    loaded = _load(content)
    if loaded is None:
        return None
    document, layout = loaded
    candidates = jobs_with_timeout(content, minutes)
    chosen = job if job in candidates else (candidates[0] if len(candidates) == 1 and job is None else None)
    if chosen is None:
        return None
    jobs: CommentedMap = document["jobs"]
    key = next(k for k in jobs if str(k) == chosen)
    line, column = jobs[key].lc.value("timeout-minutes")
    expected = _plain(document)
    expected["jobs"][chosen]["timeout-minutes"] = raise_to
    jobs[key]["timeout-minutes"] = raise_to
    dumped, in_place = _dumped(content, document, layout), _in_place(content, line, column, minutes, raise_to)
    # The dump is taken when it changes nothing but the value; else the value is rewritten where the
    # parser found it (a layout the dumper would normalise, such as flow style).
    for new_content in (dumped, in_place) if in_place is None or dumped == in_place else (in_place,):
        if new_content is None or not _only_line_changed(content, new_content, line):
            continue
        reloaded = _load(new_content)
        if reloaded is not None and _plain(reloaded[0]) == expected:
            return _edit(path, content, new_content, f"timeout-minutes: {raise_to}", note=f"job {chosen}")
    return None


def _dumped(content: str, document: Any, layout: _Layout) -> str:
    """The document dumped round-trip in the file's layout and line endings."""
    stream = io.StringIO()
    layout.yaml().dump(document, stream)
    new_content = stream.getvalue()
    eol = _eol(content)
    if eol != "\n":
        new_content = new_content.replace("\n", eol)
    if not content.endswith(("\n", "\r")):
        new_content = new_content.rstrip("\r\n")
    return new_content


def _in_place(content: str, line: int, column: int, minutes: int, raise_to: int) -> str | None:
    """The value rewritten where the round-trip parser located it, for layouts its dumper would change."""
    lines = content.split("\n")
    text = lines[line]
    if not re.match(rf"{minutes}(?!\d)", text[column:]):
        return None
    lines[line] = text[:column] + str(raise_to) + text[column + len(str(minutes)) :]
    return "\n".join(lines)


def _version_text(value: Any) -> str | None:
    text = str(value).strip().removesuffix(".x")
    return text if re.fullmatch(r"3\.\d+(?:\.\d+)?", text) else None


def python_versions(content: str, job: str | None = None) -> list[str]:
    """The Pythons `actions/setup-python` installs in the workflow (one job's when named), matrix resolved.

    What the runner's Python is, for choosing a release that supports it; empty when unknown.
    """
    loaded = _load(content)
    if loaded is None or not isinstance(loaded[0], dict) or not isinstance(loaded[0].get("jobs"), dict):
        return []
    found: list[str] = []
    for job_id, body in loaded[0]["jobs"].items():
        if not isinstance(body, dict) or (job is not None and str(job_id) != job):
            continue
        matrix = (body.get("strategy") or {}).get("matrix") or {}
        for step in body.get("steps") or []:
            if not isinstance(step, dict) or not str(step.get("uses", "")).startswith("actions/setup-python"):
                continue
            value = (step.get("with") or {}).get("python-version")
            expression = re.fullmatch(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}", str(value or "").strip())
            values = matrix.get(expression.group(1)) if expression and isinstance(matrix, dict) else [value]
            for candidate in values if isinstance(values, list) else [values]:
                if (version := _version_text(candidate)) is not None:
                    found.append(version)
    return list(dict.fromkeys(found))


def job_ids_named(content: str, display_names: list[str]) -> list[str]:
    """The job ids whose display name (`name:`, else the id) is one of `display_names`.

    The Actions API names a job by its display name, with ` (matrix values)` appended for a matrix job.
    """
    loaded = _load(content)
    if loaded is None or not isinstance(loaded[0], dict) or not isinstance(loaded[0].get("jobs"), dict):
        return []
    found: list[str] = []
    for job_id, body in loaded[0]["jobs"].items():
        display = str(body.get("name") or job_id) if isinstance(body, dict) else str(job_id)
        if any(name == display or name.startswith(f"{display} (") for name in display_names):
            found.append(str(job_id))
    return found
