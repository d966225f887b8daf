"""Rules for the rest of an ML team's toolchain: families the Python-centred rules in `rules` do not cover.

Families: other package managers and their lock files (poetry, pipenv, pdm, uv, npm, Go modules, apt),
sdist builds that need a compiler, headers or a pkg-config library, notebooks executed in CI
(nbconvert, papermill), data validation libraries (pandera, pydantic, great_expectations), model and
data hubs and object stores (Hugging Face Hub, S3, GCS, Azure Blob), test runners of other languages
(jest, vitest, mocha, ``go test``, ``cargo test``), linters run through pre-commit, tox and nox
sessions, and runner quotas (artifact storage, Git LFS).

Two kinds of rule live here:

* message rules, like those in `rules`: a literal pre-filter, a regex, a builder; their evidence is
  the line that states the cause, never the trailing boilerplate a tool prints after it;
* wrapper rules (tox, nox, pre-commit): they match the wrapper's verdict line, which comes *after*
  the wrapped tool's output, and walk the session's own lines with every other rule, so the answer is
  the failure inside the session (a pytest summary, a missing data file) with the session named in
  `details`. Only when nothing inside is recognised do they answer for the session itself.

None of these families names a `package` to add: a missing C header, apt package, npm or Go module is
not something a Python dependency PR can fix, so a fixer reading these diagnoses opens an issue. The
classifier registers `TOOLCHAIN_RULES` ahead of the core rules and adds `TOOLCHAIN_LITERALS` to its
streaming pre-filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mlops_bot.diagnosis import rules as core
from mlops_bot.diagnosis.category import Category
from mlops_bot.diagnosis.lazy_re import Regex, lazy
from mlops_bot.diagnosis.rules import Context, Finding, Hit, LogLine, Rule, Strength, workspace_relative

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Any

_PY_EXCEPTION = lazy(
    r"^(?:E +)?(?P<exc>(?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Exit|Failure))"
    r"(?:: (?P<message>.*)|$)"
)
_NPM_PREFIX = lazy(r"^npm (?:ERR!|error|warn) ?")
_MAX_SESSION_LINES = 5_000


def _evidence_line(hit: Hit, idx: int) -> LogLine:
    return hit.ctx.lines[idx]


def _back_match(hit: Hit, pattern: Regex, limit: int = 80) -> tuple[int, re.Match[str]] | None:
    for i, text in hit.ctx.back(hit.idx, limit):
        if text.startswith("##[group]Run "):
            return None
        found = pattern.search(text)
        if found is not None:
            return i, found
    return None


# --------------------------------------------------------------------------------------------------
# Package managers and lock files


_LOCK_TOOLS = (
    ("poetry.lock", "poetry", "poetry lock"),
    ("uv.lock", "uv", "uv lock"),
    ("Pipfile.lock", "pipenv", "pipenv lock"),
    ("pdm.lock", "pdm", "pdm lock"),
    ("package-lock.json", "npm", "npm install"),
    ("npm ci", "npm", "npm install"),
    ("yarn.lock", "yarn", "yarn install"),
    ("pnpm-lock.yaml", "pnpm", "pnpm install"),
    ("conda-lock", "conda-lock", "conda-lock"),
    ("Cargo.lock", "cargo", "cargo generate-lockfile"),
    ("yarn", "yarn", "yarn install"),
)


_LOCK_STALE = lazy(
    r"changed significantly since (?:poetry\.lock|the lock ?file) was last generated"
    r"|[Ll]ock ?file.{0,80}(?:out of date|outdated|not up to date|needs to be updated"
    r"|is not consistent|not in sync|does not match|doesn't match)"
    r"|(?:out of date|outdated|not up to date|inconsistent).{0,60}[Ll]ock ?file"
    r"|(?:Pipfile|poetry|pdm|uv|conda-lock)\.lock.{0,120}"
    r"(?:out of date|out-of-date|is not consistent|needs to be updated|not up to date)"
    r"|can only install packages when your package\.json and package-lock\.json.{0,40}are in sync"
    r"|[Ll]ock ?file hash doesn.t match|Lock file hash mismatch"
    r"|The `?npm ci`? command can only install with an existing package-lock\.json"
    r"|lock file \S+ needs to be updated but --locked was passed"
    r"|cannot create the lock file \S+ because --locked was passed"
    r"|because pnpm-lock\.yaml is absent|ERR_PNPM_OUTDATED_LOCKFILE|ERR_PNPM_NO_LOCKFILE"
    r"|[Ll]ockfile would have been modified by this install"
    r"|Unable to find lockfile at"
)
_LOCK_MISSING = (
    "existing package-lock",
    "cannot create the lock file",
    "is absent",
    "NO_LOCKFILE",
    "Unable to find lockfile",
)
_WRAP_LINES = 3  # tools that wrap their message at 80 columns (rich, npm) split the cause over lines


def _lock_stale(rule: Rule, hit: Hit) -> Finding | None:
    """A lock file that no longer matches its manifest; the message may be wrapped over a few lines."""
    pieces = [(hit.idx, hit.line[1].strip())]
    for i, text in hit.ctx.forward(hit.idx, _WRAP_LINES - 1):
        if not text.strip() or text.startswith("##["):
            break
        pieces.append((i, _NPM_PREFIX.sub("", text).strip()))
    joined = ""
    used: list[LogLine] = []
    found = None
    for i, piece in pieces:
        joined = f"{joined} {piece}" if joined else piece
        used.append(hit.ctx.lines[i])
        found = _LOCK_STALE.search(joined)
        if found is not None:
            break
    if found is None or found.start() > len(pieces[0][1]):
        return None
    text = joined
    details: dict[str, Any] = {}
    nearby = [text] + [t for _, t in hit.ctx.forward(hit.idx, 3)] + [t for _, t in hit.ctx.back(hit.idx, 3)]
    script = core._step_script(hit.ctx, hit.line[0])
    for marker, tool, command in _LOCK_TOOLS:
        if any(marker in line for line in (text, *nearby)) or re.search(rf"(?:^|\s){tool}\s", script):
            details.update(tool=tool, lock_file=marker if "." in marker else None, refresh_command=command)
            break
    if "lock_file" in details and details["lock_file"] is None:
        details["lock_file"] = "package-lock.json"
    evidence = used
    if any(marker in text for marker in _LOCK_MISSING):
        return rule.finding(hit, details, evidence, kind="lock-missing")
    missing = [
        m.group(1)
        for _, t in hit.ctx.forward(hit.idx, 30)
        if (m := re.search(r"Missing: (\S+) from lock file", t)) is not None
    ]
    if missing:
        details["missing_from_lock"] = missing[:20]
    return rule.finding(hit, details, evidence)


def _named(hit: Hit) -> dict[str, Any]:
    return {key.rstrip("0123456789"): value for key, value in hit.match.groupdict().items() if value is not None}


def _npm_engine(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"tool": "npm"}
    evidence = [hit.line]
    for i, text in hit.ctx.forward(hit.idx, 10):
        message = _NPM_PREFIX.sub("", text).strip()
        field = re.match(r"^notsup (?P<key>Required|Actual): +(?P<value>.+)$", message)
        if field is not None:
            details[field["key"].lower()] = field["value"]
            evidence.append(hit.ctx.lines[i])
        elif message.startswith(("engine Unsupported", "notsup Unsupported platform")):
            evidence.append(hit.ctx.lines[i])
    if hit.match["code"] == "EBADPLATFORM":
        return rule.finding(hit, details, evidence, kind="npm-platform-mismatch")
    return rule.finding(hit, details, evidence)


def _go_module(rule: Rule, hit: Hit) -> Finding | None:
    details = {key: value for key, value in hit.match.groupdict().items() if value is not None}
    details["tool"] = "go"
    return rule.finding(hit, details)


def _apt(rule: Rule, hit: Hit) -> Finding | None:
    return rule.finding(hit, {"tool": "apt", "apt_package": hit.match["name"]})


# --------------------------------------------------------------------------------------------------
# sdist builds: compilers, headers, pkg-config libraries

# Headers whose Debian/Ubuntu package is certain enough to suggest (in `system_package`, never `package`).
_HEADER_PACKAGES = {
    "Python.h": "python3-dev",
    "ffi.h": "libffi-dev",
    "openssl/ssl.h": "libssl-dev",
    "libxml/xmlversion.h": "libxml2-dev",
    "libxml/parser.h": "libxml2-dev",
    "hdf5.h": "libhdf5-dev",
    "gdal.h": "libgdal-dev",
    "mysql.h": "default-libmysqlclient-dev",
    "pg_config.h": "libpq-dev",
    "libpq-fe.h": "libpq-dev",
    "sqlite3.h": "libsqlite3-dev",
    "zlib.h": "zlib1g-dev",
    "bzlib.h": "libbz2-dev",
    "lzma.h": "liblzma-dev",
    "yaml.h": "libyaml-dev",
    "sndfile.h": "libsndfile1-dev",
    "portaudio.h": "portaudio19-dev",
    "cairo.h": "libcairo2-dev",
    "krb5.h": "libkrb5-dev",
    "sodium.h": "libsodium-dev",
    "snappy-c.h": "libsnappy-dev",
    "geos_c.h": "libgeos-dev",
    "proj.h": "libproj-dev",
}
_FATAL_HEADER = lazy(r"fatal error: (?P<header>[^ :]+\.h(?:pp)?): No such file or directory")
_COMPILER_ERROR = lazy(r"(?:^|: )(?:fatal )?error: (?!command ')(?P<message>.+)$")


def _missing_header(rule: Rule, hit: Hit) -> Finding | None:
    header = hit.match["header"]
    details: dict[str, Any] = {"header": header}
    source = re.match(r"^(?P<file>[^ :]+):[0-9]+:[0-9]+: fatal error", hit.line[1].strip())
    if source is not None:
        details["source"] = workspace_relative(source["file"])
    if header in _HEADER_PACKAGES:
        details["system_package"] = _HEADER_PACKAGES[header]
    return rule.finding(hit, details)


_COMPILERS = lazy(
    r"^(?:.*/)?(?:[a-z0-9_]+-)*(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+|icx|icpx|nvcc|gfortran|cl\.exe)(?:-[0-9.]+)?$"
)


def _compiler_missing(rule: Rule, hit: Hit) -> Finding | None:
    compiler = hit.match["compiler"] or hit.match["compiler2"]
    program = hit.match["program"]
    if program is not None:
        # setuptools reports a missing compiler as a bare ENOENT right after echoing the command line.
        echoed = any(t.strip().startswith(program + " ") for _, t in hit.ctx.back(hit.idx, 3))
        if not echoed:
            return None
        if not _COMPILERS.match(program):
            return rule.finding(hit, {"command": program}, kind="missing-command", confidence=0.8)
        compiler = program
    return rule.finding(hit, {"compiler": compiler} if compiler else {})


def _compiler_failed(rule: Rule, hit: Hit) -> Finding | None:
    """``error: command 'gcc' failed with exit code 1``: the cause is the compiler's own error above."""
    for i, text in hit.ctx.back(hit.idx, 200):
        header = _FATAL_HEADER.search(text)
        if header is not None:
            inner = Hit(hit.ctx, i, header)
            return _missing_header(rule, inner)
        if text.startswith("##[group]Run "):
            break
    for i, text in hit.ctx.back(hit.idx, 200):
        error = _COMPILER_ERROR.search(text.strip())
        if error is not None and re.match(r"^[^ ]+\.(?:c|cc|cpp|cxx|h|hpp|pyx):[0-9]+", text.strip()):
            details = {"compiler": hit.match["compiler"], "message": error["message"][:300]}
            return rule.finding(
                hit,
                details,
                [_evidence_line(hit, i)],
                category=Category.SYNTAX_ERROR,
                kind="c-compile-error",
                confidence=0.6,
            )
        if text.startswith("##[group]Run "):
            break
    return rule.finding(hit, {"compiler": hit.match["compiler"]}, kind="c-build-failed", confidence=0.5)


