"""Version pins: choosing a version with `packaging`, and moving an exact pin (`name==1.2.3`) in place.

A pin is moved by rewriting only its version on the one line that holds it, in whatever file holds
it (requirements files, pyproject.toml, setup.cfg, environment.yml, a workflow's `pip install`):
the result must differ from the original on that line alone and still parse as its format, or no
edit is proposed.
"""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from collections.abc import Iterable, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mlops_bot.adapters.pypi import Release
from mlops_bot.healing.dependency_files._core import DependencyEdit, _edit, load_bounded


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def nearest_version(requested: str, available: Iterable[str]) -> str | None:
    """The listed version closest to `requested`: the newest at or below it, else the oldest above it.

    Pre-releases count only when `requested` is one (a pin to `2.0.0` must not become `2.1.0rc1`).
    """
    wanted = _version(requested)
    versions = [v for v in (_version(a) for a in available) if v is not None]
    if wanted is None or not versions:
        return None
    if not wanted.is_prerelease:
        versions = [v for v in versions if not v.is_prerelease] or versions
    below = [v for v in versions if v <= wanted]
    chosen = max(below) if below else min(versions)
    return str(chosen)


PythonVersions = str | Sequence[str] | None


def supports(release: Release, python_versions: PythonVersions) -> bool:
    """True when the release declares no Python limit or its `requires_python` admits every runner Python."""
    wanted = [python_versions] if isinstance(python_versions, str) else list(python_versions or [])
    if not wanted or not release.requires_python:
        return True
    try:
        allowed = SpecifierSet(release.requires_python)
        return all(allowed.contains(Version(v), prereleases=True) for v in wanted)
    except (InvalidSpecifier, InvalidVersion):
        return True


def installable(releases: Sequence[Release], python_version: PythonVersions) -> list[str]:
    """Versions with files, not yanked, not pre-releases, that support the runner's Python."""
    found: list[str] = []
    for release in releases:
        version = _version(release.version)
        if version is None or version.is_prerelease or release.yanked or not release.has_files:
            continue
        if supports(release, python_version):
            found.append(release.version)
    return found


def newest(versions: Iterable[str]) -> str | None:
    parsed = [v for v in (_version(x) for x in versions) if v is not None]
    return str(max(parsed)) if parsed else None


def _name_pattern(package: str) -> str:
    """Any PEP 503 spelling of the name (`Scikit_Learn` for `scikit-learn`)."""
    parts = re.split(r"[-_.]+", package)
    return r"[-_.]+".join(re.escape(p) for p in parts)


def _pin_pattern(package: str, old: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?<![A-Za-z0-9._-])(?P<head>{_name_pattern(package)}(?:\s*\[[^\]\n]*\])?\s*==\s*)"
        rf"(?P<version>{re.escape(old)})(?![A-Za-z0-9.*+!_-])",
        re.IGNORECASE,
    )


def _poetry_pattern(package: str, old: str) -> re.Pattern[str]:
    """`torch = "2.1.0"`, `torch = "==2.1.0"`, `torch = {version = "2.1.0", ...}` in a Poetry table."""
    return re.compile(
        rf"^(?P<head>[ \t]*[\"']?{_name_pattern(package)}[\"']?[ \t]*=[ \t]*(?:\{{[^}}\n]*?version[ \t]*=[ \t]*)?"
        rf"[\"'](?:==)?)(?P<version>{re.escape(old)})(?=[\"'])",
        re.IGNORECASE | re.MULTILINE,
    )


def _commented(content: str, offset: int) -> bool:
    line_start = content.rfind("\n", 0, offset) + 1
    return "#" in content[line_start:offset]


def _parses(path: str, content: str) -> bool:
    name = posixpath.basename(path)
    try:
        if name.endswith(".toml"):
            tomllib.loads(content)
        elif name.endswith((".yml", ".yaml")):
            load_bounded(YAML(typ="rt"), content)
        elif name.endswith(".json"):
            json.loads(content)
    except (tomllib.TOMLDecodeError, YAMLError, ValueError, RecursionError):
        return False
    return True


def move_pin(path: str, content: str, package: str, old: str, new: str) -> DependencyEdit | None:
    """Rewrite the one exact pin `package==old` (any spelling of the name) to `new`, keeping the line.

    None when the file holds no such pin outside comments, holds it more than once (which one is
    meant is then unclear), or the edit would not parse.
    """
    if _version(new) is None:
        raise ValueError(f"not a version: {new!r}")
    matches = [m for m in _pin_pattern(package, old).finditer(content) if not _commented(content, m.start())]
    if posixpath.basename(path) == "pyproject.toml":
        starts = {m.start("version") for m in matches}
        matches += [m for m in _poetry_pattern(package, old).finditer(content) if m.start("version") not in starts]
    if len(matches) != 1:
        return None
    match = matches[0]
    new_content = content[: match.start("version")] + new + content[match.end("version") :]
    old_lines, new_lines = content.splitlines(), new_content.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    if len(old_lines) != len(new_lines) or len(changed) != 1 or not _parses(path, new_content):
        return None
    return _edit(path, content, new_content, new_lines[changed[0]].strip())
