"""Adding a missing package to the dependency file a repository really installs from.

When CI fails on a missing import, the fix pull request must touch the file the project's install
step reads (otherwise CI stays red) and must look like a maintainer wrote it: every existing line,
comment, quote style, indentation, key order and line ending stays as it was, and the new entry goes
where the maintainers would have put it (in alphabetical position when the list is sorted, at the
end otherwise). One module per format, each on the library made for it:

- `requirements` — pip's line format (no library edits it); names, specifiers and markers are read
  with `packaging`, pip's own options (`-r`, `-e`, `--hash`) by hand;
- `pyproject` — `tomlkit` round trip (PEP 621 arrays, optional dependencies, Poetry tables);
- `conda` — `ruamel.yaml` round-trip loader locates the entries of environment.yml;
- `setup_cfg` — `configparser`;
- `package_json` — `json`, rendered in the file's detected indentation as npm writes it;
- `workflow`, `pins`, `flaky_markers` — a job's `timeout-minutes`, exact pins, pytest quarantine.

Every edit is re-parsed and compared with the original document: the result must equal the
original plus exactly the new entry, or no edit is proposed at all (a pull request that breaks the
file is worse than none).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from mlops_bot.healing.dependency_files._core import (
    DependencyEdit,
    _python_request,
    canonical_name,
    parse_bounded,
)
from mlops_bot.healing.dependency_files.conda import (
    _add_to_environment,
    _conda_document,
    _conda_layout,
)
from mlops_bot.healing.dependency_files.package_json import (
    _INSTALLED_NODE_SECTIONS,
    _add_to_package_json,
)
from mlops_bot.healing.dependency_files.pyproject import (
    _add_to_pyproject,
    _pep621_dependencies,
    _poetry_dependencies,
    _pyproject_declared,
    _toml_document,
)
from mlops_bot.healing.dependency_files.pyproject import (
    add_test_dependency as _add_test_dependency_to_pyproject,
)
from mlops_bot.healing.dependency_files.requirements import (
    _add_to_requirements,
    _included_path,
    _parse_requirements,
)
from mlops_bot.healing.dependency_files.setup_cfg import (
    _add_to_setup_cfg,
    _cfg_requirements,
    _setup_cfg,
    _setup_cfg_declared,
)

__all__ = [
    "DEPENDENCY_FILES_BY_ECOSYSTEM",
    "DEPENDENCY_FILE_CANDIDATES",
    "DependencyEdit",
    "add_dependency",
    "add_test_dependency",
    "canonical_name",
    "choose_dependency_file",
    "declared_packages",
    "pinned_file",
    "test_dependency_declared",
]

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
        document = parse_bounded(json.loads, content, (json.JSONDecodeError,))
        sections = [document.get(s) for s in _INSTALLED_NODE_SECTIONS] if isinstance(document, dict) else []
        return frozenset(k.lower() for s in sections if isinstance(s, dict) for k in s)
    if name == "pyproject.toml":
        document = _toml_document(content)
        return frozenset(_pyproject_declared(document)) if document else frozenset()
    if name == "setup.cfg":
        parser = _setup_cfg(content)
        return frozenset(_setup_cfg_declared(parser)) if parser else frozenset()
    if name.endswith((".yml", ".yaml")):
        layout = _conda_layout(content)
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
        except (json.JSONDecodeError, RecursionError):
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


def _declared_requirements(path: str, content: str) -> list[str] | None:
    """The requirement strings a Python dependency file lists (None: a file kind without them)."""
    name = posixpath.basename(path)
    if name == "pyproject.toml":
        document = _toml_document(content) or {}
        listed = _pep621_dependencies(document)
        if listed is not None:
            return [str(r) for r in listed]
        poetry = _poetry_dependencies(document) or {}
        return [
            f"{k}=={v}" if isinstance(v, str) and re.fullmatch(r"=?=?\s*\d[\w.+!-]*", v) else f"{k}{v}"
            for k, v in poetry.items()
            if k != "python"
        ]
    if name == "setup.cfg":
        parser = _setup_cfg(content)
        return _cfg_requirements(parser.get("options", "install_requires", fallback="")) if parser else None
    if name.endswith((".yml", ".yaml")):
        document = _conda_document(content) or {"dependencies": []}
        pip = next((d["pip"] for d in document["dependencies"] if isinstance(d, dict) and "pip" in d), None)
        return [str(r) for r in pip if not str(r).startswith("-")] if isinstance(pip, list) else None
    if name.endswith((".txt", ".in")):
        return ["==" if e.pinned else e.name for e in _parse_requirements(content).entries]
    return None


def pinned_file(path: str, content: str) -> bool:
    """True when every requirement the file lists is an exact pin (`==`): a new one must be pinned too."""
    listed = _declared_requirements(path, content)
    return bool(listed) and all("==" in r for r in listed or [])


TEST_REQUIREMENT_FILES: tuple[str, ...] = (
    "requirements-dev.txt",
    "requirements-test.txt",
    "requirements/test.txt",
    "requirements/dev.txt",
    "test-requirements.txt",
    "dev-requirements.txt",
)


def test_dependency_declared(existing: Mapping[str, str], package: str) -> str | None:
    """The file (of `existing`, `{path: content}`) that already declares `package`, if any."""
    wanted = canonical_name(package)
    for path, content in existing.items():
        try:
            if wanted in declared_packages(path, content):
                return path
        except ValueError:
            continue
    return None


def add_test_dependency(existing: Mapping[str, str], package: str) -> DependencyEdit | None:
    """Declare a test-only dependency where the project keeps its test tools.

    The first of a test/dev requirements file, else pyproject's test group (`[dependency-groups]`,
    `[project.optional-dependencies]` test/tests/testing/dev, or a Poetry test/dev group). None when
    the project has no such place: a test tool must not become a runtime dependency.
    """
    for path in TEST_REQUIREMENT_FILES:
        if path in existing:
            return add_dependency(path, existing[path], package, others=existing)
    if "pyproject.toml" in existing:
        return _add_test_dependency_to_pyproject("pyproject.toml", existing["pyproject.toml"], package)
    return None