def _pkg_config(rule: Rule, hit: Hit) -> Finding | None:
    library = hit.match.groupdict().get("library")
    details: dict[str, Any] = {}
    if library is None:
        tried = [
            m.group(1)
            for _, t in hit.ctx.back(hit.idx, 20)
            if (m := re.search(r"pkg-config (?:--exists |--cflags |--libs )+(\S+?)['\"]?$", t.strip())) is not None
        ]
        if tried:
            details["tried"] = list(reversed(tried))
            library = details["tried"][0]
    if library is not None:
        details["library"] = library.strip("'\"")
    return rule.finding(hit, details)


# --------------------------------------------------------------------------------------------------
# Notebooks


_CELL_EXCEPTION = lazy(
    r"^(?P<exc>(?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt))"
    r"(?::(?: (?P<message>.*))?)?$"
)
_CELL_EXCEPTION_KINDS = {
    "TimeoutError": (Category.TIMEOUT, "notebook-cell-timeout"),
    "CellTimeoutError": (Category.TIMEOUT, "notebook-cell-timeout"),
    "DeadKernelError": (Category.OUT_OF_MEMORY, "notebook-kernel-died"),
}


def _notebook(rule: Rule, hit: Hit) -> Finding | None:
    """nbconvert's CellExecutionError / papermill's PapermillExecutionError: the cell's exception follows."""
    details: dict[str, Any] = {"runner": "papermill" if "Papermill" in hit.line[1] else "nbconvert"}
    cell = None
    found: tuple[int, re.Match[str]] | None = None
    for i, text in hit.ctx.forward(hit.idx, 150):
        stripped = text.strip()
        if cell is None:
            at = re.match(r'^(?:Cell In ?\[(?P<n>[0-9]+)\]|Exception encountered at "In \[(?P<m>[0-9]+)\]")', stripped)
            if at is not None:
                cell = at["n"] or at["m"]
        exception = _CELL_EXCEPTION.match(stripped)
        if exception is not None and exception["exc"] not in ("CellExecutionError", "PapermillExecutionError"):
            found = (i, exception)
            if exception["message"] is not None:
                break
        if stripped.startswith("##[") or ("Traceback (most recent call last)" in stripped and found is not None):
            break
    if cell is not None:
        details["cell"] = int(cell)
    if found is None:
        return rule.finding(hit, details, confidence=0.6)
    index, exception = found
    exc = exception["exc"].rsplit(".", 1)[-1]
    details["exception"] = exc
    if exception["message"]:
        details["message"] = exception["message"][:300]
    category, kind = _CELL_EXCEPTION_KINDS.get(exc, (rule.category, rule.kind))
    return rule.finding(hit, details, [_evidence_line(hit, index)], category=category, kind=kind)


# --------------------------------------------------------------------------------------------------
# Data validation


