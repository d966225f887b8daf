"""Typed rules that recognise real CI failure messages.

Each `Rule` pairs cheap literal pre-filters (``in`` checks, so most lines cost a few substring tests)
with one regex (compiled on first use), and a builder that reads the surrounding lines to fill `details` and to
tell look-alikes apart (a ``No matching distribution`` after ``Connection refused`` is the network, not
the version pin). Strong rules decide; secondary rules (``Killed``, ``exit code 137``, ``##[error]``)
only point at the likely failure line with low confidence, as in Debian Janitor's buildlog-consultant.

Patterns are written in the subset shared by Python `re` and POSIX ERE (no ``\\d``, no lazy
quantifiers, no backslash inside brackets) so that `grep_patterns()` can hand them to ``grep -E``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from enum import Enum

from mlops_bot.diagnosis.category import Category
from mlops_bot.diagnosis.lazy_re import lazy
from mlops_bot.diagnosis.module_packages import canonical, is_known_module, module_to_package, namespace_modules
from mlops_bot.diagnosis.records import FrozenRecord, Record

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Any

LogLine = tuple[int, str]

# How far builders look around a hit; bounded so that a pathological log cannot make them quadratic.
CONTEXT_LINES = 300
REGION_LINES = 2_000
MAX_TESTS = 100


class Strength(Enum):
    """Strong hits decide the diagnosis; secondary hits are kept as fallbacks and pointers."""

    STRONG = "strong"
    SECONDARY = "secondary"


class Finding(Record):
    """A rule's verdict before it becomes a `Problem` (line numbers still plain tuples)."""

    __slots__ = ("category", "confidence", "details", "evidence", "kind")
    _fields = ("category", "kind", "confidence", "details", "evidence")

    def __init__(
        self,
        category: Category,
        kind: str,
        confidence: float,
        details: dict[str, Any] | None = None,
        evidence: list[LogLine] | None = None,
    ) -> None:
        self.category = category
        self.kind = kind
        self.confidence = confidence
        self.details: dict[str, Any] = {} if details is None else details
        self.evidence: list[LogLine] = [] if evidence is None else evidence


class RunGroup(FrozenRecord):
    """A ``##[group]Run <command>`` block: the step's command line(s), used for step names and limits."""

    __slots__ = ("line", "script", "title")
    _fields = ("line", "title", "script")
    line: int
    title: str
    script: tuple[str, ...]

    def __init__(self, line: int, title: str, script: tuple[str, ...] = ()) -> None:
        self._init(line=line, title=title, script=script)

    @property
    def command(self) -> str:
        return self.title[4:] if self.title.startswith("Run ") else self.title


class Context(Record):
    """What builders may look at: the retained lines (in order), the step groups, caller knowledge."""

    __slots__ = ("groups", "lines", "own_packages", "passed_tests")
    _fields = ("lines", "groups", "own_packages", "passed_tests")

    def __init__(
        self,
        lines: Sequence[LogLine],
        groups: Sequence[RunGroup] = (),
        own_packages: Collection[str] = (),
        passed_tests: Collection[str] = (),
    ) -> None:
        self.lines = lines
        self.groups = groups
        self.own_packages = own_packages
        self.passed_tests = passed_tests

    def back(self, idx: int, limit: int = CONTEXT_LINES) -> Iterator[tuple[int, str]]:
        """Lines before `idx`, nearest first, as (index, text)."""
        for i in range(idx - 1, max(-1, idx - 1 - limit), -1):
            yield i, self.lines[i][1]

    def forward(self, idx: int, limit: int = 20) -> Iterator[tuple[int, str]]:
        """Lines after `idx`, nearest first, as (index, text)."""
        for i in range(idx + 1, min(len(self.lines), idx + 1 + limit)):
            yield i, self.lines[i][1]

    def group_for(self, lineno: int) -> RunGroup | None:
        """The ``Run`` group a log line belongs to (the last one opened before it)."""
        found: RunGroup | None = None
        for group in self.groups:
            if group.line > lineno:
                break
            found = group
        return found

    def region(self, idx: int, stop: Callable[[str], bool], limit: int = REGION_LINES) -> list[int]:
        """Indexes of the lines before `idx` back to (excluding) the first line where `stop` holds."""
        indexes: list[int] = []
        for i, text in self.back(idx, limit):
            if stop(text):
                break
            indexes.append(i)
        indexes.reverse()
        return indexes


class Hit(FrozenRecord):
    """A regex match of a rule on one retained line."""

    __slots__ = ("ctx", "idx", "match")
    _fields = ("ctx", "idx", "match")
    ctx: Context
    idx: int
    match: re.Match[str]

    def __init__(self, ctx: Context, idx: int, match: re.Match[str]) -> None:
        self._init(ctx=ctx, idx=idx, match=match)

    @property
    def line(self) -> LogLine:
        return self.ctx.lines[self.idx]


Builder = Callable[["Rule", Hit], Finding | None]


class Rule(FrozenRecord):
    """One failure message: literal pre-filters, a regex, and how to turn a match into a `Finding`.

    `explains_tests` marks rules whose message, found inside a failing test's traceback, is the real
    cause (a missing module or data file), so the test-summary rules can report that instead.
    """

    __slots__ = (
        "_regex",
        "build",
        "category",
        "confidence",
        "explains_tests",
        "kind",
        "literals",
        "name",
        "pattern",
        "retain",
        "strength",
    )
    _fields = (
        "name",
        "category",
        "kind",
        "pattern",
        "literals",
        "confidence",
        "strength",
        "build",
        "explains_tests",
        "retain",
    )
    name: str
    category: Category
    kind: str
    pattern: str
    literals: tuple[str, ...]
    confidence: float
    strength: Strength
    build: Builder | None
    explains_tests: bool
    # Literals that make the streaming pass keep a line from anywhere in the log; None means `literals`.
    # Empty for messages that only matter near the end, when their literal is too common to scan for.
    retain: tuple[str, ...] | None
    _regex: re.Pattern[str] | None

    def __init__(
        self,
        name: str,
        category: Category,
        kind: str,
        pattern: str,
        literals: tuple[str, ...],
        confidence: float,
        strength: Strength = Strength.STRONG,
        build: Builder | None = None,
        explains_tests: bool = False,
        retain: tuple[str, ...] | None = None,
    ) -> None:
        self._init(
            name=name,
            category=category,
            kind=kind,
            pattern=pattern,
            literals=literals,
            confidence=confidence,
            strength=strength,
            build=build,
            explains_tests=explains_tests,
            retain=retain,
            _regex=None,
        )

    @property
    def regex(self) -> re.Pattern[str]:
        """`pattern`, compiled on first use (most rules never get past their literal pre-filter)."""
        regex = self._regex
        if regex is None:
            regex = re.compile(self.pattern)
            object.__setattr__(self, "_regex", regex)
        return regex

    def apply(self, ctx: Context, idx: int) -> Finding | None:
        text = ctx.lines[idx][1]
        if not any(literal in text for literal in self.literals):
            return None
        match = self.regex.search(text)
        if match is None:
            return None
        hit = Hit(ctx, idx, match)
        if self.build is None:
            return self.finding(hit, details=_named_groups(match))
        return self.build(self, hit)

    def finding(
        self,
        hit: Hit,
        details: dict[str, Any] | None = None,
        evidence: list[LogLine] | None = None,
        *,
        category: Category | None = None,
        kind: str | None = None,
        confidence: float | None = None,
    ) -> Finding:
        return Finding(
            category=category or self.category,
            kind=kind or self.kind,
            confidence=self.confidence if confidence is None else confidence,
            details=details or {},
            evidence=evidence or [hit.line],
        )


def _named_groups(match: re.Match[str]) -> dict[str, Any]:
    return {key: value for key, value in match.groupdict().items() if value is not None}


# --------------------------------------------------------------------------------------------------
# Shared parsing helpers