def _pandera(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"library": "pandera"}
    message = hit.match["message"] or ""
    evidence = [hit.line]
    if not message.strip(" {"):  # lazy validation: a JSON report follows; its first "error" states the cause
        for i, text in hit.ctx.forward(hit.idx, 200):
            entry = re.match(r'^ *"(?P<key>column|check|error)": "(?P<value>.*)",?$', text)
            if entry is not None and entry["key"] not in details:
                details[entry["key"]] = entry["value"]
                if entry["key"] == "error":
                    evidence.append(hit.ctx.lines[i])
                    message = entry["value"]
                    break
            if text.startswith("##[") or text == "}":
                break
        details.pop("error", None)
    column = re.search(r"(?:[Cc]olumn|series) '(?P<column>[^']+)'", message)
    if column is not None:
        details.setdefault("column", column["column"])
    check = re.search(r"validator number [0-9]+: (?P<check>[A-Za-z_]+\([^)]*\))", message)
    if check is not None:
        details.setdefault("check", check["check"])
    return rule.finding(hit, details, evidence)


def _pydantic(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"library": "pydantic", "model": hit.match["model"], "errors": int(hit.match["count"])}
    fields: list[str] = []
    evidence = [hit.line]
    following = list(hit.ctx.forward(hit.idx, 40))
    for j, (i, text) in enumerate(following):
        if text.startswith("  ") and not text.startswith("    ") and j > 0:
            field_name = following[j - 1][1].strip()
            if field_name and not field_name.startswith("For further information"):
                fields.append(field_name)
                if len(evidence) < 3:
                    evidence.append(hit.ctx.lines[i])
        elif not text.strip() or _PY_EXCEPTION.match(text.strip()):
            break
    if fields:
        details["fields"] = fields[:20]
    return rule.finding(hit, details, evidence)


def _great_expectations(rule: Rule, hit: Hit) -> Finding | None:
    """A validation result printed as JSON: the expectation whose own ``"success"`` is false."""
    for i, text in hit.ctx.back(hit.idx, 4):
        outcome = re.match(r'^ *"success": (?P<value>true|false)', text)
        if outcome is not None:
            if outcome["value"] == "true":
                return None
            details: dict[str, Any] = {"library": "great_expectations", "expectation": hit.match["expectation"]}
            for _, after in hit.ctx.forward(hit.idx, 12):
                column = re.match(r'^ *"column": "(?P<column>[^"]+)"', after)
                if column is not None:
                    details["column"] = column["column"]
                    break
            return rule.finding(hit, details, [hit.ctx.lines[i], hit.line])
    return None


# --------------------------------------------------------------------------------------------------
# Hubs and object stores


_HF_URL = lazy(r"for url: \S*?/api/(?P<type>models|datasets|spaces)/(?P<repo>[^/\s]+/[^/\s]+)")
_HF_RESOLVE = lazy(r"https?://\S+?/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/\s]+/[^/\s]+)/resolve/")


def _hub(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"hub": "huggingface"}
    evidence = [hit.line]
    for _, text in [(hit.idx, hit.line[1]), *hit.ctx.forward(hit.idx, 6), *hit.ctx.back(hit.idx, 6)]:
        url = _HF_URL.search(text) or _HF_RESOLVE.search(text)
        if url is not None:
            details["repo"] = url["repo"].rstrip(".")
            if url["type"]:
                details["repo_type"] = url["type"].rstrip("s")
            break
    return rule.finding(hit, details, evidence)


_S3_NOT_FOUND = ("NoSuchKey", "NoSuchBucket", "404", "NotFound", "NoSuchUpload", "NoSuchVersion")
_S3_DENIED = (
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "AccountProblem",
    "UnauthorizedOperation",
)
_S3_TRANSIENT = ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "500", "503")


def _botocore(rule: Rule, hit: Hit) -> Finding | None:
    code, operation = hit.match["code"], hit.match["operation"]
    details: dict[str, Any] = {"service": "s3" if "Object" in operation or "Bucket" in operation else "aws"}
    details.update(error_code=code, operation=operation)
    if code in _S3_NOT_FOUND:
        return rule.finding(hit, details, category=Category.DATA_MISSING, kind="object-not-found", confidence=0.85)
    if code in _S3_DENIED:
        return rule.finding(
            hit, details, category=Category.PERMISSION_DENIED, kind="object-store-access-denied", confidence=0.85
        )
    if code in _S3_TRANSIENT:
        return rule.finding(
            hit, details, category=Category.NETWORK_TRANSIENT, kind="object-store-unavailable", confidence=0.7
        )
    return None


def _cloud_status(rule: Rule, hit: Hit) -> Finding | None:
    return rule.finding(hit, {key: value for key, value in hit.match.groupdict().items() if value is not None})


# --------------------------------------------------------------------------------------------------
# Test runners of other languages


def _collect(hit: Hit, pattern: Regex, limit: int = 2_000, stop_at_run: bool = True) -> list[tuple[int, re.Match[str]]]:
    found: list[tuple[int, re.Match[str]]] = []
    for i, text in hit.ctx.back(hit.idx, limit):
        if stop_at_run and text.startswith("##[group]Run "):
            break
        match = pattern.search(text)
        if match is not None:
            found.append((i, match))
    found.reverse()
    return found


_JEST_TEST = lazy(r"^ *\u25cf (?P<name>(?!Console)(?!Test suite failed to run).+)$")
_JEST_SUITE_FAILED = lazy(r"^ *\u25cf Test suite failed to run")


def _jest(rule: Rule, hit: Hit) -> Finding | None:
    tests = _collect(hit, _JEST_TEST)
    details: dict[str, Any] = {"runner": "jest", "failed": int(hit.match["failed"])}
    details["tests"] = core._unique([m["name"].strip() for _, m in tests])
    evidence = [hit.ctx.lines[i] for i, _ in tests[:5]]
    if tests:  # the first failing test's first message line: the assertion or the error thrown
        message = next(((i, t) for i, t in hit.ctx.forward(tests[0][0], 6) if t.strip()), None)
        if message is not None and _JEST_TEST.search(message[1]) is None:
            evidence.insert(1, hit.ctx.lines[message[0]])
    for i, text in hit.ctx.back(hit.idx, 2_000):
        if text.startswith("##[group]Run "):
            break
        if _JEST_SUITE_FAILED.search(text):
            evidence.insert(0, hit.ctx.lines[i])
            details["suite_failed_to_run"] = True
            break
    return rule.finding(hit, details, [*evidence, hit.line])


_VITEST_TEST = lazy(r"^ *(?:FAIL|\u00d7|\u2715) +(?P<name>\S.*?>.+?)(?: [0-9]+ms)?$")


def _vitest(rule: Rule, hit: Hit) -> Finding | None:
    tests = _collect(hit, _VITEST_TEST)
    details: dict[str, Any] = {"runner": "vitest", "failed": int(hit.match["failed"])}
    details["tests"] = core._unique([m["name"].strip() for _, m in tests])
    evidence = [hit.ctx.lines[i] for i, _ in tests[:5]]
    return rule.finding(hit, details, [*evidence, hit.line])


_MOCHA_TEST = lazy(r"^ +[0-9]+\) (?P<name>\S.*?):?$")


def _mocha(rule: Rule, hit: Hit) -> Finding | None:
    details: dict[str, Any] = {"runner": "mocha", "failed": int(hit.match["failed"])}
    names: list[str] = []
    evidence = [hit.line]
    following = list(hit.ctx.forward(hit.idx, 200))
    for j, (i, text) in enumerate(following):
        numbered = re.match(r"^ +[0-9]+\) (?P<suite>\S.*)$", text)
        if numbered is not None:
            parts = [numbered["suite"].strip()]
            for _, after in following[j + 1 : j + 4]:
                if after.strip() and not re.match(r"^ +(?:[A-Za-z]*Error|[+-]|at )", after):
                    parts.append(after.strip().rstrip(":"))
                else:
                    break
            names.append(" ".join(parts).rstrip(":"))
        error = _PY_EXCEPTION.match(text.strip()) or re.match(r"^ *(?P<exc>[A-Za-z]*Error)(?: \[[A-Z_]+\])?: ", text)
        if error is not None and len(evidence) < 3:
            evidence.append(hit.ctx.lines[i])
    details["tests"] = core._unique(names)
    return rule.finding(hit, details, evidence)


_GO_FAIL = lazy(r"^\s*--- FAIL: (?P<test>\S+)")
_GO_PANIC = lazy(r"^panic: (?P<message>.+)$")


def _go_test(rule: Rule, hit: Hit) -> Finding | None:
    failures = _collect(hit, _GO_FAIL)
    details: dict[str, Any] = {"runner": "go", "go_package": hit.match["go_package"]}  # never `package`
    if "[build failed]" in hit.line[1] or "[setup failed]" in hit.line[1]:
        return None  # the compiler's message above it is the cause (matched on its own line)
    details["tests"] = core._unique([m["test"] for _, m in failures])
    evidence = [hit.ctx.lines[i] for i, _ in failures[:5]]
    panics = _collect(hit, _GO_PANIC)
    if panics:
        details["panic"] = panics[0][1]["message"][:300]
        evidence.insert(0, hit.ctx.lines[panics[0][0]])
    if not failures and not panics:
        return rule.finding(hit, details, confidence=0.6)
    return rule.finding(hit, details, [*evidence[:6], hit.line])


_CARGO_TEST = lazy(r"^---- (?P<test>\S+) stdout ----$")
_CARGO_PANIC = lazy(r"panicked at (?P<where>\S+?):?$|panicked at '(?P<message>.*)', (?P<where2>\S+)$")


def _cargo(rule: Rule, hit: Hit) -> Finding | None:
    tests = _collect(hit, _CARGO_TEST)
    details: dict[str, Any] = {"runner": "cargo", "tests": core._unique([m["test"] for _, m in tests])}
    evidence: list[LogLine] = []
    panics = _collect(hit, _CARGO_PANIC)
    if panics:
        index = panics[0][0]
        evidence.append(hit.ctx.lines[index])
        following = [t for _, t in hit.ctx.forward(index, 4) if t.strip()]
        if following:
            details["message"] = following[0].strip()[:300]
    return rule.finding(hit, details, [*evidence, hit.line])


_RUST_ERROR = lazy(r"^error(?:\[(?P<code>E[0-9]{4})\])?: (?P<message>.*)$")
_CLIPPY_MARK = ("clippy::", "rust-clippy")


def _rust_build(rule: Rule, hit: Hit) -> Finding | None:
    """``error: could not compile `crate```: the step's first ``error`` line says why; clippy's are lints."""
    errors: list[tuple[int, re.Match[str]]] = []
    clippy = False
    for i, text in hit.ctx.back(hit.idx, 2_000):
        if text.startswith("##[group]Run "):
            clippy = clippy or "clippy" in text
            break
        clippy = clippy or any(mark in text for mark in _CLIPPY_MARK)
        found = _RUST_ERROR.match(text)
        if found is not None and not found["message"].startswith(("could not compile", "aborting due to")):
            errors.append((i, found))
    errors.reverse()
    details: dict[str, Any] = {"crate": hit.match["crate"], "errors": len(errors)}
    evidence = [hit.ctx.lines[i] for i, _ in errors[:5]] + [hit.line]
    coded = [m for _, m in errors if m["code"]]
    if coded:
        details.update(code=coded[0]["code"], message=coded[0]["message"][:300])
        return rule.finding(hit, details, evidence)
    if clippy and errors:
        details.update(tool="clippy", message=errors[0][1]["message"][:300])
        return rule.finding(hit, details, evidence, category=Category.LINT_FAILURE, kind="clippy")
    if errors:
        details["message"] = errors[0][1]["message"][:300]
        return rule.finding(hit, details, evidence, confidence=0.6)
    return None


def _c_compile(rule: Rule, hit: Hit) -> Finding | None:
    details = {"file": workspace_relative(hit.match["file"]), "line": int(hit.match["line"])}
    details["message"] = hit.match["message"][:300]
    return rule.finding(hit, details)


_GO_COMPILE = lazy(
    r"syntax error: |undefined: |declared (?:and|but) not used|cannot use |imported (?:and|but) not used"
)
_GO_LINTERS = (("golangci-lint", "golangci-lint"), ("staticcheck", "staticcheck"), ("go vet", "go-vet"))


def _go_diagnostic(rule: Rule, hit: Hit) -> Finding | None:
    """``file.go:L:C: message``: a vet/lint report in a linting step, else a compile error."""
    details = {"file": workspace_relative(hit.match["file"]), "line": int(hit.match["line"])}
    details["message"] = hit.match["message"][:300]
    script = core._step_script(hit.ctx, hit.line[0])
    for command, kind in _GO_LINTERS:
        if command in script:
            details["tool"] = command
            return rule.finding(hit, details, category=Category.LINT_FAILURE, kind=kind, confidence=0.8)
    if _GO_COMPILE.search(hit.match["message"]):
        if "go test" in script:
            details["runner"] = "go"
        return rule.finding(hit, details)
    return None


_JEST_SUITE_ERROR = lazy(r"^ *(?P<exc>[A-Za-z]*Error|Cannot find module|Jest encountered)(?::| )")


def _jest_suites(rule: Rule, hit: Hit) -> Finding | None:
    """``Test Suites: N failed`` with no failed test: a suite that failed to run, and why."""
    start = None
    for i, text in hit.ctx.back(hit.idx, 2_000):
        if text.startswith("##[group]Run "):
            break
        if _JEST_SUITE_FAILED.search(text):
            start = i
    if start is None:
        return None
    indexes = list(range(start, hit.idx))
    inner = _walk(hit.ctx, indexes)
    if inner is not None:
        inner.details = {**inner.details, "runner": "jest", "suite_failed_to_run": True}
        return inner
    details: dict[str, Any] = {"runner": "jest", "suite_failed_to_run": True}
    evidence = [hit.ctx.lines[start]]
    errors = [(i, m) for i in indexes if (m := _JEST_SUITE_ERROR.match(hit.ctx.lines[i][1])) is not None]
    syntax = [(i, m) for i, m in errors if m["exc"] == "SyntaxError"]
    for i, error in (syntax or errors)[:1]:
        evidence.append(hit.ctx.lines[i])
        details["error"] = error["exc"]
    if details.get("error") == "SyntaxError":
        return rule.finding(hit, details, evidence, category=Category.SYNTAX_ERROR)
    return rule.finding(hit, details, evidence, category=Category.TEST_FAILURE, confidence=0.7)


# --------------------------------------------------------------------------------------------------
# Wrappers: pre-commit, tox, nox

_PRECOMMIT_RESULT = lazy(r"^(?P<name>\S.*?)\.{3,}(?:\([^)]*\))?(?P<result>Passed|Failed|Skipped)$")
_HOOK_FILE = lazy(r"^(?:reformatted |would reformat |Fixing |)(?P<file>[A-Za-z0-9_./-]+\.[A-Za-z0-9]+)(?::[0-9]+|$)")
_SESSION = "session-failed"
_HOOK_EXECUTABLE_MISSING = lazy(r"^Executable `(?P<command>[^`]+)` not found")
_PRECOMMIT_HOOK_ID = lazy(r"^- hook id: (?P<hook>\S+)$")
_INNER_LIMIT = 3_000