_GROUP_MARKERS = ("##[group]", "##[endgroup]")
_TIMEOUT_COMMAND = lazy(
    r"\btimeout(?:\s+(?:-k|-s|--kill-after|--signal)(?:\s+|=)\S+|\s+-[-A-Za-z]+)*\s+(?P<limit>[0-9.]+[smhd]?)\s"
)
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_QUOTED = lazy(r"'([^']+)'|\"([^\"]+)\"")
_DATA_SUFFIXES = frozenset(
    (
        *(".csv", ".tsv", ".parquet", ".pq", ".feather", ".arrow", ".orc", ".avro", ".jsonl", ".ndjson"),
        *(".npy", ".npz", ".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".hdf", ".nc", ".zarr", ".xlsx"),
        *(".xls", ".tfrecord", ".tfrecords", ".pt", ".pth", ".ckpt", ".safetensors", ".onnx", ".bin", ".db"),
        *(".sqlite", ".wav", ".mp3", ".flac", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gz", ".bz2", ".xz"),
        *(".zip", ".tar", ".tgz", ".json"),
    )
)
_DATA_DIRS = frozenset(
    ("data", "datasets", "dataset", "raw", "processed", "interim", "features", "fixtures", "artifacts", "models")
)
_EXCEPTION_LINE = lazy(
    r"^(?:E +)?(?:(?P<exc>[A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Exit|Interrupt|Failed|Failure)|Failed)"
    r"(?::|$)|assert )"
)
_PYTEST_E_PREFIX = lazy(r"^E {1,}")


# Lines tools print after the cause: never the evidence for it.
_BOILERPLATE = lazy(
    r"^(?:note: This error originates from a subprocess|note: This is an issue with the package"
    r"|hint: See above|A complete log of this run can be found in|npm (?:ERR!|error) A complete log"
    r"|Check the permissions\.|See above for output\.|For more information,? (?:see|visit|run)"
    r"|error: subprocess-exited-with-error|╰─> See above for output\.|[\]\[}{)( ,;]*$)"
)


def is_boilerplate(text: str) -> bool:
    """Whether a line is trailing boilerplate (``note: This error originates from a subprocess``, ``}``)."""
    return _BOILERPLATE.match(text.strip()) is not None


def seconds(limit: str, default_unit: str = "s") -> float | None:
    """``"10m"`` -> 600.0; a bare number takes `default_unit` (coreutils timeout counts seconds)."""
    match = re.fullmatch(r"([0-9.]+)\s*([smhd]?)", limit.strip())
    if match is None:
        return None
    try:
        value = float(match.group(1))
    except ValueError:
        return None
    return value * _DURATION_UNITS[match.group(2) or default_unit]


def is_data_path(path: str) -> bool:
    """Whether a missing path looks like a data set or model artefact rather than code or config."""
    from pathlib import PurePosixPath  # here: pathlib costs the CLI's start ~2 ms

    pure = PurePosixPath(path.replace("\\", "/"))
    suffixes = [s.lower() for s in pure.suffixes]
    if any(s in _DATA_SUFFIXES for s in suffixes[-2:]) and suffixes[-1:] != [".json"]:
        return True
    parents = {part.lower() for part in pure.parts[:-1]}
    return bool(parents & _DATA_DIRS)


_WORKSPACE = lazy(r"^.*?/_?work/(?P<repo>[^/]+)/(?P=repo)/")


def workspace_relative(path: str) -> str:
    """``/home/runner/work/proj/proj/src/x.py`` -> ``src/x.py``: what a fixer edits in its checkout."""
    return _WORKSPACE.sub("", path, count=1)


def _step_script(ctx: Context, lineno: int) -> str:
    group = ctx.group_for(lineno)
    if group is None:
        return ""
    return "\n".join((group.command, *group.script))


def _unique(items: Iterator[str] | list[str], limit: int = MAX_TESTS) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item not in seen:
            seen[item] = None
            if len(seen) >= limit:
                break
    return list(seen)


# --------------------------------------------------------------------------------------------------
# Builders: dependencies


# Tools people run as ``python -m tool``: a missing one is the workflow's install step, not the code's.
PYTHON_TOOLS = frozenset(
    (
        *("pytest", "black", "ruff", "mypy", "flake8", "isort", "pylint", "coverage", "tox", "nox", "pip"),
        *("build", "twine", "pre_commit", "bandit", "pyright", "sphinx", "jupyter", "nbconvert", "uvicorn"),
        *("pydocstyle", "pycodestyle", "pyflakes", "autopep8", "yapf", "poetry", "pipx", "wheel", "setuptools"),
    )
)
_IMPORT_STATEMENT = lazy(
    r"^\s*(?:from\s+(?P<from>[A-Za-z_][A-Za-z0-9_.]*)\s+import\b|import\s+(?P<imp>[A-Za-z_][A-Za-z0-9_.]*))"
)
_FRAME_FILE = lazy(r'File "(?P<file>[^"]+)", line [0-9]+|^(?P<pyfile>[^ :]+\.py):[0-9]+: in ')
_INSTALLED_FRAME = lazy(r"/(?:site|dist)-packages/(?P<top>[A-Za-z_][A-Za-z0-9_]*)/")
_TRACEBACK_LINES = 40
# Lines that put a traceback inside a package *build* (pip running a PEP 517 backend or ``setup.py`` in a
# subprocess): a module missing there is a build requirement (``[build-system].requires``, or installed
# before ``--no-build-isolation``), which a line in the requirements does not fix.
_BUILD_MARKERS = (
    "BackendUnavailable",
    "pyproject_hooks/_in_process",
    "_in_process.py",
    "did not run successfully",
    "subprocess-exited-with-error",
)
# Folder names projects use for their own code and that no project means as a PyPI distribution:
# ``from src.features import x`` run from the wrong directory is a path problem, never a package to add.
PROJECT_FOLDERS = frozenset(("src", "tests", "test", "testing", "scripts", "notebooks", "conftest"))


_REPOSITORY_PATH = lazy(
    r"/work/(?P<repo>[A-Za-z0-9_.-]+)/(?P=repo)(?:/|'|$)|^Syncing repository: [^/ ]+/(?P<synced>[A-Za-z0-9_.-]+)$"
)


def _repository_name(ctx: Context) -> str | None:
    """The repository's name as the log shows it (the runner's ``work/<repo>/<repo>`` or actions/checkout)."""
    for _, text in ctx.lines[:3_000]:
        if "/work/" in text or text.startswith("Syncing repository: "):
            found = _REPOSITORY_PATH.search(text)
            if found is not None:
                return found["repo"] or found["synced"]
    return None


_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def _caught_and_continued(ctx: Context, idx: int) -> bool:
    """Whether the traceback ending at `idx` was logged and survived: the program went on to a new one.

    ``except ImportError: log.exception(...)`` (an optional integration) prints the traceback and
    carries on; the failure is what comes after. A chained traceback (``During handling of the above
    exception``) is the same failure, not a new one.
    """
    for _, text in ctx.forward(idx, 500):
        if any(marker in text for marker in _GROUP_MARKERS) or text.startswith("##[error]"):
            return False
        if _SECTION.match(text):  # the next pytest section (``--tb=native``): another test's traceback
            return False
        if any(marker in text for marker in _CHAINED):
            return False
        if text.startswith("Traceback (most recent call last)"):
            return True
    return False


def _in_package_build(ctx: Context, idx: int) -> bool:
    """Whether the line at `idx` is inside a failing package build's output (same step, same traceback)."""
    for _, text in ctx.back(idx, 120):
        if any(marker in text for marker in _GROUP_MARKERS) or _PYTEST_SESSION in text:
            return False
        if any(marker in text for marker in _BUILD_MARKERS):
            return True
    return False


def _traceback_facts(ctx: Context, idx: int, top: str, dotted: str) -> tuple[str | None, bool, bool]:
    """From the traceback above a missing-module line: the fullest dotted name an import statement
    asked for, whether `top` is a package in the workspace, and whether it is an installed distribution.
    """
    statement: str | None = None
    local = installed = False
    for _, text in ctx.back(idx, _TRACEBACK_LINES):
        if any(marker in text for marker in _GROUP_MARKERS) or _PYTEST_SESSION in text:
            break
        code = _PYTEST_E_PREFIX.sub("", text)
        imported = _IMPORT_STATEMENT.match(code)
        if imported is not None and statement is None:
            name = imported["from"] or imported["imp"]
            if name == dotted or name.startswith(dotted + "."):
                statement = name
        frame = _FRAME_FILE.search(text)
        if frame is not None:
            path = (frame["file"] or frame["pyfile"]).replace("\\", "/")
            relative = workspace_relative(path)
            if (relative != path or not path.startswith("/")) and not relative.startswith("/"):
                # `PurePosixPath(relative).parts` without pathlib (~2 ms of the CLI's start): a relative
                # path's components, empty and "." ones dropped.
                parts = [part for part in relative.split("/") if part and part != "."]
                if parts[:1] == [top] or parts[:2] == ["src", top]:
                    local = True
            in_site = _INSTALLED_FRAME.search(path)
            if in_site is not None and in_site["top"] == top:
                installed = True
    return statement, local, installed


def _python_module(rule: Rule, hit: Hit) -> Finding | None:
    """A missing Python module, answered with a package only when the log makes that certain.

    Python imports parents first, so ``No module named 'pkg.sub'`` means ``pkg`` imported: unless ``pkg``
    is a namespace shared by several distributions (``google``, ``azure``), the fix is a version or an
    import path, not a package to add. The repository's own names (from its tree, or seen in the
    traceback's workspace frames) are never sent to PyPI, and a top-level namespace (``google``) is mapped
    through the import statement the traceback shows (``from google.protobuf import ...``).
    """
    dotted = (hit.match["module"] or hit.match["module2"]).strip(".")
    top = dotted.split(".", 1)[0]
    details: dict[str, Any] = {"module": top, "import_name": dotted}
    ctx = hit.ctx
    if _caught_and_continued(ctx, hit.idx):
        return None  # logged by an ``except ImportError`` and survived: the failure comes later
    own = {canonical(entry) for entry in ctx.own_packages}
    statement, local_frame, installed = _traceback_facts(ctx, hit.idx, top, dotted)
    repository = None if canonical(top) in own or local_frame or top in PROJECT_FOLDERS else _repository_name(ctx)
    # A module named like the repository is the project's own package, most likely not installed
    # (``pip install -e .`` missing): adding a PyPI namesake would be wrong.
    named_like_repo = repository is not None and canonical(top) == canonical(repository)
    if canonical(top) in own or local_frame or top in PROJECT_FOLDERS or named_like_repo:
        details.update(package=None, local=True, fix_pr=False, no_fix_reason="the module is the repository's own")
        if local_frame and canonical(top) not in own:
            details["local_evidence"] = "traceback"
        elif top in PROJECT_FOLDERS and canonical(top) not in own:
            details["local_evidence"] = "project-folder"
        elif named_like_repo:
            details["local_evidence"] = "repository-name"
        return rule.finding(hit, details, kind="missing-local-module", confidence=0.8)
    if _in_package_build(ctx, hit.idx):
        details.update(
            package=None,
            build_requirement=module_to_package(top, ctx.own_packages) or top,
            fix_pr=False,
            no_fix_reason=(
                f"{top} is imported while building a package: it belongs in [build-system].requires"
                " (or before a --no-build-isolation install), not in the requirements"
            ),
        )
        return rule.finding(hit, details, kind="missing-build-dependency", confidence=0.8)
    tool_run = hit.match.groupdict().get("tool_run") is not None or re.search(
        rf"(?:^|\s)-m\s+{re.escape(top)}\b", _step_script(ctx, hit.line[0])
    )
    if top in PYTHON_TOOLS and tool_run and "." not in dotted:
        package = module_to_package(top) or top
        details.update(package=package, tool=True, run_as=f"python -m {top}")
        return rule.finding(hit, details, kind="missing-python-tool", confidence=0.7)
    namespaces = namespace_modules()
    is_namespace = top in namespaces or dotted in namespaces
    wanted = statement if statement is not None and is_namespace else dotted
    if "." in dotted and not is_namespace:
        # The parent package imported; only a sub-module is gone: a moved or removed module.
        distribution = module_to_package(top, ctx.own_packages)
        details.update(
            module=dotted,
            package=None,
            distribution=distribution,
            moved_module=dotted,
            fix_pr=False,
            no_fix_reason=f"{top} is installed but has no {dotted}: pin the release that had it or update the import",
        )
        if installed:
            details["installed_evidence"] = "traceback"
        return rule.finding(
            hit, details, category=Category.DEPENDENCY_RESOLUTION, kind="python-module-moved", confidence=0.85
        )
    package = module_to_package(wanted, ctx.own_packages)
    if wanted != dotted:
        details.update(import_name=wanted, namespace=top)
    details["package"] = package
    if package is None:
        if top in sys.stdlib_module_names:
            details["stdlib"] = True
            return rule.finding(hit, details, kind="missing-stdlib-module", confidence=0.6)
        details.update(fix_pr=False, no_fix_reason=f"{top} is a namespace shared by several distributions")
        return rule.finding(hit, details, kind="missing-namespace-module", confidence=0.5)
    known = is_known_module(wanted)
    details["package_source"] = "mapping" if known else "module-name"
    if not known:
        # A guess from the import name: right for most packages, but not certain enough to write.
        details.update(fix_pr=False, no_fix_reason=GUESSED_PACKAGE)
        return rule.finding(hit, details, confidence=0.65)
    return rule.finding(hit, details)


GUESSED_PACKAGE = "the package name is only a guess from the module's name (no known mapping); a person confirms it"


def _python_import_name(rule: Rule, hit: Hit) -> Finding | None:
    module = hit.match["module"]
    details = {"module": module, "name": hit.match["name"], "package": module_to_package(module)}
    # The name moved or went away in some release of the distribution: which pin fixes it needs a person.
    details.update(fix_pr=False, no_fix_reason=f"{module} has no {hit.match['name']} in the installed release")
    return rule.finding(hit, details)


def _node_module(rule: Rule, hit: Hit) -> Finding | None:
    module = hit.match["module"]
    if module.startswith((".", "/")) or module.startswith("node:"):
        return rule.finding(hit, {"module": module}, kind="missing-node-file", confidence=0.6)
    parts = module.split("/")
    package = "/".join(parts[:2]) if module.startswith("@") else parts[0]
    return rule.finding(hit, {"module": module, "package": package})


_NETWORK_MARKERS = (
    "Retrying (Retry(total=",
    "Connection refused",
    "Temporary failure in name resolution",
    "Name or service not known",
    "NewConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "Max retries exceeded",
    "ProxyError",
    "Network is unreachable",
    "Connection reset by peer",
    "Could not fetch URL",
    "error responses",
    "Read timed out",
    "Connection timed out",
    "No route to host",
)
_REQUIREMENT_NAME = lazy(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _pip_no_match(rule: Rule, hit: Hit) -> Finding | None:
    requirement = hit.match["requirement"]
    name_match = _REQUIREMENT_NAME.match(requirement)
    details: dict[str, Any] = {"requirement": requirement, "package": name_match.group(0) if name_match else None}
    for i, text in hit.ctx.back(hit.idx):
        if any(marker in text for marker in _NETWORK_MARKERS):
            details["cause"] = text.strip()[:300]
            return rule.finding(
                hit,
                details,
                [hit.ctx.lines[i], hit.line],
                category=Category.NETWORK_TRANSIENT,
                kind="pip-index-unreachable",
                confidence=0.9,
            )
        if any(marker in text for marker in _GROUP_MARKERS):
            break
    evidence = [hit.line]
    for i, text in hit.ctx.back(hit.idx, 3):
        versions = re.search(r"\(from versions: ([^)]*)\)", text)
        if versions is not None:
            listed = [v.strip() for v in versions.group(1).split(",") if v.strip() and v.strip() != "none"]
            details["available_versions"] = listed[-20:]
            evidence.insert(0, hit.ctx.lines[i])
            if not listed:
                details.update(
                    fix_pr=False,
                    no_fix_reason="the index has no release of it at all: a private package or a wrong name",
                )
            break
    if "+" in requirement:
        # A local version (``torch==2.3.0+cu118``) is served by another index, never PyPI: moving the pin
        # would silently drop the build the project asked for.
        details.update(
            fix_pr=False,
            local_version=True,
            no_fix_reason="a local version (+...) comes from an extra index: the workflow's index URL is missing",
        )
    return rule.finding(hit, details, evidence)


def _pip_resolution(rule: Rule, hit: Hit) -> Finding | None:
    requested: list[str] = []
    conflicts: list[str] = []
    evidence = [hit.line]
    for i, text in hit.ctx.back(hit.idx, 80):
        stripped = text.strip()
        user = re.match(r"The user requested (\S+)", stripped)
        if user is not None:
            requested.insert(0, user.group(1))
            conflicts.insert(0, stripped)
        elif re.match(r"\S+ \S+ depends on ", stripped):
            conflicts.insert(0, stripped)
        elif "because these package versions have conflicting dependencies" in stripped:
            evidence.insert(0, hit.ctx.lines[i])
            break
        if any(marker in text for marker in _GROUP_MARKERS):
            break
    details: dict[str, Any] = {"requirement": requested[0] if requested else None, "conflicts": conflicts[:10]}
    if requested:
        details["requested"] = requested
    details.update(fix_pr=False, no_fix_reason="two constraints conflict: which one gives way needs a person")
    return rule.finding(hit, details, evidence)


def _npm_eresolve(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {}
    evidence = [hit.line]
    following = list(hit.ctx.forward(hit.idx, 40))
    for j, (i, text) in enumerate(following):
        message = re.sub(r"^npm (?:ERR!|error) ?", "", text).strip()
        if message.startswith("Found: ") and "found" not in details:
            details["found"] = message[len("Found: ") :]
            evidence.append(hit.ctx.lines[i])
        elif message == "Could not resolve dependency:" and j + 1 < len(following):
            conflict_index, conflict = following[j + 1]
            details["conflict"] = re.sub(r"^npm (?:ERR!|error) ?", "", conflict).strip()
            required = re.search(r"from (\S+)$", details["conflict"])
            if required is not None:
                details["requirement"] = required.group(1)
            evidence.append(hit.ctx.lines[conflict_index])
            break
    return rule.finding(hit, details, evidence)


def _npm_not_found(rule: Rule, hit: Hit) -> Finding | None:
    url = hit.match["url"]
    package = url.rstrip("/").rsplit("/", 1)[-1].replace("%2f", "/").replace("%2F", "/")
    # The registry has no such package (or will not show it without credentials): there is no pin to move.
    reason = "the registry has no such package: a private scope needs the registry's auth, or the name is wrong"
    return rule.finding(hit, {"url": url, "package": package, "fix_pr": False, "no_fix_reason": reason})


# --------------------------------------------------------------------------------------------------
# Builders: causes that surface as a Python exception (a config file, an ABI, an API, a secret)

_YAML_MARK = lazy(r'in "(?P<file>[^"]+)", line (?P<line>[0-9]+), column (?P<column>[0-9]+)')


def _config_syntax(rule: Rule, hit: Hit) -> Finding | None:
    if hit.match["message2"] is not None:  # ``python -m json.tool``: the message without its class
        return rule.finding(hit, {"exception": "JSONDecodeError", "message": hit.match["message2"]}, confidence=0.7)
    message = hit.match["message"].strip()
    if message.startswith("Expecting value: line 1 column 1 (char 0)"):
        return None  # an empty or non-JSON *response* (an HTML error page), not a file someone wrote
    details: dict[str, Any] = {"exception": hit.match["exc"].rsplit(".", 1)[-1], "message": message[:300]}
    evidence = [hit.line]
    for i, text in hit.ctx.forward(hit.idx, 4):
        mark = _YAML_MARK.search(text)
        if mark is not None:
            details.update(path=workspace_relative(mark["file"]), line=int(mark["line"]))
            evidence.append(hit.ctx.lines[i])
            break
    return rule.finding(hit, details, evidence)


def _import_moved(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"name": hit.match["name"], "package": None}
    target = re.search(r"to the `?(?P<to>[A-Za-z0-9_.-]+)`? package", hit.match["message"])
    if target is not None:
        details["moved_to"] = target["to"]
    details.update(fix_pr=False, no_fix_reason=f"{hit.match['name']} moved in a release: the import must change too")
    return rule.finding(hit, details)


def _attribute_removed(rule: Rule, hit: Hit) -> Finding | None:
    module = hit.match["module"]
    top = module.split(".", 1)[0]
    own = {canonical(entry) for entry in hit.ctx.own_packages}
    if canonical(top) in own or not is_known_module(top):
        return None  # the project's own module, or one nobody can tell apart from it: a plain bug
    details: dict[str, Any] = {"module": module, "name": hit.match["name"], "distribution": module_to_package(top)}
    details.update(
        fix_pr=False, no_fix_reason=f"{module}.{hit.match['name']} is gone from the installed release of {top}"
    )
    return rule.finding(hit, details)


def _optional_dependency(rule: Rule, hit: Hit) -> Finding | None:
    module = hit.match["module"] or hit.match["module2"] or hit.match["module3"]
    package = module_to_package(module, hit.ctx.own_packages)
    details: dict[str, Any] = {"module": module, "import_name": module, "package": package, "optional": True}
    if package is None:
        return None
    if not is_known_module(module):
        details.update(package_source="module-name", fix_pr=False, no_fix_reason=GUESSED_PACKAGE)
        return rule.finding(hit, details, confidence=0.65)
    details["package_source"] = "mapping"
    return rule.finding(hit, details)


# Frameworks probe optional libraries and log a warning when one is absent (TensorFlow without CUDA):
# those lines are noise on a CPU runner, not the failure.
_LIBRARY_WARNINGS = ("Could not load dynamic library", "dlerror", "WARNING", "Warning", "warning:")

_ENVIRON_FRAME = ("environ", "<frozen os>", "getenv")


def _missing_secret(rule: Rule, hit: Hit) -> Finding | None:
    if not any(marker in text for _, text in hit.ctx.back(hit.idx, 6) for marker in _ENVIRON_FRAME):
        return None  # a dict lookup, not the environment
    return rule.finding(hit, {"variable": hit.match["name"]})


_PYTEST_PLUGIN_OPTIONS = {
    "--cov": "pytest-cov",
    "--no-cov": "pytest-cov",
    "-n": "pytest-xdist",
    "--numprocesses": "pytest-xdist",
    "--dist": "pytest-xdist",
    "--timeout": "pytest-timeout",
    "--reruns": "pytest-rerunfailures",
    "--only-rerun": "pytest-rerunfailures",
    "--html": "pytest-html",
    "--benchmark-only": "pytest-benchmark",
    "--count": "pytest-repeat",
    "--asyncio-mode": "pytest-asyncio",
    "--mypy": "pytest-mypy",
    "--splits": "pytest-split",
    "--nbval": "nbval",
    "--ds": "pytest-django",
    "-p": "",
}


def _pytest_plugin(rule: Rule, hit: Hit) -> Finding | None:
    near = " ".join(text for _, text in hit.ctx.back(hit.idx, 3))
    if "pytest" not in hit.line[1] and "pytest" not in near:
        return None  # another argparse program
    options = [arg.split("=", 1)[0] for arg in hit.match["args"].split() if arg.startswith("-")]
    plugin = next((_PYTEST_PLUGIN_OPTIONS[o] for o in options if _PYTEST_PLUGIN_OPTIONS.get(o)), None)
    details: dict[str, Any] = {"options": options, "plugin": plugin, "package": None, "tool": True}
    details.update(fix_pr=False, no_fix_reason="a pytest plugin the workflow runs with is not installed")
    return rule.finding(hit, details, confidence=0.8 if plugin else 0.6)


_BUILD_OUTPUT_START = lazy(r"^ *(?:\u2570\u2500>|.->) \[[0-9]+ lines? of output\]")
_COLLECTING_PACKAGE = lazy(r"^(?:Collecting|Processing|Obtaining|Building wheel for) (?P<package>[A-Za-z0-9][^ ()]*)")


def _pip_build_failed(rule: Rule, hit: Hit) -> Finding | None:
    """A package build pip ran failed and no rule read its output: point at the output's first line."""
    details: dict[str, Any] = {"stage": hit.match["stage"]}
    evidence = [hit.line]
    for i, text in hit.ctx.back(hit.idx, 200):
        if any(marker in text for marker in _GROUP_MARKERS):
            break
        if _BUILD_OUTPUT_START.match(text):
            following = [
                (j, line) for j, line in hit.ctx.forward(i, 60) if line.strip() and "[end of output]" not in line
            ]
            if following:
                evidence = [hit.ctx.lines[following[0][0]], hit.line]
        package = _COLLECTING_PACKAGE.match(text.strip())
        if package is not None and "package" not in details:
            details["distribution"] = package["package"]
    details.update(fix_pr=False, no_fix_reason="a package's own build failed: its output says why")
    return rule.finding(hit, details, evidence)


def _script_assertion(rule: Rule, hit: Hit) -> Finding | None:
    """An ``assert`` that ended a program (a quality gate in a script): the check failed, like a test."""
    for _, text in hit.ctx.back(hit.idx, 60):
        if text.startswith("Traceback (most recent call last)"):
            return rule.finding(hit, {"message": (hit.match["message"] or "")[:300]})
        if any(marker in text for marker in _GROUP_MARKERS) or _PYTEST_SESSION in text:
            return None
    return None


def _uncaught_exception(rule: Rule, hit: Hit) -> Finding | None:
    """The exception that ended a Python program: no verdict, but the line an unknown should point at."""
    for _, text in hit.ctx.back(hit.idx, 200):
        if text.startswith("Traceback (most recent call last)"):
            details = {"exception": hit.match["exc"], "message": (hit.match["message"] or "")[:300]}
            return rule.finding(hit, details)
        if any(marker in text for marker in _GROUP_MARKERS):
            return None
    return None


def _esm_require(rule: Rule, hit: Hit) -> Finding | None:
    evidence = [hit.line]
    if "require() of ES Module" not in hit.line[1]:
        for i, text in hit.ctx.back(hit.idx, 10):
            if "require() of ES Module" in text:
                evidence = [hit.ctx.lines[i]]
                break
    package = re.search(r"node_modules/(?P<pkg>@[^/]+/[^/]+|[^/@][^/]*)/", evidence[0][1])
    details: dict[str, Any] = {"distribution": package["pkg"] if package else None, "package": None}
    details.update(fix_pr=False, no_fix_reason="an ESM-only release is require()d: pin the CommonJS line or import()")
    return rule.finding(hit, details, evidence)


# --------------------------------------------------------------------------------------------------
# Builders: tests


_PYTEST_SESSION = "== test session starts"
_FIXTURE_NOT_FOUND = lazy(r"^E +fixture '(?P<fixture>[A-Za-z_][A-Za-z0-9_]*)' not found$")
# Fixtures only a plugin provides (a project's own fixture of the same name would have been found).
_PLUGIN_FIXTURES = {
    "mocker": "pytest-mock",
    "class_mocker": "pytest-mock",
    "benchmark": "pytest-benchmark",
    "httpx_mock": "pytest-httpx",
    "httpserver": "pytest-httpserver",
    "requests_mock": "requests-mock",
    "snapshot": "syrupy",
    "freezer": "pytest-freezer",
    "aioresponses": "aioresponses",
    "datadir": "pytest-datadir",
    "shared_datadir": "pytest-datadir",
    "qtbot": "pytest-qt",
    "celery_app": "celery",
    "django_db_setup": "pytest-django",
    "rf": "pytest-django",
    "live_server": "pytest-django",
    "xprocess": "pytest-xprocess",
    "mock_s3": "pytest-moto",
}
_SHORT_SUMMARY = lazy(r"^(?P<outcome>FAILED|ERROR) (?P<id>[^ ]+)(?: - (?P<reason>.*))?$")
_VERBOSE_OUTCOME = lazy(r"^(?P<id>[^ ]+::[^ ]+) (?P<outcome>FAILED|ERROR)\b")
_REPEAT_ID = lazy(r"^(?P<base>.+?)(?:\[|-)(?P<i>[0-9]+)-(?P<n>[0-9]+)\]$")


def _explain(ctx: Context, indexes: list[int]) -> Finding | None:
    """If every exception in a test run's output has one specific cause, return that cause.

    A test suite failing only because ``cv2`` is missing is a dependency problem for the fixer, not
    a test failure; one real assertion among them keeps it a test failure.
    """
    stripped = [(ctx.lines[i][0], _PYTEST_E_PREFIX.sub("", ctx.lines[i][1])) for i in indexes]
    virtual = Context(stripped, ctx.groups, ctx.own_packages, ctx.passed_tests)
    findings: list[Finding] = []
    unexplained = 0
    for j, (_, text) in enumerate(stripped):
        original = ctx.lines[indexes[j]][1]
        if not _EXCEPTION_LINE.match(original) or "Failed to import test module" in text:
            continue
        explained = next((f for rule in EXPLAINING_RULES if (f := rule.apply(virtual, j)) is not None), None)
        if explained is None:
            unexplained += 1
        else:
            findings.append(explained)
    if unexplained or not findings or len({f.category for f in findings}) != 1:
        return None
    first = findings[0]
    by_number = {ctx.lines[i][0]: ctx.lines[i] for i in indexes}  # evidence shows the real line, E prefix and all
    modules = _unique([f.details["module"] for f in findings if "module" in f.details])
    if len(modules) > 1:
        first.details["modules"] = modules
        packages = [str(f.details["package"]) for f in findings if f.details.get("package")]
        first.details["packages"] = _unique(packages)
    evidence = _unique_lines([line for f in findings for line in f.evidence])[:10]
    first.evidence = [by_number.get(number, (number, text)) for number, text in evidence]
    return first


_COLLECTING = lazy(r"^_+ ERROR collecting (?P<path>\S+) _+$")
_SECTION = lazy(r"^(?:_{3,} .* _{3,}|=+ .* =+)$")


def _collection_cause(ctx: Context, indexes: list[int]) -> Finding | None:
    """The cause shown in the first ``ERROR collecting`` section of a pytest run, if a rule explains it."""
    for position, i in enumerate(indexes):
        if _COLLECTING.match(ctx.lines[i][1]) is None:
            continue
        section: list[int] = []
        for j in indexes[position + 1 :]:
            if _SECTION.match(ctx.lines[j][1]):
                break
            section.append(j)
        return _explain(ctx, section)
    return None


def _unique_lines(lines: list[LogLine]) -> list[LogLine]:
    seen: dict[int, LogLine] = {}
    for line in lines:
        seen.setdefault(line[0], line)
    return [seen[k] for k in sorted(seen)]


def _flaky(ctx: Context, tests: list[str], counts: dict[str, int]) -> list[str]:
    """Failing tests that also passed in the same log: re-runs (pytest-repeat, a retried step)."""
    flaky: list[str] = []
    failures_by_base: dict[str, list[int]] = {}
    for test in tests:
        repeat = _REPEAT_ID.match(test)
        if repeat is not None and int(repeat["n"]) > 1:
            failures_by_base.setdefault(repeat["base"], []).append(int(repeat["n"]))
        if test in ctx.passed_tests:
            flaky.append(test)
    if counts.get("passed", 0):
        for base, totals in failures_by_base.items():
            if len(totals) < max(totals):
                flaky.extend(t for t in tests if t.startswith(base) and t not in flaky)
    return flaky


def _flaky_plugin(ctx: Context, indexes: list[int], tests: list[str]) -> list[str]:
    """Failing tests the ``flaky`` plugin saw pass at least once before giving up (``passed 1 out of 2``)."""
    names = {
        m["name"]
        for i in indexes
        if (m := _FLAKY_PLUGIN_FAILED.match(ctx.lines[i][1])) is not None and int(m["passes"]) > 0
    }
    if not names:
        return []
    flaky = [test for test in tests if test.rsplit("::", 1)[-1].split("[", 1)[0] in names]
    return flaky if len(flaky) == len(tests) else []


def _pytest(rule: Rule, hit: Hit) -> Finding | None:
    counts: dict[str, int] = {}
    for number, word in re.findall(r"([0-9]+) ([a-z]+)", hit.match["summary"]):
        key = {"error": "errors", "warning": "warnings", "reruns": "rerun"}.get(word, word)
        counts[key] = counts.get(key, 0) + int(number)
    if counts.get("failed", 0) + counts.get("errors", 0) == 0:
        return None
    ctx = hit.ctx
    indexes = ctx.region(hit.idx, lambda text: _PYTEST_SESSION in text or text.startswith(_GROUP_MARKERS))
    summary_lines: list[LogLine] = []
    tests: list[str] = []
    collection = False
    for i in indexes:
        text = ctx.lines[i][1]
        short = _SHORT_SUMMARY.match(text)
        if short is not None:
            summary_lines.append(ctx.lines[i])
            tests.append(short["id"])
        elif "during collection" in text:
            collection = True
    if not tests:
        for i in indexes:
            verbose = _VERBOSE_OUTCOME.match(ctx.lines[i][1])
            if verbose is not None:
                summary_lines.append(ctx.lines[i])
                tests.append(verbose["id"])
    tests = _unique(tests)
    evidence = [*summary_lines[:10], hit.line]
    collected = _collection_cause(ctx, indexes)
    if collected is not None:  # a module that cannot even be collected comes before the failures it causes
        collected.details.update(tests=tests, runner="pytest", collection_error=True)
        collected.evidence = _unique_lines([*collected.evidence, *summary_lines[:5], hit.line])
        return collected
    cause = _explain(ctx, indexes)
    if cause is not None:
        cause.details.update(tests=tests, runner="pytest")
        cause.evidence = _unique_lines([*cause.evidence, *summary_lines[:5], hit.line])
        return cause
    details: dict[str, Any] = {"tests": tests, "counts": counts, "runner": "pytest"}
    flaky = _flaky(ctx, tests, counts)
    plugin_flaky = _flaky_plugin(ctx, indexes, tests)
    if plugin_flaky and not flaky:
        details.update(flaky_tests=plugin_flaky, plugin="flaky")
        passed_lines = [ctx.lines[i] for i in indexes if _FLAKY_PLUGIN_FAILED.match(ctx.lines[i][1])]
        return rule.finding(
            hit,
            details,
            [*passed_lines[:5], *evidence],
            category=Category.FLAKY_TEST,
            kind="flaky-plugin",
            confidence=0.85,
        )
    if flaky:
        details["flaky_tests"] = flaky
        return rule.finding(
            hit, details, evidence, category=Category.FLAKY_TEST, kind="inconsistent-outcome", confidence=0.8
        )
    kinds = set()
    for i in indexes:
        text = ctx.lines[i][1]
        if _EXCEPTION_LINE.match(text):
            kinds.add("assertion" if re.match(r"^(?:E +)?(?:assert |AssertionError)", text) else "other")
    plugin_fixtures = [(i, found) for i in indexes if (found := _FIXTURE_NOT_FOUND.match(ctx.lines[i][1])) is not None]
    plugins = _unique([_PLUGIN_FIXTURES.get(m["fixture"], "") for _, m in plugin_fixtures])
    if plugin_fixtures and all(plugins) and counts.get("failed", 0) == 0:
        # Every error is a fixture a pytest plugin provides: the plugin is not installed.
        details.update(plugin=plugins[0], plugins=plugins, package=None, tool=True, fix_pr=False)
        details["no_fix_reason"] = "a pytest plugin the tests use is not installed in the job"
        return rule.finding(
            hit,
            details,
            [ctx.lines[plugin_fixtures[0][0]], *evidence],
            category=Category.DEPENDENCY_MISSING,
            kind="pytest-plugin-missing",
            confidence=0.8,
        )
    if not any(" - " in text for _, text in summary_lines):
        # The summary names the tests but not why: the first ``E`` line of the failures says it.
        first = next((i for i in indexes if ctx.lines[i][1].startswith("E ") and ctx.lines[i][1][1:].strip()), None)
        if first is not None:
            evidence.insert(0, ctx.lines[first])
    if collection:
        kind = "pytest-collection-error"
    elif kinds == {"assertion"}:
        kind = "pytest-assertion"
    elif counts.get("failed", 0) == 0:
        kind = "pytest-error"
    else:
        kind = "pytest-failure"
    return rule.finding(hit, details, evidence, kind=kind)


def _unittest(rule: Rule, hit: Hit) -> Finding | None:
    ctx = hit.ctx
    counts = {key: int(value) for key, value in re.findall(r"([a-z]+)=([0-9]+)", hit.match["counts"])}
    indexes = ctx.region(hit.idx, lambda text: text.startswith(_GROUP_MARKERS))
    tests: list[str] = []
    evidence: list[LogLine] = []
    for i in indexes:
        header = re.match(r"^(?:FAIL|ERROR): (?P<name>\S+) \((?P<id>[^)]+)\)", ctx.lines[i][1])
        if header is not None:
            tests.append(header["id"])
            evidence.append(ctx.lines[i])
    cause = _explain(ctx, indexes)
    if cause is not None:
        cause.details.update(tests=_unique(tests), runner="unittest")
        cause.evidence = _unique_lines([*cause.evidence, hit.line])
        return cause
    details = {"tests": _unique(tests), "counts": counts, "runner": "unittest"}
    causes: list[LogLine] = []  # each failure's last exception line (the traceback's verdict)
    position = {i: n for n, i in enumerate(indexes)}
    for shown in evidence[:5]:
        start = next((i for i in indexes if ctx.lines[i] == shown), None)
        if start is None:
            continue
        last: LogLine | None = None
        for i in indexes[position[start] + 2 :]:
            text = ctx.lines[i][1]
            if text.startswith(("-----", "=====")):
                break
            if _EXCEPTION_LINE.match(text):
                last = ctx.lines[i]
        if last is not None:
            causes.append(last)
    return rule.finding(hit, details, [*evidence[:10], *causes, hit.line])


# --------------------------------------------------------------------------------------------------
# Builders: syntax and lint


def _syntax(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"exception": hit.match["exc"], "message": hit.match["message"].strip()}
    for i, text in hit.ctx.back(hit.idx, 5):
        location = re.search(r'File "(?P<file>[^"]+)", line (?P<line>[0-9]+)', text)
        if location is not None:
            details.update(file=workspace_relative(location["file"]), line=int(location["line"]))
            return rule.finding(hit, details, [hit.ctx.lines[i], hit.line])
    return rule.finding(hit, details, kind="syntax-error", confidence=0.7)


def _lint_region(hit: Hit) -> list[str]:
    ctx = hit.ctx
    return [ctx.lines[i][1] for i in ctx.region(hit.idx, lambda text: text.startswith(_GROUP_MARKERS), 5_000)]


def _ruff_check(rule: Rule, hit: Hit) -> Finding | None:
    region = _lint_region(hit)
    files: list[str] = []
    codes: list[str] = []
    syntax = False
    for text in region:
        arrow = re.match(r"^ *--> (?P<file>[^:]+):[0-9]+:[0-9]+", text)
        concise = re.match(r"^(?P<file>[^: ]+):[0-9]+:[0-9]+: (?P<code>[A-Z]+[0-9]+|invalid-syntax)", text)
        full = re.match(r"^(?P<code>[A-Z]{1,4}[0-9]{2,4}) ", text)
        if arrow is not None:
            files.append(workspace_relative(arrow["file"]))
        if concise is not None:
            files.append(workspace_relative(concise["file"]))
            codes.append(concise["code"])
        if full is not None:
            codes.append(full["code"])
        if text.startswith("invalid-syntax:") or (concise is not None and concise["code"] == "invalid-syntax"):
            syntax = True
    details: dict[str, Any] = {"tool": "ruff", "count": int(hit.match["count"]), "files": _unique(files)}
    details["codes"] = _unique([c for c in codes if c != "invalid-syntax"])
    if syntax:
        return rule.finding(hit, details, category=Category.SYNTAX_ERROR, kind="ruff-invalid-syntax", confidence=0.85)
    return rule.finding(hit, details)


def _formatter(rule: Rule, hit: Hit) -> Finding | None:
    files: list[str] = []
    for text in _lint_region(hit):
        named = re.match(r"^(?:[Ww]ould reformat:? )(?P<file>\S+)", text)
        arrow = re.match(r"^ *--> (?P<file>[^:]+):[0-9]+:[0-9]+", text)
        if named is not None:
            files.append(workspace_relative(named["file"]))
        elif arrow is not None:
            files.append(workspace_relative(arrow["file"]))
    count = hit.match["count"]
    details = {"tool": rule.kind, "count": int(count) if count else len(files), "files": _unique(files)}
    return rule.finding(hit, details)


_MYPY_ERROR = lazy(r"^(?P<file>[^:]+\.pyi?):[0-9]+(?::[0-9]+)?: error: .*?(?:\[(?P<code>[a-z-]+)\])?$")


def _mypy(rule: Rule, hit: Hit) -> Finding | None:
    files: list[str] = []
    codes: list[str] = []
    evidence: list[LogLine] = []
    ctx = hit.ctx
    for i in ctx.region(hit.idx, lambda text: text.startswith(_GROUP_MARKERS), 5_000):
        error = _MYPY_ERROR.match(ctx.lines[i][1])
        if error is not None:
            files.append(workspace_relative(error["file"]))
            if error["code"]:
                codes.append(error["code"])
            if len(evidence) < 10:
                evidence.append(ctx.lines[i])
    details: dict[str, Any] = {"tool": "mypy", "count": int(hit.match["count"]), "files": _unique(files)}
    details["codes"] = _unique(codes)
    if "syntax" in codes:
        return rule.finding(
            hit, details, [*evidence, hit.line], category=Category.SYNTAX_ERROR, kind="mypy-syntax", confidence=0.85
        )
    return rule.finding(hit, details, [*evidence, hit.line])


def _isort(rule: Rule, hit: Hit) -> Finding | None:
    files = [workspace_relative(hit.match["file"])]
    for _, text in hit.ctx.back(hit.idx, 500):
        other = rule.regex.search(text)
        if other is None:
            break
        files.insert(0, workspace_relative(other["file"]))
    return rule.finding(hit, {"tool": "isort", "files": _unique(files)})


_ESLINT_MESSAGE = lazy(r"^ +[0-9]+:[0-9]+ +error +")


def _eslint(rule: Rule, hit: Hit) -> Finding | None:
    messages: list[LogLine] = []
    for i, text in hit.ctx.back(hit.idx, 400):
        if text.startswith(_GROUP_MARKERS):
            break
        if _ESLINT_MESSAGE.match(text):
            messages.append(hit.ctx.lines[i])
    messages.reverse()
    return rule.finding(hit, _named_groups(hit.match), [*messages[:5], hit.line])


def _prettier(rule: Rule, hit: Hit) -> Finding | None:
    files = [
        workspace_relative(warned.group(1))
        for text in _lint_region(hit)
        if (warned := re.match(r"^\[warn\] (\S+)$", text)) is not None
    ]
    return rule.finding(hit, {"tool": "prettier", "files": _unique(files)})


def _flake8(rule: Rule, hit: Hit) -> Finding | None:
    files = [workspace_relative(hit.match["file"])]
    codes = [hit.match["code"]]
    for _, text in hit.ctx.back(hit.idx, 500):
        other = rule.regex.search(text)
        if other is None:
            break
        files.append(workspace_relative(other["file"]))
        codes.append(other["code"])
    return rule.finding(hit, {"tool": "flake8", "files": _unique(files), "codes": _unique(codes)})


# --------------------------------------------------------------------------------------------------
# Builders: timeouts, memory, infrastructure


def _job_timeout(rule: Rule, hit: Hit) -> Finding | None:
    minutes = int(hit.match["limit"])
    details = {"limit": f"{minutes} minutes", "limit_seconds": minutes * 60.0, "runner": hit.match["runner"]}
    return rule.finding(hit, details)


def _step_timeout(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {}
    if hit.match["limit"]:
        minutes = int(hit.match["limit"])
        details.update(limit=f"{minutes} minutes", limit_seconds=minutes * 60.0)
    if hit.match["step"]:
        details["step"] = hit.match["step"]
    return rule.finding(hit, details)


def _pytest_timeout(rule: Rule, hit: Hit) -> Finding | None:
    limit = hit.match["limit"]
    return rule.finding(hit, {"limit": f"{limit}s", "limit_seconds": float(limit), "method": "signal"})


def _command_limit(hit: Hit) -> dict[str, Any]:
    script = _step_script(hit.ctx, hit.line[0])
    found = _TIMEOUT_COMMAND.search(script + "\n")
    if found is None:
        return {}
    limit = found["limit"]
    return {"limit": limit, "limit_seconds": seconds(limit), "command": script.splitlines()[0]}


def _command_timeout(rule: Rule, hit: Hit) -> Finding | None:
    details = _command_limit(hit)
    if hit.match["signal"]:
        details["signal"] = hit.match["signal"]
    return rule.finding(hit, details)


def _oom_killed(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = _named_groups(hit.match)
    if "pid" in details:
        details["pid"] = int(details["pid"])
    evidence = [hit.line]
    for i, text in hit.ctx.forward(hit.idx):
        if "exit code 137" in text:
            details["exit_code"] = 137
            evidence.append(hit.ctx.lines[i])
            break
    return rule.finding(hit, details, evidence)


# --------------------------------------------------------------------------------------------------
# Builders: data and permissions


def _missing_file(rule: Rule, hit: Hit) -> Finding | None:
    groups = hit.match.groupdict()
    path = groups.get("path")
    if path is None:
        message = groups.get("message") or ""
        quoted = _QUOTED.search(message)
        pandas = re.search(r"File (\S+) does not exist", message)
        path = (quoted.group(1) or quoted.group(2)) if quoted else (pandas.group(1) if pandas else None)
        if path is None and message.strip() and " " not in message.strip():
            path = message.strip()  # pyarrow: ``FileNotFoundError: data/features.parquet``
    if path is None:
        return rule.finding(hit, {}, kind="file-not-found", confidence=0.5)
    path = workspace_relative(path)
    is_data = is_data_path(path)
    details = {"path": path, "is_data": is_data}
    if is_data:
        return rule.finding(hit, details)
    # A missing config or script is still a missing file, but less surely a data-set problem.
    return rule.finding(hit, details, confidence=min(rule.confidence, 0.5))


def _git_403(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"status": 403}
    access = re.search(r"unable to access '([^']+)'", hit.line[1])
    if access is not None:
        details["url"] = access.group(1)
    evidence = [hit.line]
    for i, text in hit.ctx.back(hit.idx, 10):
        denied = re.search(r"Permission to (\S+) denied to (\S+?)\.?$", text)
        if denied is not None:
            details.update(repository=denied.group(1), user=denied.group(2))
            evidence.insert(0, hit.ctx.lines[i])
            break
    script = _step_script(hit.ctx, hit.line[0])
    if "git push" in script:
        details["operation"] = "push"
    if "git " not in script and "fatal: unable to access" not in hit.line[1]:
        return rule.finding(hit, details, evidence, kind="http-403", confidence=0.85)
    return rule.finding(hit, details, evidence)


def _http_5xx(rule: Rule, hit: Hit) -> Finding | None:
    status = hit.match["status"] or hit.match["code"]
    return rule.finding(hit, {"status": status} if status else {})


_SHELL_REPORT = lazy(r"^(?:[^ :]*sh|/[^ :]+\.sh): (?:line [0-9]+: )?")


def _permission_denied(rule: Rule, hit: Hit) -> Finding | None:
    path = hit.match["path"]
    quoted = _QUOTED.search(hit.line[1]) if path is None else None
    shown = path or (quoted.group(1) or quoted.group(2) if quoted else None)
    details: dict[str, Any] = {"path": workspace_relative(shown)} if shown else {}
    if path and _SHELL_REPORT.match(hit.line[1]):
        return rule.finding(hit, details, kind="exec-permission-denied")  # the shell could not run it
    return rule.finding(hit, details, confidence=0.75)


def _git_push_denied(rule: Rule, hit: Hit) -> Finding | None:
    return rule.finding(hit, {"repository": hit.match["repo"], "user": hit.match["user"].rstrip(".")})


# --------------------------------------------------------------------------------------------------
# Builders: other Python resolvers, pylint, pytest plugins, Docker


_YOU_REQUIRE = lazy(r"(?<!conclude that )you require (?P<requirement>[A-Za-z0-9][A-Za-z0-9._-]*[^ ,]*)")
_NO_VERSION_OF = lazy(r"there is no version of (?P<requirement>(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)[^ ,]*)")


def _resolver_details(lines: list[str]) -> dict[str, Any]:
    details: dict[str, Any] = {"conflicts": [line.strip()[:300] for line in lines][:10]}
    for text in lines:
        missing = _NO_VERSION_OF.search(text)
        if missing is not None:
            details.update(requirement=missing["requirement"], package=missing["name"], missing_version=True)
            return details
    required = [m["requirement"] for text in lines for m in _YOU_REQUIRE.finditer(text)]
    if required:
        details["requirement"] = required[-1]
        details["requested"] = _unique(required)
    return details


def _uv_unsatisfiable(rule: Rule, hit: Hit) -> Finding | None:
    """uv's resolver: ``No solution found ...`` then ``Because ... your requirements are unsatisfiable``."""
    ctx = hit.ctx
    cause: list[LogLine] = [hit.line]
    for i, text in ctx.back(hit.idx, 30):
        if "No solution found when resolving" in text or any(marker in text for marker in _GROUP_MARKERS):
            break
        if text.strip():
            cause.insert(0, ctx.lines[i])
    first = next((n for n, line in enumerate(cause) if "Because" in line[1]), 0)
    cause = cause[first:]
    details = _resolver_details([text for _, text in cause])
    details["tool"] = "uv"
    if not details.get("missing_version"):
        details.update(fix_pr=False, no_fix_reason="two constraints conflict: which one gives way needs a person")
    return rule.finding(hit, details, cause[:6])


_POETRY_NO_MATCH = lazy(
    r"depends on (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) \((?P<spec>[^)]+)\) which doesn't match any versions"
)


def _poetry_solving(rule: Rule, hit: Hit) -> Finding | None:
    text = hit.line[1]
    details: dict[str, Any] = {"tool": "poetry", "conflicts": [text.strip()[:300]]}
    missing = _POETRY_NO_MATCH.search(text)
    if missing is not None:
        details.update(
            package=missing["name"], requirement=f"{missing['name']}=={missing['spec']}", missing_version=True
        )
    return rule.finding(hit, details)


def _conda_solve(rule: Rule, hit: Hit) -> Finding | None:
    packages: list[str] = []
    evidence = [hit.line]
    for i, text in hit.ctx.forward(hit.idx, 15):
        listed = re.match(r"^\s+-\s+(?P<spec>\S+)", text)
        if listed is not None:
            packages.append(listed["spec"])
            if len(evidence) < 4:
                evidence.append(hit.ctx.lines[i])
        elif packages and text.strip():
            break
    details: dict[str, Any] = {"tool": "conda", "specs": packages}
    nothing = re.search(r"nothing provides (?:requested )?(?P<spec>\S+)", hit.line[1])
    if nothing is not None:
        packages.append(nothing["spec"])
    if packages:
        details["requirement"] = packages[0]
    return rule.finding(hit, details, evidence)


_PYLINT_MESSAGE = lazy(r"^(?P<file>[^: ]+\.py):[0-9]+:[0-9]+: (?P<code>[CRWEFI][0-9]{4}): ")


def _pylint(rule: Rule, hit: Hit) -> Finding | None:
    if float(hit.match["score"]) >= 10.0:
        return None
    files: list[str] = []
    codes: list[str] = []
    evidence: list[LogLine] = []
    ctx = hit.ctx
    for i in ctx.region(hit.idx, lambda text: text.startswith(_GROUP_MARKERS), 5_000):
        message = _PYLINT_MESSAGE.match(ctx.lines[i][1])
        if message is not None:
            files.append(workspace_relative(message["file"]))
            codes.append(message["code"])
            if len(evidence) < 10:
                evidence.append(ctx.lines[i])
    details: dict[str, Any] = {"tool": "pylint", "score": float(hit.match["score"]), "files": _unique(files)}
    details["codes"] = _unique(codes)
    if any(code.startswith("E0001") for code in codes):
        return rule.finding(hit, details, [*evidence, hit.line], category=Category.SYNTAX_ERROR, kind="pylint-syntax")
    return rule.finding(hit, details, [*evidence, hit.line])


def _pylint_parse(rule: Rule, hit: Hit) -> Finding | None:
    details = {"tool": "pylint", "file": workspace_relative(hit.match["file"]), "line": int(hit.match["line"])}
    details.update(files=[details["file"]], message=hit.match["message"].strip())
    return rule.finding(hit, details)


_TIMEOUT_OPTION = lazy(r"--timeout[= ](?P<limit>[0-9.]+)")


def _pytest_timeout_thread(rule: Rule, hit: Hit) -> Finding | None:
    """pytest-timeout's thread method dumps every stack between ``+++ Timeout +++`` banners, then exits."""
    details: dict[str, Any] = {"method": "thread", "runner": "pytest"}
    prefix = hit.match["where"]
    tests: list[str] = []
    if prefix:
        tests.append(prefix.split(" ", 1)[0])
    for _, text in hit.ctx.back(hit.idx, 200):
        if "+ Timeout +" in text:
            banner = rule.regex.search(text)
            if banner is not None and banner["where"] and not tests:
                tests.append(banner["where"].split(" ", 1)[0])
            continue
        running = re.match(r"^(?P<id>\S+::\S+)(?: |$)", text)
        if running is not None and not tests:
            tests.append(running["id"])
            break
        if _PYTEST_SESSION in text or any(marker in text for marker in _GROUP_MARKERS):
            break
    if tests:
        details["tests"] = tests
    option = _TIMEOUT_OPTION.search(_step_script(hit.ctx, hit.line[0]))
    if option is not None:
        details.update(limit=f"{option['limit']}s", limit_seconds=float(option["limit"]))
    return rule.finding(hit, details)


_RERUN_LINE = lazy(r"^(?P<id>[^ ]+::[^ ]+) RERUN\b")


def _pytest_reruns(rule: Rule, hit: Hit) -> Finding | None:
    """pytest-rerunfailures: tests passed on a rerun and the run failed for it (``--fail-on-flaky``)."""
    counts: dict[str, int] = {}
    for number, word in re.findall(r"([0-9]+) ([a-z]+)", hit.match["summary"]):
        key = {"error": "errors", "reruns": "rerun"}.get(word, word)
        counts[key] = counts.get(key, 0) + int(number)
    if counts.get("failed", 0) + counts.get("errors", 0) or not counts.get("rerun"):
        return None
    ctx = hit.ctx
    indexes = ctx.region(hit.idx, lambda text: _PYTEST_SESSION in text or text.startswith(_GROUP_MARKERS))
    reruns = [(i, m["id"]) for i in indexes if (m := _RERUN_LINE.match(ctx.lines[i][1])) is not None]
    tests = _unique([test for _, test in reruns])
    evidence = [ctx.lines[i] for i, _ in reruns[:5]] + [hit.line]
    details: dict[str, Any] = {"flaky_tests": tests, "tests": tests, "counts": counts, "runner": "pytest"}
    details["plugin"] = "pytest-rerunfailures"
    return rule.finding(hit, details, evidence)


_FLAKY_PLUGIN_FAILED = lazy(
    r"^(?P<name>\S+) failed; it passed (?P<passes>[0-9]+) out of the required (?P<need>[0-9]+) times"
)


def _docker_image(rule: Rule, hit: Hit) -> Finding | None:
    details = _named_groups(hit.match)
    if rule.category is Category.DEPENDENCY_RESOLUTION:
        details.update(fix_pr=False, no_fix_reason="the image tag does not exist; which tag to use needs a person")
    return rule.finding(hit, details)


# --------------------------------------------------------------------------------------------------
# Builders: secondary pointers


def _exit_code(rule: Rule, hit: Hit) -> Finding | None:
    code = int(hit.match["code"])
    details: dict[str, Any] = {"exit_code": code}
    if code == 137:
        return rule.finding(hit, details, category=Category.OUT_OF_MEMORY, kind="oom-killed", confidence=0.5)
    if code == 124:
        details.update(_command_limit(hit))
        return rule.finding(hit, details, category=Category.TIMEOUT, kind="command-timeout", confidence=0.6)
    evidence = [hit.line]
    for i, text in hit.ctx.back(hit.idx, 20):
        if text.strip() and not text.startswith("##[") and not is_boilerplate(text):
            evidence.insert(0, hit.ctx.lines[i])
            break
    return rule.finding(hit, details, evidence)


# --------------------------------------------------------------------------------------------------
# The rules, in priority order for a single line (the walk order across lines is the classifier's).

S = Strength.SECONDARY

RULES: tuple[Rule, ...] = (
    # Platform messages first: when GitHub says the runner died, tool output before it is collateral.
    Rule(
        "gha-job-timeout",
        Category.TIMEOUT,
        "job-timeout",
        # Bounded repetitions (runner names are short): `.+` before a literal backtracked over
        # the whole line once per occurrence of the marker (bench/bench_diagnosis_hostile.py).
        r"The job running on runner (?P<runner>.{1,128}) has exceeded the maximum execution time"
        r" of (?P<limit>[0-9]+) minutes",
        ("The job running on runner",),
        0.95,
        build=_job_timeout,
    ),
    Rule(
        "gha-step-timeout",
        Category.TIMEOUT,
        "step-timeout",
        r"The action (?:'(?P<step>[^']*)' )?has timed out(?: after (?P<limit>[0-9]+) minutes)?",
        ("The action",),
        0.9,
        build=_step_timeout,
    ),
    Rule(
        "gha-runner-lost",
        Category.INFRASTRUCTURE,
        "runner-lost",
        # The runner's kind starts a word and the name is bounded: `[A-Za-z-]+ runner: .*` was
        # quadratic on a long hostile line (bench/bench_diagnosis_hostile.py). In grep's subset.
        r"(?:^|[^A-Za-z-])(?P<runner>[A-Za-z-]{1,32} runner: .{0,128}) lost communication with the server",
        ("The hosted runner:", "The self-hosted runner:", "lost communication"),
        0.95,
        retain=("The hosted runner:", "The self-hosted runner:"),
    ),
    Rule(
        "gha-runner-shutdown",
        Category.INFRASTRUCTURE,
        "runner-shutdown",
        r"The runner has received a shutdown signal",
        ("The runner has received a shutdown signal",),
        0.95,
    ),
    Rule(
        "gha-runner-error",
        Category.INFRASTRUCTURE,
        "runner-error",
        r"The hosted runner encountered an error while running your job",
        ("The hosted runner encountered",),
        0.9,
    ),
    Rule(
        "disk-full",
        Category.INFRASTRUCTURE,
        "disk-full",
        r"No space left on device|ENOSPC",
        ("No space left on device", "ENOSPC"),
        0.9,
    ),
    Rule(
        "docker-daemon",
        Category.INFRASTRUCTURE,
        "docker-daemon-unavailable",
        r"Cannot connect to the Docker daemon at (?P<socket>[^ ]+)",
        ("Cannot connect to the Docker daemon",),
        0.9,
    ),
    Rule(
        "registry-rate-limit",
        Category.INFRASTRUCTURE,
        "registry-rate-limit",
        r"toomanyrequests: (?:You have reached your (?:unauthenticated )?pull rate limit|.*rate limit)",
        ("toomanyrequests",),
        0.9,
    ),
    Rule(
        "docker-pull-denied",
        Category.PERMISSION_DENIED,
        "docker-pull-denied",
        r"pull access denied for (?P<image>[^ ,]+), repository does not exist or may require",
        ("pull access denied for",),
        0.9,
    ),
    Rule(
        "docker-manifest-unknown",
        Category.DEPENDENCY_RESOLUTION,
        "docker-image-not-found",
        r"manifest for (?P<image>[^ ]+) not found: manifest unknown",
        ("manifest unknown",),
        0.85,
        build=_docker_image,
    ),
    Rule(
        "registry-unauthorized",
        Category.PERMISSION_DENIED,
        "registry-unauthorized",
        r"unauthorized: (?:authentication required|incorrect username or password)"
        r"|denied: requested access to the resource is denied",
        ("unauthorized: ", "denied: requested access"),
        0.85,
    ),
    # Dependencies
    Rule(
        "python-missing-module",
        Category.DEPENDENCY_MISSING,
        "missing-python-module",
        r"(?:ModuleNotFoundError|ImportError): No module named '?(?P<module>[A-Za-z0-9_.]+)'?"
        r"|^(?P<tool_run>[^ ]*python[0-9.]*): No module named (?P<module2>[A-Za-z0-9_.]+)$",
        ("No module named",),
        0.95,
        build=_python_module,
        explains_tests=True,
    ),
    Rule(
        "python-circular-import",
        Category.TEST_FAILURE,
        "circular-import",
        r"ImportError: cannot import name '(?P<name>[A-Za-z0-9_]+)' from partially initialized module"
        r" '(?P<module>[A-Za-z0-9_.]+)'",
        ("partially initialized module",),
        0.8,
        build=lambda rule, hit: rule.finding(
            hit,
            {
                **_named_groups(hit.match),
                "fix_pr": False,
                "no_fix_reason": "two of the project's modules import each other: the code must change",
            },
        ),
        explains_tests=True,
    ),
    Rule(
        "python-import-name",
        Category.DEPENDENCY_RESOLUTION,
        "python-import-name-error",
        r"ImportError: cannot import name '(?P<name>[A-Za-z0-9_]+)' from '(?P<module>[A-Za-z0-9_.]+)'",
        ("ImportError: cannot import name",),
        0.7,
        build=_python_import_name,
        explains_tests=True,
    ),
    Rule(
        "python-binary-incompatible",
        Category.DEPENDENCY_RESOLUTION,
        "binary-incompatible",
        r"size changed, may indicate binary incompatibility|compiled using NumPy 1\.x cannot be run in"
        r"|multiarray(?:_umath)? failed to import|_ARRAY_API not found",
        ("binary incompatibility", "cannot be run in", "failed to import", "_ARRAY_API not found"),
        0.85,
        build=lambda rule, hit: rule.finding(
            hit, {"fix_pr": False, "no_fix_reason": "two installed packages were built against different ABIs"}
        ),
        explains_tests=True,
    ),
    Rule(
        "python-import-moved",
        Category.DEPENDENCY_RESOLUTION,
        "python-module-moved",
        r"ImportError: (?P<message>`?(?P<name>[A-Za-z0-9_.]+)`? has been (?:moved|removed).*)$",
        ("has been moved", "has been removed"),
        0.85,
        build=_import_moved,
        explains_tests=True,
    ),
    Rule(
        "python-attribute-removed",
        Category.DEPENDENCY_RESOLUTION,
        "python-attribute-removed",
        r"^(?:E +)?AttributeError: module '(?P<module>[A-Za-z0-9_.]+)' has no attribute '(?P<name>[A-Za-z0-9_]+)'",
        ("AttributeError: module '",),
        0.75,
        build=_attribute_removed,
        explains_tests=True,
    ),
    Rule(
        "python-optional-dependency",
        Category.DEPENDENCY_MISSING,
        "missing-python-module",
        r"Missing optional dependency '(?P<module>[A-Za-z0-9_.]+)'|`Import (?P<module2>[A-Za-z0-9_.]+)` failed\."
        r"|Unable to find a usable engine; tried using: '(?P<module3>[A-Za-z0-9_.]+)'",
        ("Missing optional dependency", "` failed.", "Unable to find a usable engine"),
        0.9,
        build=_optional_dependency,
        explains_tests=True,
    ),
    Rule(
        "shared-library-missing",
        Category.DEPENDENCY_MISSING,
        "missing-system-library",
        r"(?P<library>lib[A-Za-z0-9_+.-]*\.so(?:\.[0-9]+)*): cannot open shared object file",
        ("cannot open shared object file",),
        0.85,
        build=lambda rule, hit: (
            None
            if any(warning in hit.line[1] for warning in _LIBRARY_WARNINGS)
            else rule.finding(
                hit,
                {
                    "library": hit.match["library"],
                    "package": None,
                    "fix_pr": False,
                    "no_fix_reason": "a system library (apt, the runner image), not a Python requirement",
                },
            )
        ),
        explains_tests=True,
    ),
    Rule(
        "pytest-plugin-missing",
        Category.DEPENDENCY_MISSING,
        "pytest-plugin-missing",
        r"error: unrecognized arguments: (?P<args>.*)$",
        ("unrecognized arguments",),
        0.8,
        build=_pytest_plugin,
    ),
    Rule(
        "node-missing-module",
        Category.DEPENDENCY_MISSING,
        "missing-node-module",
        r"Cannot find (?:module|package) '(?P<module>[^']+)'",
        ("Cannot find module", "Cannot find package"),
        0.9,
        build=_node_module,
    ),
    Rule(
        "missing-command",
        Category.DEPENDENCY_MISSING,
        "missing-command",
        r"(?:^|: )(?P<command>[A-Za-z0-9_.+-]+): (?:command )?not found$",
        (": command not found", ": not found"),
        0.85,
    ),
    Rule(
        "git-subcommand-missing",
        Category.DEPENDENCY_MISSING,
        "missing-command",
        r"^git: '(?P<subcommand>[a-z][a-z0-9-]*)' is not a git command",
        ("is not a git command",),
        0.8,
        # ``git lfs`` with git-lfs not on the image: a command to install, not a Python package.
        build=lambda rule, hit: rule.finding(hit, {"command": f"git-{hit.match['subcommand']}"}),
    ),
    Rule(
        "pip-no-matching-distribution",
        Category.DEPENDENCY_RESOLUTION,
        "pip-no-matching-distribution",
        r"No matching distribution found for (?P<requirement>[^ ]+)",
        ("No matching distribution",),
        0.9,
        build=_pip_no_match,
    ),
    Rule(
        "pip-requires-python",
        Category.DEPENDENCY_RESOLUTION,
        "requires-python",
        r"Package '(?P<distribution>[^']+)' requires a different Python:"
        r" (?P<python>[^ ]+) not in '(?P<specifier>[^']+)'",
        ("requires a different Python",),
        0.9,
        build=lambda rule, hit: rule.finding(
            hit,
            {
                **_named_groups(hit.match),
                "fix_pr": False,
                "no_fix_reason": "the job's Python is outside what the package supports: the workflow's python-version",
            },
        ),
    ),
    Rule(
        "pip-invalid-requirement",
        Category.SYNTAX_ERROR,
        "requirement-syntax",
        r"ERROR: Invalid requirement: '(?P<requirement>[^']*)'(?: \(from line (?P<line>[0-9]+) of (?P<path>[^)]+)\))?",
        ("Invalid requirement",),
        0.85,
    ),
    Rule(
        "pip-hash-mismatch",
        Category.DEPENDENCY_RESOLUTION,
        "pip-hash-mismatch",
        r"THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"
        r"|Hashes are required in --require-hashes mode, but they are missing",
        ("DO NOT MATCH THE HASHES", "Hashes are required in --require-hashes mode"),
        0.85,
        build=lambda rule, hit: rule.finding(
            hit, {"fix_pr": False, "no_fix_reason": "the lock's hashes must be regenerated (or the download checked)"}
        ),
    ),
    Rule(
        "pip-resolution-impossible",
        Category.DEPENDENCY_RESOLUTION,
        "pip-resolution-impossible",
        r"ResolutionImpossible",
        ("ResolutionImpossible",),
        0.9,
        build=_pip_resolution,
    ),
    Rule(
        "uv-unsatisfiable",
        Category.DEPENDENCY_RESOLUTION,
        "uv-unsatisfiable",
        r"we can conclude that your requirements(?: and .*)? are unsatisfiable",
        ("are unsatisfiable",),
        0.9,
        build=_uv_unsatisfiable,
        retain=("are unsatisfiable", "No solution found when resolving"),
    ),
    Rule(
        "poetry-version-solving",
        Category.DEPENDENCY_RESOLUTION,
        "poetry-version-solving",
        r"version solving failed",
        ("version solving failed",),
        0.9,
        build=_poetry_solving,
    ),
    Rule(
        "poetry-package-not-found",
        Category.DEPENDENCY_RESOLUTION,
        "poetry-package-not-found",
        r"^Package (?P<package>[A-Za-z0-9][A-Za-z0-9._-]*) \((?P<version>[^)]+)\) not found\.$",
        (") not found.",),
        0.85,
    ),
    Rule(
        "conda-solve",
        Category.DEPENDENCY_RESOLUTION,
        "conda-solve",
        r"PackagesNotFoundError|UnsatisfiableError|LibMambaUnsatisfiableError|Could not solve for environment specs"
        r"|nothing provides (?:requested )?[^ ]+|ResolvePackageNotFound",
        (
            "PackagesNotFoundError",
            "UnsatisfiableError",
            "Could not solve for environment specs",
            "nothing provides",
            "ResolvePackageNotFound",
        ),
        0.85,
        build=_conda_solve,
    ),
    Rule(
        "npm-no-matching-version",
        Category.DEPENDENCY_RESOLUTION,
        "npm-no-matching-version",
        r"No matching version found for (?P<requirement>[^ ]+[^ .])",
        ("No matching version found",),
        0.9,
    ),
    Rule(
        "npm-eresolve",
        Category.DEPENDENCY_RESOLUTION,
        "npm-eresolve",
        r"npm (?:ERR!|error) code ERESOLVE",
        ("ERESOLVE",),
        0.9,
        build=_npm_eresolve,
    ),
    Rule(
        "npm-404",
        Category.DEPENDENCY_RESOLUTION,
        "npm-package-not-found",
        r"npm (?:ERR!|error) 404 +Not Found - GET (?P<url>[^ ]+)",
        ("404",),
        0.85,
        build=_npm_not_found,
    ),
    # Network
    Rule(
        "network-dns",
        Category.NETWORK_TRANSIENT,
        "dns-failure",
        r"Temporary failure in name resolution|Name or service not known|Could not resolve host:? ?(?P<host>[^ ;]*)"
        r"|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)",
        (
            "Temporary failure in name resolution",
            "Name or service not known",
            "Could not resolve host",
            "ENOTFOUND",
            "EAI_AGAIN",
        ),
        0.8,
    ),
    Rule(
        "network-refused",
        Category.NETWORK_TRANSIENT,
        "connection-refused",
        r"Failed to connect to (?P<host>[^ ]+) port (?P<port>[0-9]+)|Connection refused|ECONNREFUSED",
        ("Failed to connect to", "Connection refused", "ECONNREFUSED"),
        0.8,
        explains_tests=True,  # every failing test refused by the same service: the service, not the tests
    ),
    Rule(
        "network-reset",
        Category.NETWORK_TRANSIENT,
        "connection-error",
        r"Connection reset by peer|ECONNRESET|Connection timed out|ETIMEDOUT|Read timed out|ReadTimeoutError"
        r"|TLS handshake timeout|RemoteDisconnected|Max retries exceeded with url|Network is unreachable"
        r"|Operation timed out after [0-9]+ milliseconds",
        (
            "Operation timed out after",
            "Connection reset",
            "ECONNRESET",
            "Connection timed out",
            "Read timed out",
            "ETIMEDOUT",
            "ReadTimeoutError",
            "TLS handshake timeout",
            "RemoteDisconnected",
            "Max retries exceeded",
            "Network is unreachable",
        ),
        0.75,
    ),
    Rule(
        "network-http-5xx",
        Category.NETWORK_TRANSIENT,
        "http-5xx",
        r"(?P<status>50[234]) (?:Bad Gateway|Service Unavailable|Gateway Time-?out)"
        r"|too many 5[0-9][0-9] error responses|The requested URL returned error: (?P<code>5[0-9][0-9])",
        ("Bad Gateway", "Service Unavailable", "Gateway Time", "error responses", "returned error: 5"),
        0.75,
        build=_http_5xx,
        retain=("Bad Gateway", "Service Unavailable", "Gateway Time", "ResponseError", "returned error: 5"),
    ),
    # Memory
    Rule(
        "oom-killed",
        Category.OUT_OF_MEMORY,
        "oom-killed",
        r"line [0-9]+: +(?P<pid>[0-9]+) Killed +(?P<command>.*)$",
        ("Killed",),
        0.85,
        build=_oom_killed,
    ),
    Rule(
        "python-memory-error",
        Category.OUT_OF_MEMORY,
        "python-memory-error",
        r"^(?:E +)?(?:[A-Za-z0-9_.]*\.)?(?:_Array)?MemoryError(?::|$)",
        ("MemoryError",),
        0.85,
        explains_tests=True,
    ),
    Rule(
        "cuda-oom",
        Category.OUT_OF_MEMORY,
        "cuda-oom",
        r"CUDA out of memory|OutOfMemoryError",
        ("CUDA out of memory", "OutOfMemoryError"),
        0.9,
        explains_tests=True,
    ),
    Rule(
        "kernel-oom-killer",
        Category.OUT_OF_MEMORY,
        "oom-killed",
        r"Out of memory: Kill(?:ed)? process",
        ("Out of memory",),
        0.9,
    ),
    Rule(
        "node-heap-oom",
        Category.OUT_OF_MEMORY,
        "node-heap-oom",
        r"JavaScript heap out of memory",
        ("JavaScript heap out of memory",),
        0.9,
    ),
    Rule(
        "allocation-failed",
        Category.OUT_OF_MEMORY,
        "allocation-failed",
        r"Cannot allocate memory|std::bad_alloc",
        ("Cannot allocate memory", "::bad_alloc"),
        0.8,
    ),
    # Timeouts reported by tools
    Rule(
        "pytest-timeout",
        Category.TIMEOUT,
        "pytest-timeout",
        r"Timeout \(>(?P<limit>[0-9.]+)s\) from pytest-timeout",
        ("Timeout (>",),
        0.9,
        build=_pytest_timeout,
        explains_tests=True,
    ),
    Rule(
        "pytest-timeout-thread",
        Category.TIMEOUT,
        "pytest-timeout",
        r"^(?P<where>[^+]*[^+ ])? ?[+]{5,} Timeout [+]{5,}$",
        ("+ Timeout +",),
        0.85,
        build=_pytest_timeout_thread,
    ),
    Rule(
        "coreutils-timeout",
        Category.TIMEOUT,
        "command-timeout",
        r"timeout: sending signal (?P<signal>[A-Z]+) to command",
        ("timeout: sending signal",),
        0.85,
        retain=(),
        build=_command_timeout,
    ),
    # Data
    Rule(
        "python-file-not-found",
        Category.DATA_MISSING,
        "file-not-found",
        r"FileNotFoundError: (?P<message>.*)$",
        ("FileNotFoundError",),
        0.9,
        build=_missing_file,
        explains_tests=True,
    ),
    Rule(
        "python-cannot-open-file",
        Category.DATA_MISSING,
        "file-not-found",
        r"can't open file '(?P<path>[^']+)': \[Errno 2\]",
        ("[Errno 2]",),
        0.5,
        build=_missing_file,
    ),
    Rule(
        "lfs-pointer",
        Category.DATA_MISSING,
        "lfs-pointer",
        r"invalid load key, 'v'|^version https://git-lfs\.github\.com/spec/v1",
        ("invalid load key, 'v'", "version https://git-lfs.github.com/spec"),
        0.7,
        build=lambda rule, hit: rule.finding(
            hit, {"reason": "a Git LFS pointer was read instead of the file: the checkout did not fetch LFS objects"}
        ),
        explains_tests=True,
    ),
    Rule(
        "make-no-rule",
        Category.DATA_MISSING,
        "file-not-found",
        r"No rule to make target '(?P<path>[^']+)', needed by '(?P<needed_by>[^']+)'",
        ("No rule to make target",),
        0.75,
        build=lambda rule, hit: rule.finding(
            hit,
            {
                "path": hit.match["path"],
                "needed_by": hit.match["needed_by"],
                "is_data": is_data_path(hit.match["path"]),
            },
        ),
    ),
    Rule(
        "dvc-missing-data",
        Category.DATA_MISSING,
        "dvc-missing-data",
        r"failed to pull data from the cloud|Some of the cache files do not exist|Missing cache files",
        ("ERROR: failed to pull data", "Some of the cache files", "Missing cache files"),
        0.9,
    ),
    Rule(
        "coreutils-missing-file",
        Category.DATA_MISSING,
        "file-not-found",
        r"^(?P<program>[A-Za-z0-9_.-]+): (?:cannot (?:open|access|stat) )?'?(?P<path>[^':]+)'?"
        r": No such file or directory$",
        ("No such file or directory",),
        0.85,
        build=_missing_file,
    ),
    # Permissions
    Rule(
        "git-push-denied",
        Category.PERMISSION_DENIED,
        "git-push-denied",
        r"Permission to (?P<repo>[^ ]+) denied to (?P<user>[^ ]+)",
        ("Permission to",),
        0.95,
        build=_git_push_denied,
    ),
    Rule(
        "git-http-403",
        Category.PERMISSION_DENIED,
        "git-http-403",
        r"The requested URL returned error: 403",
        ("The requested URL returned error: 403",),
        0.9,
        build=_git_403,
    ),
    Rule(
        "git-auth",
        Category.PERMISSION_DENIED,
        "git-auth",
        r"could not read (?:Username|Password) for '(?P<url>[^']+)'|Authentication failed for '(?P<url2>[^']+)'"
        r"|remote: Invalid username or (?:password|token)",
        ("could not read Username", "could not read Password", "Authentication failed for", "Invalid username or"),
        0.85,
    ),
    Rule(
        "github-token-permissions",
        Category.PERMISSION_DENIED,
        "github-token-permissions",
        r"Resource not accessible by integration",
        ("Resource not accessible by integration",),
        0.95,
    ),
    Rule(
        "ssh-publickey",
        Category.PERMISSION_DENIED,
        "ssh-publickey",
        r"Permission denied \(publickey",
        ("Permission denied (publickey",),
        0.9,
    ),
    Rule(
        "pip-permission-denied",
        Category.PERMISSION_DENIED,
        "pip-permission-denied",
        r"Could not install packages due to an OSError: \[Errno 13\] Permission denied: '(?P<path>[^']+)'",
        ("Could not install packages due to an OSError",),
        0.9,
    ),
    Rule(
        "python-permission-error",
        Category.PERMISSION_DENIED,
        "python-permission-error",
        r"PermissionError: \[Errno 1?3\] (?:Permission denied|Operation not permitted): '(?P<path>[^']+)'",
        ("PermissionError",),
        0.85,
        explains_tests=True,
    ),
    Rule(
        "eacces",
        Category.PERMISSION_DENIED,
        "eacces",
        r"npm (?:ERR!|error) code EACCES|EACCES: permission denied(?:, [a-z]+ '(?P<path>[^']+)')?",
        ("EACCES",),
        0.85,
    ),
    Rule(
        "permission-denied",
        Category.PERMISSION_DENIED,
        "permission-denied",
        r"(?:: (?P<path>[^ :]+))?: Permission denied$",
        ("Permission denied",),
        0.8,
        build=_permission_denied,
    ),
    Rule(
        "http-401",
        Category.PERMISSION_DENIED,
        "http-401",
        r"(?:error code|status code|HTTP Error|returned error:|status) 401(?:[^0-9]|$)"
        r"|401 (?:Client Error: )?Unauthorized",
        ("401",),
        0.8,
        build=lambda rule, hit: rule.finding(hit, {"status": 401}),
    ),
    Rule(
        "missing-secret",
        Category.PERMISSION_DENIED,
        "missing-secret",
        r"^(?:E +)?KeyError: '(?P<name>[A-Z][A-Z0-9_]*"
        r"(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIALS|CREDENTIAL|AUTH)[A-Z0-9_]*)'$",
        ("KeyError: '",),
        0.7,
        build=_missing_secret,
        explains_tests=True,
    ),
    Rule(
        "http-403",
        Category.PERMISSION_DENIED,
        "http-403",
        r"HTTP Error 403|403 Forbidden|(?:error code|status code) 403(?:[^0-9]|$)|403 Client Error",
        ("403",),
        0.7,
    ),
    # Syntax
    Rule(
        "python-syntax-error",
        Category.SYNTAX_ERROR,
        "python-syntax-error",
        r"^(?:E +)?(?P<exc>SyntaxError|IndentationError|TabError): (?P<message>.*)$",
        ("SyntaxError", "IndentationError", "TabError"),
        0.9,
        build=_syntax,
        explains_tests=True,
    ),
    Rule(
        "config-syntax-error",
        Category.SYNTAX_ERROR,
        "config-syntax-error",
        r"^(?:E +)?(?P<exc>(?:json\.decoder\.|simplejson\.errors\.)?JSONDecodeError|(?:[A-Za-z_.]*\.)?TOMLDecodeError"
        r"|(?:[A-Za-z_.]*\.)?TomlDecodeError|yaml\.(?:scanner\.Scanner|parser\.Parser|composer\.Composer"
        r"|constructor\.Constructor|reader\.Reader)Error"
        r"|configparser\.(?:MissingSectionHeader|Parsing|DuplicateSection|DuplicateOption|Interpolation[A-Za-z]*)Error"
        r"): (?P<message>.*)$"
        r"|^(?P<message2>(?:Expecting [a-z ,':]+|Extra data|Unterminated string starting at"
        r"|Invalid control character at)"
        r": line [0-9]+ column [0-9]+ \(char [0-9]+\))$",
        (
            *("JSONDecodeError", "TOMLDecodeError", "TomlDecodeError"),
            *("yaml.scanner.", "yaml.parser.", "yaml.composer.", "yaml.constructor.", "yaml.reader."),
            "configparser.",
            " (char ",
        ),
        0.8,
        build=_config_syntax,
        explains_tests=True,
    ),
    # Lint, format and type checks
    Rule(
        "ruff-check",
        Category.LINT_FAILURE,
        "ruff",
        r"^Found (?P<count>[0-9]+) errors?(?: \([^)]*\))?\.$",
        ("Found ",),
        0.9,
        build=_ruff_check,
    ),
    Rule(
        "mypy",
        Category.LINT_FAILURE,
        "mypy",
        r"^Found (?P<count>[0-9]+) errors? in (?P<files>[0-9]+) files?"
        r" \((?:checked [0-9]+ source files?|errors prevented further checking)\)",
        ("Found ",),
        0.9,
        build=_mypy,
    ),
    Rule(
        "black",
        Category.LINT_FAILURE,
        "black",
        r"^(?:Oh no! .*|(?P<count>[0-9]+) files? would be reformatted.*\.)$",
        ("Oh no!", "would be reformatted"),
        0.9,
        retain=("Oh no!",),
        build=_formatter,
    ),
    Rule(
        "ruff-format",
        Category.LINT_FAILURE,
        "ruff-format",
        r"^(?P<count>[0-9]+) files? would be reformatted(?:, [0-9]+ files? already formatted)?$",
        ("would be reformatted",),
        0.9,
        retain=(),
        build=_formatter,
    ),
    Rule(
        "isort",
        Category.LINT_FAILURE,
        "isort",
        r"ERROR: (?P<file>[^ ]+) Imports are incorrectly sorted",
        ("Imports are incorrectly sorted",),
        0.9,
        build=_isort,
    ),
    Rule(
        "eslint",
        Category.LINT_FAILURE,
        "eslint",
        r"^. (?P<count>[0-9]+) problems? \(",
        ("\u2716 ",),
        0.85,
        build=_eslint,
    ),
    Rule(
        "prettier",
        Category.LINT_FAILURE,
        "prettier",
        r"Code style issues found in",
        ("Code style issues found",),
        0.85,
        build=_prettier,
    ),
    Rule(
        "pylint-parse-error",
        Category.SYNTAX_ERROR,
        "pylint-syntax",
        r"^(?P<file>[^: ]+[.]py):(?P<line>[0-9]+):[0-9]+: E0001: (?P<message>.*)$",
        (": E0001: ",),
        0.85,
        build=_pylint_parse,
    ),
    Rule(
        "pylint",
        Category.LINT_FAILURE,
        "pylint",
        r"^Your code has been rated at (?P<score>-?[0-9.]+)/10",
        ("Your code has been rated at",),
        0.9,
        build=_pylint,
    ),
    Rule(
        "flake8",
        Category.LINT_FAILURE,
        "flake8",
        # ``##[error]``: the runner's rendering of ``--output-format=github`` / ``--format=github`` annotations
        r"^(?:##\[(?:error|warning)\])?(?P<file>[^: ]+\.py):(?P<line>[0-9]+):(?P<col>[0-9]+):"
        r" (?P<code>[A-Z]{1,3}[0-9]{2,4}) ",
        (".py:",),
        0.75,
        build=_flake8,
    ),
    # Tests
    Rule(
        "pytest-summary",
        Category.TEST_FAILURE,
        "pytest-failure",
        r"^=* ?(?P<summary>(?:[0-9]+ [a-z]+, )*[0-9]+ (?:failed|errors?)(?:, [0-9]+ [a-z]+)*) in [0-9.]+s",
        ("failed", "error"),
        0.9,
        build=_pytest,
        retain=tuple(f"{digit} {word}" for digit in "0123456789" for word in ("failed", "error")),
    ),
    Rule(
        "pytest-rerun-summary",
        Category.FLAKY_TEST,
        "pytest-rerun-passed",
        r"^=* ?(?P<summary>(?:[0-9]+ [a-z]+, )*[0-9]+ reruns?(?:, [0-9]+ [a-z]+)*) in [0-9.]+s",
        ("rerun",),
        0.85,
        build=_pytest_reruns,
        retain=(),
    ),
    Rule(
        "unittest-summary",
        Category.TEST_FAILURE,
        "unittest-failure",
        r"^FAILED \((?P<counts>[a-z]+=[0-9]+(?:, [a-z]+=[0-9]+)*)\)$",
        ("FAILED (",),
        0.9,
        build=_unittest,
    ),
    Rule(
        "jest-summary",
        Category.TEST_FAILURE,
        "jest-failure",
        r"^Tests: +(?P<failed>[0-9]+) failed",
        ("Tests:",),
        0.85,
    ),
    Rule(
        "coverage-threshold",
        Category.TEST_FAILURE,
        "coverage-threshold",
        r"Required test coverage of (?P<required>[0-9.]+)% not reached\. Total coverage: (?P<total>[0-9.]+)%"
        r"|Coverage failure: total of (?P<total2>[0-9.]+) is less than fail-under=(?P<required2>[0-9.]+)",
        ("Required test coverage of", "Coverage failure: total of"),
        0.85,
    ),
    Rule(
        "python-script-assertion",
        Category.TEST_FAILURE,
        "python-assertion",
        r"^AssertionError(?:: (?P<message>.*))?$",
        ("AssertionError",),
        0.7,
        strength=S,  # a pointer: a library's own check failing with a message a rule reads comes first
        build=_script_assertion,
    ),
    # Secondary pointers: only used when no strong rule matched anywhere in the retained lines.
    Rule(
        "pip-build-failed",
        Category.DEPENDENCY_RESOLUTION,
        "pip-build-failed",
        r"(?P<stage>Getting requirements to build (?:wheel|editable)|Preparing (?:editable )?metadata"
        r"|python setup\.py egg_info|Building (?:editable|wheel) for [^ ]+.*) did not run successfully",
        ("did not run successfully",),
        0.6,
        strength=S,
        build=_pip_build_failed,
    ),
    Rule(
        "python-uncaught-exception",
        Category.UNKNOWN,
        "uncaught-exception",
        r"^(?P<exc>[A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception))(?:: (?P<message>.*))?$",
        ("Error", "Exception"),
        0.1,
        strength=S,
        retain=(),
        build=_uncaught_exception,
    ),
    Rule(
        "gha-exit-code",
        Category.UNKNOWN,
        "exit-code",
        r"Process completed with exit code (?P<code>[0-9]+)",
        ("Process completed with exit code",),
        0.1,
        strength=S,
        build=_exit_code,
    ),
    Rule(
        "killed",
        Category.OUT_OF_MEMORY,
        "oom-killed",
        r"^Killed$|(?:^|[ :])Killed +(?:python|node|java|pytest)",
        ("Killed",),
        0.5,
        strength=S,
    ),
    Rule(
        "gha-cancelled",
        Category.INFRASTRUCTURE,
        "cancelled",
        r"The operation was canceled\.",
        ("The operation was canceled",),
        0.4,
        strength=S,
    ),
    Rule(
        "gha-error-annotation",
        Category.UNKNOWN,
        "error-annotation",
        r"^##\[error\](?P<message>.*)$",
        ("##[error]",),
        0.1,
        strength=S,
    ),
)

EXPLAINING_RULES: tuple[Rule, ...] = tuple(rule for rule in RULES if rule.explains_tests)

# Every literal any rule needs: a line containing none of them cannot match, so the streaming pass keeps
# only lines that do (plus a ring buffer of the tail).
LITERALS: tuple[str, ...] = tuple(
    sorted({literal for rule in RULES for literal in (rule.literals if rule.retain is None else rule.retain)})
)


def literal_regex(literals: Collection[str]) -> re.Pattern[str]:
    """One regex matching any of `literals`, built as a trie so the engine never backtracks far.

    A flat ``a|b|c`` alternation makes `re` try every literal at every position; sharing prefixes
    (``No (?:matching|module|space)``) roughly halves the cost of the streaming pass.
    """
    return re.compile(literal_pattern(literals))


def literal_pattern(literals: Collection[str]) -> str:
    """The text of `literal_regex` (to compile later: compiling it takes ~10 ms)."""
    trie: dict[str, Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        if "" in node:  # a literal ends here: matching this prefix is enough
            return ""
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie)


def to_ere(pattern: str) -> str:
    """Translate a rule pattern to POSIX ERE for ``grep -E`` (only the constructs the rules use)."""
    ere = re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(", pattern)
    return ere.replace("(?:", "(")


def grep_patterns() -> list[str]:
    """The rules' regexes as ``grep -E`` patterns, for benchmarking against grep on the same work."""
    return [to_ere(rule.pattern) for rule in RULES]