def _walk(ctx: Context, indexes: list[int]) -> Finding | None:
    """The classifier's walk (last line first, first strong hit wins) over a session's own lines."""
    rules = [*INNER_RULES, *core.RULES]
    sub = Context([ctx.lines[i] for i in indexes], ctx.groups, ctx.own_packages, ctx.passed_tests)
    for j in range(len(indexes) - 1, -1, -1):
        for rule in rules:
            if rule.strength is not Strength.STRONG:
                continue
            finding = rule.apply(sub, j)
            if finding is not None:
                return finding
    return None


def _precommit_hooks(ctx: Context, indexes: Iterable[int]) -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for i in indexes:
        text = ctx.lines[i][1]
        result = _PRECOMMIT_RESULT.match(text)
        if result is not None:
            current = None
            if result["result"] == "Failed":
                current = {"name": result["name"].strip(), "line": i, "files_modified": False, "files": []}
                hooks.append(current)
            continue
        if current is None:
            continue
        hook_id = _PRECOMMIT_HOOK_ID.match(text)
        if hook_id is not None:
            current["id"] = hook_id["hook"]
            current["id_line"] = i
        elif text.startswith("- files were modified by this hook"):
            current["files_modified"] = True
        else:
            named = re.match(
                r"^(?:reformatted |would reformat |Fixing |)(?P<file>[A-Za-z0-9_./-]+\.[A-Za-z0-9]+)(?::[0-9]+|$)", text
            )
            if named is not None and len(current["files"]) < 50:
                current["files"].append(workspace_relative(named["file"]))
    return hooks


def _step_indexes(ctx: Context, idx: int, limit: int = _MAX_SESSION_LINES) -> list[int]:
    return ctx.region(idx, lambda text: text.startswith("##[group]Run "), limit)


def _precommit(rule: Rule, hit: Hit, indexes: list[int]) -> Finding | None:
    ctx = hit.ctx
    hooks = _precommit_hooks(ctx, indexes)
    if not hooks:
        return None
    first = hooks[0]
    hook = first.get("id") or first["name"]
    for i in indexes:
        missing = _HOOK_EXECUTABLE_MISSING.search(ctx.lines[i][1])
        if missing is not None:  # the hook's tool is not installed: not a lint finding, and no package to add
            return rule.finding(
                hit,
                {"tool": "pre-commit", "hook": hook, "command": missing["command"]},
                [ctx.lines[first["line"]], ctx.lines[i]],
                category=Category.DEPENDENCY_MISSING,
                kind="missing-command",
                confidence=0.85,
            )
    details: dict[str, Any] = {
        "tool": "pre-commit",
        "hook": hook,
        "hooks": [h.get("id") or h["name"] for h in hooks],
        "files_modified": any(h["files_modified"] for h in hooks),
        "files": core._unique([f for h in hooks for f in h["files"]]),
    }
    evidence = [ctx.lines[first["line"]]]
    if "id_line" in first:
        evidence.append(ctx.lines[first["id_line"]])
    return rule.finding(hit, details, evidence, category=Category.LINT_FAILURE, kind="pre-commit-hook", confidence=0.9)


_TOX4_START = lazy(r"^(?P<env>[A-Za-z0-9_.-]+): (?:commands\[[0-9]+\]|commands_pre\[[0-9]+\]|install_deps)>")
_TOX3_START = lazy(r"^(?P<env>[A-Za-z0-9_.-]+) (?:run-test|run-test-pre|installdeps): ")
_NOX_START = lazy(r"^nox > Running session (?P<env>\S+)")
_TEST_COMMANDS = ("pytest", "py.test", "unittest", "nose", "tests", "coverage", "jest", "go test", "cargo test")
_LINT_COMMANDS = ("flake8", "ruff", "pylint", "mypy", "black", "isort", "pyright", "bandit", "pre-commit", "lint")


_WRAPPER_NOISE = lazy(
    r"InvocationError for command|: commands failed$|: FAIL code [0-9]|evaluation failed|^nox > |: exit [0-9]+ \("
)
_ERROR_LINE = lazy(r"^(?:error|ERROR|Error|fatal|FATAL)[:\[ ]")


def _session_fallback(rule: Rule, hit: Hit, indexes: list[int], details: dict[str, Any]) -> Finding:
    """Nothing inside the session is recognised: point at its last exception or error line."""
    ctx = hit.ctx
    command = details.get("command", "")
    pointer: LogLine | None = None
    own = [i for i in indexes if not _WRAPPER_NOISE.search(ctx.lines[i][1])]
    for i in reversed(own):  # the session's last exception, else its last error line
        exception = _PY_EXCEPTION.match(ctx.lines[i][1].strip())
        if exception is not None:
            pointer = ctx.lines[i]
            details["exception"] = exception["exc"].rsplit(".", 1)[-1]
            break
    if pointer is None:
        pointer = next((ctx.lines[i] for i in reversed(own) if _ERROR_LINE.match(ctx.lines[i][1].strip())), None)
    evidence = [pointer] if pointer is not None else [hit.line]
    lowered = command.lower()
    if any(word in lowered for word in _LINT_COMMANDS):
        return rule.finding(
            hit, details, evidence, category=Category.LINT_FAILURE, kind="session-failed", confidence=0.5
        )
    if any(word in lowered for word in _TEST_COMMANDS):
        return rule.finding(
            hit, details, evidence, category=Category.TEST_FAILURE, kind="session-failed", confidence=0.5
        )
    return rule.finding(hit, details, evidence, category=Category.UNKNOWN, kind=_SESSION, confidence=0.2)


def _session(rule: Rule, hit: Hit, indexes: list[int], details: dict[str, Any]) -> Finding | None:
    for own in INNER_RULES:  # the verdict line may state the cause itself ("Python interpreter 3.7 not found")
        verdict = own.apply(hit.ctx, hit.idx)
        if verdict is not None:
            verdict.details = {**verdict.details, **details}
            return verdict
    inner = _walk(hit.ctx, indexes)
    if inner is not None:
        extra = {f"session_{k}" if k in inner.details else k: v for k, v in details.items()}
        inner.details = {**inner.details, **extra}
        if inner.details.get("package"):
            # The session installs its own deps (tox.ini, noxfile.py), which a requirements PR may not reach:
            # name the package for the issue, open no PR.
            inner.details["suggested_package"] = inner.details.pop("package")
            inner.details["reason"] = f"missing inside the {details['tool']} session; its own deps decide"
            inner.confidence = min(inner.confidence, 0.6)
        return inner
    return _session_fallback(rule, hit, indexes, details)


def _session_region(hit: Hit, start: Regex, env: str | None) -> tuple[list[int], str]:
    """The wrapper's lines for `env` back to where its commands started (or the step's start)."""
    indexes: list[int] = []
    command = ""
    for i, text in hit.ctx.back(hit.idx, _MAX_SESSION_LINES):
        if text.startswith("##[group]Run "):
            break
        began = start.match(text)
        if began is not None and (env is None or began["env"] == env):
            cmd = re.search(r"(?:> |\| |^nox > )(?P<cmd>.+)$", text)
            if cmd is not None and not command and "Running session" not in text:
                command = cmd["cmd"]
            if "install_deps" in text or "installdeps" in text or "Running session" in text:
                break
            indexes.append(i)
            continue
        indexes.append(i)
    indexes.reverse()
    return indexes, command


def _tox(rule: Rule, hit: Hit) -> Finding | None:
    env = hit.match["env"]
    tox3 = "InvocationError" in hit.line[1] or "commands failed" in hit.line[1]
    start = _TOX3_START if tox3 else _TOX4_START
    indexes, command = _session_region(hit, start, env)
    if env is None and not indexes:
        return None
    details: dict[str, Any] = {"tool": "tox", "session": env}
    if command:
        details["command"] = command
    return _session(rule, hit, indexes, details)


def _nox(rule: Rule, hit: Hit) -> Finding | None:
    env = hit.match["env"]
    indexes, _ = _session_region(hit, _NOX_START, None)
    command = ""
    for i in indexes:
        ran = re.match(r"^nox > (?P<cmd>[a-z./].*)$", hit.ctx.lines[i][1])  # nox's own messages are capitalised
        if ran is not None:
            command = ran["cmd"]
    details: dict[str, Any] = {"tool": "nox", "session": env}
    if command:
        details["command"] = command
    return _session(rule, hit, indexes, details)


def _step_exit(rule: Rule, hit: Hit) -> Finding | None:
    """At a failed step's exit line: pre-commit's report for the step, when the step ran pre-commit."""
    ctx = hit.ctx
    group = ctx.group_for(hit.line[0])
    command = "\n".join((group.command, *group.script)) if group is not None else ""
    if "pre-commit" not in command and "prek" not in command:
        return None
    return _precommit(rule, hit, _step_indexes(ctx, hit.idx))


def _precommit_hook_line(rule: Rule, hit: Hit) -> Finding | None:
    """A log without GitHub's exit line: the hook report itself."""
    indexes = list(range(max(0, hit.idx - 5), min(len(hit.ctx.lines), hit.idx + 200)))
    return _precommit(rule, hit, indexes)


# --------------------------------------------------------------------------------------------------
# The rules

S = Strength.SECONDARY
DM, DR = Category.DEPENDENCY_MISSING, Category.DEPENDENCY_RESOLUTION

_MESSAGE_RULES: tuple[Rule, ...] = (
    Rule(
        "c-compile-error",
        Category.SYNTAX_ERROR,
        "c-compile-error",
        r"^(?P<file>[^ :]+\.(?:c|cc|cpp|cxx|h|hh|hpp|cu|m|mm)):(?P<line>[0-9]+):(?P<col>[0-9]+):"
        r" error: (?P<message>.*)$",
        (": error: ",),
        0.8,
        build=_c_compile,
    ),
    Rule(
        "typescript-compile-error",
        Category.SYNTAX_ERROR,
        "typescript-compile-error",
        r"^(?P<file>[^ (]+\.(?:ts|tsx|mts|cts|vue))\((?P<line>[0-9]+),(?P<col>[0-9]+)\):"
        r" error (?P<code>TS[0-9]+): (?P<message>.*)$"
        r"|^(?P<file2>[^ :]+\.(?:ts|tsx|mts|cts)):(?P<line2>[0-9]+):(?P<col2>[0-9]+) - error (?P<code2>TS[0-9]+): ",
        (": error TS", " - error TS"),
        0.8,
    ),
    Rule(
        "rust-compile",
        Category.SYNTAX_ERROR,
        "rust-compile-error",
        r"^error: could not compile `(?P<crate>[^`]+)`",
        ("could not compile `",),
        0.85,
        build=_rust_build,
    ),
    Rule(
        "jupyter-kernel-missing",
        Category.INFRASTRUCTURE,
        "kernel-missing",
        r"No such kernel named (?P<kernel>[^ ]+)",
        ("No such kernel named",),
        0.8,
    ),
    Rule(
        "node-require-esm",
        Category.DEPENDENCY_RESOLUTION,
        "require-esm",
        r"ERR_REQUIRE_ESM|require\(\) of ES Module",
        ("ERR_REQUIRE_ESM", "require() of ES Module"),
        0.8,
        build=core._esm_require,
    ),
    Rule(
        "yamllint",
        Category.LINT_FAILURE,
        "yamllint",
        r"^(?P<file>[^ :]+\.ya?ml):(?P<line>[0-9]+):(?P<col>[0-9]+): \[error\] (?P<message>.*) \((?P<rule>[a-z-]+)\)$"
        r"|^ +[0-9]+:[0-9]+ +error +(?P<message2>.*[^ ]) +\((?P<rule2>[a-z-]+)\)$",
        (": [error] ", "  error  "),
        0.8,
    ),
    # Runner quotas and billing (disk full is a core rule)
    Rule(
        "gha-artifact-quota",
        Category.INFRASTRUCTURE,
        "artifact-quota",
        r"Artifact storage quota has been hit|artifact storage quota",
        ("Artifact storage quota", "artifact storage quota"),
        0.95,
    ),
    Rule(
        "git-lfs-quota",
        Category.INFRASTRUCTURE,
        "lfs-quota",
        r"over its data quota|exceeded its LFS budget|LFS bandwidth|over its LFS budget",
        ("over its data quota", "LFS budget", "LFS bandwidth"),
        0.95,
    ),
    Rule(
        "gha-spending-limit",
        Category.INFRASTRUCTURE,
        "billing-limit",
        r"recent account payments have failed or your spending limit needs to be increased",
        ("spending limit needs to be increased",),
        0.95,
    ),
    Rule(
        "npm-engine-mismatch",
        DR,
        "npm-engine-mismatch",
        r"npm (?:ERR!|error) code (?P<code>EBADENGINE|EBADPLATFORM)",
        ("EBADENGINE", "EBADPLATFORM"),
        0.85,
        build=_npm_engine,
    ),
    # Interpreters a job asks for and cannot get
    Rule(
        "python-interpreter-missing",
        Category.INFRASTRUCTURE,
        "interpreter-missing",
        r"Python interpreter (?P<version>[0-9][0-9.]*) not found"
        r"|could not find python interpreter (?:matching any of the specs|with spec\(s\):) (?P<spec>\S+)"
        r"|InterpreterNotFound: (?P<spec2>\S+)"
        r"|The version '(?P<version2>[^']+)' with architecture '[^']+' was not found"
        r"|No interpreter found for Python (?P<version3>\S+)",
        (
            *("Python interpreter", "could not find python interpreter", "InterpreterNotFound"),
            *("was not found for", "with architecture", "No interpreter found for Python"),
        ),
        0.85,
        build=_cloud_status,
    ),
    # Lock files
    Rule(
        "lock-out-of-date",
        DR,
        "lock-out-of-date",
        r"[Ll]ock ?file|\.lock\b|changed significantly since|package-lock\.json|pnpm-lock\.yaml|_LOCKFILE",
        ("ock file", "ockfile", ".lock", "changed significantly since", "package-lock.json", "pnpm-lock", "LOCKFILE"),
        0.9,
        build=_lock_stale,
    ),
    Rule(
        "go-sum-missing",
        DR,
        "go-sum-missing",
        r"missing go\.sum entry(?: for module providing package (?P<go_package>[^\s;]+))?",
        ("missing go.sum entry",),
        0.9,
        build=_go_module,
    ),
    Rule(
        "go-module-missing",
        DR,
        "go-module-missing",
        r"(?:no required module provides|cannot find module providing) package (?P<go_package>[^;:\s]+)",
        ("no required module provides package", "cannot find module providing package"),
        0.9,
        build=_go_module,
    ),
    Rule(
        "go-unknown-revision",
        DR,
        "go-unknown-revision",
        # The module starts a word (a lookbehind, not `\S+?` tried at every position: that was
        # quadratic on a long line without spaces; bench/bench_diagnosis_hostile.py).
        r"(?<![^\s\"'(])(?P<module>[^\s@\"'()]+)@(?P<version>[^\s@]+?): (?:invalid version: )?unknown revision"
        r" (?P<revision>\S+)",
        ("unknown revision",),
        0.9,
        build=_go_module,
    ),
    Rule(
        "go-mod-tidy",
        DR,
        "go-mod-out-of-date",
        r"updates to go\.mod needed|go\.mod file indicates go [0-9.]+, but maximum (?:supported )?version is",
        ("updates to go.mod needed", "but maximum"),
        0.85,
        build=_go_module,
    ),
    Rule(
        "apt-unable-to-locate",
        DM,
        "apt-package-not-found",
        r"^E: (?:Unable to locate package (?P<name>\S+)|Package '(?P<name2>[^']+)' has no installation candidate)",
        ("Unable to locate package", "has no installation candidate"),
        0.9,
        build=lambda rule, hit: rule.finding(
            hit, {"tool": "apt", "apt_package": hit.match["name"] or hit.match["name2"]}
        ),
    ),
    # sdist builds
    Rule(
        "c-header-missing",
        DM,
        "missing-c-header",
        _FATAL_HEADER.pattern,
        ("fatal error:",),
        0.9,
        build=_missing_header,
    ),
    Rule(
        "compiler-missing",
        DM,
        "missing-compiler",
        r"error: command '(?P<compiler>[^']+)' failed: No such file or directory"
        r"|unable to execute '(?P<compiler2>[^']+)': No such file or directory"
        r"|error: \[Errno 2\] No such file or directory: '(?P<program>[^']+)'"
        r"|error: Microsoft Visual C\+\+ [0-9.]+ or greater is required"
        r"|(?:C|C\+\+|Fortran) compiler (?:cannot create executables|not found)"
        r"|error: (?:linker `cc`|can't find Rust compiler)",
        (
            *("failed: No such file", "unable to execute", "[Errno 2] No such file", "Visual C++"),
            *("compiler cannot", "compiler not found", "linker `cc`", "Rust compiler"),
        ),
        0.85,
        build=_compiler_missing,
    ),
    Rule(
        "compiler-failed",
        DM,
        "c-build-failed",
        r"error: command '(?P<compiler>[^']+)' failed with exit (?:code|status) [0-9]+",
        ("failed with exit",),
        0.8,
        build=_compiler_failed,
    ),
    Rule(
        "pkg-config-missing-library",
        DM,
        "missing-system-library",
        r"Package '?(?P<library>[A-Za-z0-9_.+-]+)'?,? "
        r"(?:was not found in the pkg-config search path|required by '[^']*', not found)"
        r"|No package '(?P<library2>[^']+)' found"
        r"|Can not find valid pkg-config name"
        r"|Dependency \"?(?P<library3>[A-Za-z0-9_.+-]+)\"? not found, tried pkgconfig"
        r"|Dependency \"(?P<library4>[A-Za-z0-9_.+-]+)\" not found",
        (
            "pkg-config search path",
            "No package '",
            "valid pkg-config name",
            "not found, tried",
            'Dependency "',
            "not found",
        ),
        0.85,
        build=lambda rule, hit: (
            _pkg_config(
                rule,
                Hit(hit.ctx, hit.idx, hit.match),
            )
            if not (lib := hit.match["library2"] or hit.match["library3"] or hit.match["library4"])
            else rule.finding(hit, {"library": lib})
        ),
        retain=("pkg-config search path", "No package '", "valid pkg-config name", "not found, tried"),
    ),
    Rule(
        "python-h-hint",
        DM,
        "missing-c-header",
        r"(?:You need to install|install) (?:the )?python3?(?:\.[0-9]+)?-dev(?:el)?",
        ("-dev",),
        0.6,
        retain=(),
    ),
    # Notebooks
    Rule(
        "notebook-cell-error",
        Category.TEST_FAILURE,
        "notebook-cell-error",
        r"(?:CellExecutionError|PapermillExecutionError)",
        ("CellExecutionError", "PapermillExecutionError"),
        0.85,
        build=_notebook,
    ),
    Rule(
        "notebook-cell-timeout",
        Category.TIMEOUT,
        "notebook-cell-timeout",
        r"A cell timed out while it was being executed, after (?P<limit>[0-9]+) seconds",
        ("A cell timed out",),
        0.9,
    ),
    Rule(
        "notebook-dead-kernel",
        Category.OUT_OF_MEMORY,
        "notebook-kernel-died",
        r"DeadKernelError: Kernel died|Kernel died while waiting for execute reply",
        ("Kernel died",),
        0.6,
    ),
    # Data validation
    Rule(
        "pandera",
        Category.TEST_FAILURE,
        "data-validation-failed",
        r"(?:pandera\.errors\.)?SchemaErrors?: ?(?P<message>.*)$",
        ("SchemaError",),
        0.85,
        build=_pandera,
    ),
    Rule(
        "pydantic",
        Category.TEST_FAILURE,
        "data-validation-failed",
        r"(?<![0-9])(?P<count>[0-9]{1,9}) validation errors? for (?P<model>[A-Za-z0-9_\[\].,]+)",
        ("validation error",),
        0.85,
        build=_pydantic,
    ),
    Rule(
        "great-expectations",
        Category.TEST_FAILURE,
        "data-validation-failed",
        r'^ *"(?:type|expectation_type)": "(?P<expectation>expect_[a-z0-9_]+)"',
        ('"type": "expect_', '"expectation_type": "expect_'),
        0.8,
        build=_great_expectations,
    ),
    # Hubs and object stores
    Rule(
        "hf-repo-not-found",
        Category.DATA_MISSING,
        "hub-repo-not-found",
        r"RepositoryNotFoundError|Repository Not Found for url",
        ("RepositoryNotFoundError", "Repository Not Found"),
        0.85,
        build=_hub,
    ),
    Rule(
        "hf-entry-not-found",
        Category.DATA_MISSING,
        "hub-file-not-found",
        r"(?:Remote)?EntryNotFoundError|Entry Not Found for url",
        ("EntryNotFoundError", "Entry Not Found"),
        0.85,
        build=_hub,
    ),
    Rule(
        "hf-revision-not-found",
        Category.DATA_MISSING,
        "hub-revision-not-found",
        r"RevisionNotFoundError|Revision Not Found for url",
        ("RevisionNotFoundError", "Revision Not Found"),
        0.85,
        build=_hub,
    ),
    Rule(
        "hf-gated-or-unauthorized",
        Category.PERMISSION_DENIED,
        "hub-unauthorized",
        r"GatedRepoError|401 Client Error.{0,40}for url: \S*hf|Invalid credentials in Authorization header"
        r"|Invalid user token|You are trying to access a gated repo|Cannot access gated repo",
        (
            "GatedRepoError",
            "401 Client Error",
            "Invalid credentials in Authorization",
            "Invalid user token",
            "gated repo",
        ),
        0.85,
        build=_hub,
    ),
    Rule(
        "hf-cli-not-found",
        Category.DATA_MISSING,
        "hub-repo-not-found",
        r"Error: (?:Model|Dataset|Space|Repository|Repo) '(?P<repo>[^']+)' not found",
        ("' not found",),
        0.8,
        build=_cloud_status,
    ),
    Rule(
        "hf-offline",
        Category.NETWORK_TRANSIENT,
        "hub-unreachable",
        r"LocalEntryNotFoundError|We couldn't connect to '[^']+' to load",
        ("LocalEntryNotFoundError", "We couldn't connect to"),
        0.6,
        build=_hub,
    ),
    Rule(
        "aws-client-error",
        Category.DATA_MISSING,
        "object-not-found",
        r"An error occurred \((?P<code>[A-Za-z0-9]+)\) when calling the (?P<operation>[A-Za-z0-9]+) operation",
        ("An error occurred (",),
        0.85,
        build=_botocore,
    ),
    Rule(
        "aws-no-credentials",
        Category.PERMISSION_DENIED,
        "cloud-no-credentials",
        r"NoCredentialsError|Unable to locate credentials|PartialCredentialsError"
        r"|DefaultCredentialsError|default credentials were not found|Could not automatically determine credentials"
        r"|ClientAuthenticationError|DefaultAzureCredential failed",
        (
            "NoCredentialsError",
            "Unable to locate credentials",
            "PartialCredentialsError",
            "DefaultCredentialsError",
            "default credentials were not found",
            "determine credentials",
            "ClientAuthenticationError",
            "DefaultAzureCredential",
        ),
        0.85,
    ),
    Rule(
        "gcs-not-found",
        Category.DATA_MISSING,
        "object-not-found",
        r"google\.api_core\.exceptions\.NotFound: 404|No such object: (?P<object>\S+)|BucketNotFoundException"
        r"|The specified (?:blob|container) does not exist",
        ("NotFound: 404", "No such object", "BucketNotFoundException", "does not exist"),
        0.85,
        build=_cloud_status,
        retain=(
            "NotFound: 404",
            "No such object",
            "BucketNotFoundException",
            "The specified blob",
            "The specified container",
        ),
    ),
    Rule(
        "gcs-forbidden",
        Category.PERMISSION_DENIED,
        "object-store-access-denied",
        r"google\.api_core\.exceptions\.Forbidden: 403|AccessDeniedException: 403|does not have storage\.[a-z.]+ access"
        r"|AuthorizationPermissionMismatch|AuthorizationFailure",
        (
            "Forbidden: 403",
            "AccessDeniedException",
            "does not have storage.",
            "AuthorizationPermissionMismatch",
            "AuthorizationFailure",
        ),
        0.85,
    ),
    # Test runners of other languages
    Rule(
        "jest-summary-tests",
        Category.TEST_FAILURE,
        "jest-failure",
        r"^Tests: +(?P<failed>[0-9]+) failed",
        ("Tests:",),
        0.9,
        build=_jest,
    ),
    Rule(
        "js-coverage-threshold",
        Category.TEST_FAILURE,
        "coverage-threshold",
        r"Jest: Coverage for (?P<metric>[a-z]+) \((?P<actual>[0-9.]+%)\) does not meet "
        r"\"?(?P<scope>[^\" ]+)\"? threshold \((?P<threshold>[0-9.]+%)\)"
        r"|Jest: \"(?P<scope2>[^\"]+)\" coverage threshold for (?P<metric2>[a-z]+) \((?P<threshold2>[0-9.]+%)\) not met"
        r"|ERROR: Coverage for (?P<metric3>[a-z]+) \((?P<actual3>[0-9.]+%)\) does not meet (?:global )?threshold"
        r"|ERROR: Coverage for (?P<metric4>[a-z]+) \([0-9.]+%\) does not meet",
        ("does not meet", "coverage threshold for"),
        0.85,
        build=lambda rule, hit: rule.finding(hit, {"runner": "jest" if "Jest" in hit.line[1] else "js", **_named(hit)}),
    ),
    Rule(
        "jest-suites-failed",
        Category.SYNTAX_ERROR,
        "jest-suite-failed",
        r"^Test Suites: +(?P<failed>[0-9]+) failed",
        ("Test Suites:",),
        0.85,
        build=_jest_suites,
    ),
    Rule(
        "vitest-summary",
        Category.TEST_FAILURE,
        "vitest-failure",
        r"^ *Tests +(?P<failed>[0-9]+) failed(?: \| [0-9]+ [a-z]+)* \([0-9]+\)",
        ("Tests ",),
        0.9,
        build=_vitest,
        retain=(" failed | ", " failed ("),
    ),
    Rule(
        "mocha-failing",
        Category.TEST_FAILURE,
        "mocha-failure",
        r"^ +(?P<failed>[0-9]+) failing$",
        (" failing",),
        0.9,
        build=_mocha,
    ),
    Rule(
        "go-test-fail",
        Category.TEST_FAILURE,
        "go-test-failure",
        r"^FAIL(?:\t| +)(?P<go_package>\S+)(?:\t| +)(?:[0-9.]+s|\[build failed\]|\[setup failed\])",
        ("FAIL",),
        0.9,
        build=_go_test,
        retain=("FAIL\t", "--- FAIL: ", "panic: "),
    ),
    Rule(
        "cargo-test-failed",
        Category.TEST_FAILURE,
        "cargo-test-failure",
        r"^test result: FAILED\.",
        ("test result: FAILED",),
        0.9,
        build=_cargo,
        retain=("test result: FAILED", "---- ", "panicked at"),
    ),
    Rule(
        "go-compile-error",
        Category.SYNTAX_ERROR,
        "go-compile-error",
        r"^(?P<file>\S+\.go):(?P<line>[0-9]+)(?::(?P<col>[0-9]+))?: (?P<message>.+)$",
        (".go:",),
        0.8,
        build=_go_diagnostic,
    ),
)

# The wrapper rules, which walk a session's lines with every other rule (`_MESSAGE_RULES` + core).
INNER_RULES: tuple[Rule, ...] = _MESSAGE_RULES

_WRAPPER_RULES: tuple[Rule, ...] = (
    Rule(
        "pre-commit-step",
        Category.LINT_FAILURE,
        "pre-commit-hook",
        r"Process completed with exit code (?P<code>[0-9]+)",
        ("Process completed with exit code",),
        0.9,
        build=_step_exit,
    ),
    Rule(
        "pre-commit-hook",
        Category.LINT_FAILURE,
        "pre-commit-hook",
        r"^- hook id: (?P<hook>\S+)$",
        ("- hook id: ",),
        0.85,
        build=_precommit_hook_line,
    ),
    Rule(
        "tox4-session",
        Category.TEST_FAILURE,
        "session-failed",
        r"^ *(?P<env>[A-Za-z0-9_.-]+): FAIL code [0-9]+",
        (": FAIL code",),
        0.8,
        build=_tox,
    ),
    Rule(
        "tox3-session",
        Category.TEST_FAILURE,
        "session-failed",
        r"^(?P<tox3>ERROR: InvocationError for command) (?P<command>.+?)(?: \(exited with code [0-9]+\))?$"
        r"|^ERROR: +(?P<env>[A-Za-z0-9_.-]+): commands failed$",
        ("InvocationError for command", ": commands failed"),
        0.8,
        build=lambda rule, hit: _tox(rule, hit),
    ),
    Rule(
        "nox-session",
        Category.TEST_FAILURE,
        "session-failed",
        r"^nox > Session (?P<env>\S+) (?:failed|aborted)",
        ("nox > Session",),
        0.8,
        build=_nox,
    ),
)

TOOLCHAIN_RULES: tuple[Rule, ...] = (*_WRAPPER_RULES, *_MESSAGE_RULES)

# The literals the streaming pass keeps from anywhere in the log for these rules. Deliberately few: each
# literal costs every line of every log a little, and these families state their cause near the end of
# the log, inside the classifier's tail window (`WINDOW_LINES`), where every line is seen. Kept from
# further up: pre-commit's hook ids and Go's failed tests (long hook and test output follows them) and
# the quota messages (steps that run `if: always()` may follow them).
TOOLCHAIN_LITERALS: tuple[str, ...] = (
    "- hook id: ",
    "--- FAIL: ",
    "Artifact storage quota",
    "over its data quota",
    "LFS budget",
)
