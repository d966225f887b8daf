"""Classify a CI log: one streaming pass, then a backwards walk from the failure.

The pass keeps a ring buffer of the last `WINDOW_LINES` lines plus a bounded set of earlier lines that
contain any rule's literal, the ``Run`` groups (step commands) and test ids seen passing. Memory is thus
bounded whatever the log size. The walk then goes backwards from the end, as Debian Janitor's
buildlog-consultant does: the last lines first, the first strong hit wins, secondary hits only serve
as a low-confidence fallback that points at the likely failure line.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Collection, Iterable

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

from mlops_bot.diagnosis.category import Category
from mlops_bot.diagnosis.confidence import calibrated
from mlops_bot.diagnosis.lazy_re import lazy
from mlops_bot.diagnosis.logs import (
    ERROR_MARKER,
    MAX_LINE_CHARS,
    JobLog,
    StepLog,
    clean_terminal,
    display_line,
    iter_byte_blocks,
    list_run_logs,
    member_contains,
    open_text_log,
    sniff,
    strip_timestamp,
)
from mlops_bot.diagnosis.result import Cited, Diagnosis
from mlops_bot.diagnosis.rules import (
    LITERALS,
    RULES,
    Context,
    Finding,
    LogLine,
    Rule,
    RunGroup,
    Strength,
    literal_pattern,
)
from mlops_bot.diagnosis.toolchain import TOOLCHAIN_LITERALS, TOOLCHAIN_RULES

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    import zipfile
    from typing import IO, Any

    from mlops_bot.diagnosis.logs import BinaryStream
    from mlops_bot.diagnosis.problem import Problem

RULES = (*TOOLCHAIN_RULES, *RULES)  # the rest of the toolchain (toolchain.py), ahead of the core rules

WINDOW_LINES = 250
MAX_CANDIDATES = 4_096
MAX_KEPT_CHARS = 2_000
MAX_GROUPS = 256
MAX_SCRIPT_LINES = 40
MAX_PASSED_TESTS = 20_000
MAX_EVIDENCE_CHARS = 500
MAX_EARLIER_STEPS = 20

# Lines the builders read for context (test ids, tracebacks, lint file names) besides rule literals.
_CONTEXT_LITERALS = (
    "##[",
    "E   ",
    "Error: ",
    "FAILED",
    "ERROR",
    "FAIL: ",
    "== test session starts",
    "--> ",
    'File "',
    " RERUN",  # pytest-rerunfailures, verbose
    "out of the required",  # the flaky plugin's report
)
_PREFILTER_LITERALS = frozenset({*LITERALS, *TOOLCHAIN_LITERALS, *_CONTEXT_LITERALS})
# One trie regex over the literals, for `feed_all`'s hot loop; compiled on first use (~10 ms: a CLI run
# reads a file through `feed_bytes` and never needs it).
_PREFILTER = lazy(lambda: literal_pattern(_PREFILTER_LITERALS))


def _automaton() -> BytesAhoCorasick:
    literals = sorted({*_PREFILTER_LITERALS, "PASSED", "\x1b"})
    return BytesAhoCorasick([literal.encode() for literal in literals], matchkind=MatchKind.LeftmostFirst)


_AUTOMATON = _automaton()
# The same question as the prefilter regex (does a line hold any literal?) for a small log's few
# candidate lines: an automaton builds in well under a millisecond, the regex takes ~10 ms to compile
# but then answers faster (a big log has thousands of candidates). `feed_bytes` picks by block size.
_PREFILTER_AUTOMATON = AhoCorasick(sorted(_PREFILTER_LITERALS), matchkind=MatchKind.LeftmostFirst)
PREFILTER_REGEX_MIN_BYTES = 64 * 1024


def _automaton_search(text: str) -> list[tuple[int, int, int]] | None:
    """`_PREFILTER.search` answered by `_PREFILTER_AUTOMATON`: not None when `text` holds a literal."""
    return _PREFILTER_AUTOMATON.find_matches_as_indexes(text) or None


def _normalize(raw: str) -> str:
    """`normalize_line` with the common case (GitHub's timestamp) inlined."""
    text = raw.rstrip("\r")
    if text[27:29] == "Z " and text[10:11] == "T":
        text = text[29:]
    elif text[4:5] == "-" or text[:1] == "\ufeff":
        text = strip_timestamp(text)
    if "\x1b" in text or "\r" in text:
        text = clean_terminal(text)
    return text


# A pytest node id (`path::name`, one word) before or after PASSED. The word is taken whole
# (possessive) and the `::` checked by a lookahead: `[^ ]+::[^ ]+` backtracked quadratically
# on a long word of colons (a 16 KB line cost 1.5 s; bench/bench_diagnosis_hostile.py).
_PASSED = re.compile(r"^(?:(?=[^ ]+::[^ ])(?P<id>[^ ]++) PASSED|PASSED (?=[^ ]+::[^ ])(?P<id2>[^ ]++))")
_EXIT_CODE = re.compile(r"Process completed with exit code ([0-9]+)")


class LogScanner:
    """The streaming half of the classifier: feed lines, then ask for a `Context`.

    Kept separate so callers with their own line source (an API stream, a zip member) reuse it.
    """

    def __init__(self, window: int = WINDOW_LINES, max_candidates: int = MAX_CANDIDATES) -> None:
        self.count = 0
        self._ring: deque[str] = deque(maxlen=window)
        self._candidates: deque[LogLine] = deque(maxlen=max_candidates)
        self._groups: deque[RunGroup] = deque(maxlen=MAX_GROUPS)
        self._open_group: tuple[int, str, list[str]] | None = None
        self._passed: set[str] = set()
        self._failed_step_line: int | None = None
        self._failed_steps: list[tuple[int, int]] = []  # (Run group line, error line), in log order
        self._script_pending = False  # feed_bytes: a Run group opened, its command lines still to read

    def feed(self, raw: str) -> None:
        """Add one raw log line."""
        self.feed_all((raw,))

    def feed_all(self, lines: Iterable[str]) -> LogScanner:
        """Add raw log lines. This is the hot loop, so the common case is inlined:
        a line matching no literal costs a slice test, a deque append and one regex search.
        """
        ring_append = self._ring.append
        search = _PREFILTER.compiled.search
        count = self.count
        for raw in lines:
            count += 1
            text = raw.rstrip("\r\n")
            if text[27:29] == "Z " and text[10:11] == "T":  # GitHub's timestamp, the usual case
                text = text[29:]
            elif text[4:5] == "-" or text[:1] == "\ufeff":
                text = strip_timestamp(text)
            if "\x1b" in text or "\r" in text:
                text = clean_terminal(text)
            ring_append(text)
            if self._open_group is not None and not text.startswith("##["):
                script = self._open_group[2]
                if len(script) < MAX_SCRIPT_LINES:
                    script.append(text)
            if search(text) is not None:
                self.count = count
                self._retain(text)
            elif "PASSED" in text:  # verbose test runs: remembered as ids, not kept as lines
                self._note_passed(text)
        self.count = count
        return self

    def feed_bytes(self, block: bytes) -> LogScanner:
        """Add a block of whole lines of UTF-8 (as `iter_byte_blocks` yields): the fast path for big logs.

        An Aho-Corasick automaton (Rust, SIMD prefilters) finds the lines holding any literal in one
        pass over the raw bytes; only those lines (and the tail, and the commands under a ``Run``
        group) are decoded and handled in Python. Equivalent to `feed_all` over the block's lines:
        candidates are normalised and checked again with the same prefilter, and every line with an
        escape sequence is a candidate, since removing colours can reveal a literal.
        """
        if not block:
            return self
        base = self.count
        total = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        find, rfind, count_nl = block.find, block.rfind, block.count
        if len(block) >= PREFILTER_REGEX_MIN_BYTES or _PREFILTER.is_compiled:
            search: Callable[[str], object] = _PREFILTER.compiled.search
        else:
            search = _automaton_search
        if self._script_pending:
            self._capture_script(block, 0)
        position, lineno = 0, base  # lineno: number of the line that ends just before `position`
        for _, first, _ in _AUTOMATON.find_matches_as_indexes(block):
            if first < position:  # another literal on a line already handled
                continue
            start = rfind(b"\n", 0, first) + 1
            lineno += count_nl(b"\n", position, start) + 1
            stop = find(b"\n", first)
            if stop == -1:
                stop = len(block)
            position = stop + 1
            text = _normalize(block[start : min(stop, start + MAX_LINE_CHARS)].decode("utf-8", "replace"))
            if search(text) is not None:
                self.count = lineno
                self._retain(text)
                if self._script_pending:
                    self._capture_script(block, position)
            elif "PASSED" in text:
                self._note_passed(text)
        self.count = base + total
        window = self._ring.maxlen or WINDOW_LINES
        tail = block.rsplit(b"\n", window + 1)
        if block.endswith(b"\n"):
            tail.pop()
        if len(tail) > window:
            tail = tail[1:]
        self._ring.extend(_normalize(line[:MAX_LINE_CHARS].decode("utf-8", "replace")) for line in tail)
        return self

    def _capture_script(self, block: bytes, position: int) -> None:
        """Record the lines under an open ``Run`` group (its command), from `position` in `block`."""
        if self._open_group is None:
            self._script_pending = False
            return
        script = self._open_group[2]
        while len(script) < MAX_SCRIPT_LINES and position < len(block):
            stop = block.find(b"\n", position)
            if stop == -1:
                stop = len(block)
            raw = block[position : min(stop, position + MAX_LINE_CHARS)]
            text = _normalize(raw.decode("utf-8", "replace"))
            if text.startswith("##["):
                self._script_pending = False
                return
            script.append(text)
            position = stop + 1
        self._script_pending = len(script) < MAX_SCRIPT_LINES

    def _retain(self, text: str) -> None:
        if text.startswith("##["):
            self._marker(text)
        elif text.startswith("Error: Process completed"):  # a log copied from the web UI
            self._marker(ERROR_MARKER + text[len("Error: ") :])
        if "PASSED" in text:
            self._note_passed(text)
        self._candidates.append((self.count, text[:MAX_KEPT_CHARS]))

    def _note_passed(self, text: str) -> None:
        passed = _PASSED.match(text)
        if passed is not None and len(self._passed) < MAX_PASSED_TESTS:
            self._passed.add(passed["id"] or passed["id2"])

    def _marker(self, text: str) -> None:
        if text.startswith("##[group]"):
            self._close_group()
            if text.startswith("##[group]Run "):
                self._open_group = (self.count, text[len("##[group]") :], [])
            self._script_pending = self._open_group is not None
        elif text.startswith("##[endgroup]"):
            self._close_group()
        elif text.startswith(ERROR_MARKER) and _EXIT_CODE.search(text):
            group_line: int | None = None
            if self._open_group is not None:
                group_line = self._open_group[0]
            elif self._groups:
                group_line = self._groups[-1].line
            if group_line is not None:
                if self._failed_step_line is None:
                    self._failed_step_line = group_line
                if len(self._failed_steps) < MAX_GROUPS:
                    self._failed_steps.append((group_line, self.count))

    def _close_group(self) -> None:
        if self._open_group is not None:
            line, title, script = self._open_group
            self._groups.append(RunGroup(line, title, tuple(script)))
            self._open_group = None

    @property
    def failed_steps(self) -> list[tuple[int, int]]:
        """Every step that ended with a non-zero exit code: (``Run`` group line, error line), in order."""
        return list(self._failed_steps)

    @property
    def failed_step_line(self) -> int | None:
        """The ``##[group]Run`` line of the first step that ended with a non-zero exit code."""
        return self._failed_step_line

    def context(self, own_packages: Collection[str] = ()) -> Context:
        """Retained lines in log order: earlier candidates, then the contiguous tail window."""
        self._close_group()
        first_window_line = self.count - len(self._ring) + 1
        lines: list[LogLine] = [c for c in self._candidates if c[0] < first_window_line]
        lines.extend((first_window_line + i, text) for i, text in enumerate(self._ring))
        return Context(lines, tuple(self._groups), own_packages, frozenset(self._passed))


# Failures that make later steps fail: a step that failed with these (under ``continue-on-error``) is
# the first cause of what breaks after it. Test, lint and syntax failures of a tolerated step are not.
CAUSE_CATEGORIES = frozenset(
    {
        Category.DEPENDENCY_MISSING,
        Category.DEPENDENCY_RESOLUTION,
        Category.NETWORK_TRANSIENT,
        Category.DATA_MISSING,
        Category.PERMISSION_DENIED,
        Category.OUT_OF_MEMORY,
        Category.INFRASTRUCTURE,
        Category.TIMEOUT,
    }
)

_STRONG_RULES = tuple(rule for rule in RULES if rule.strength is Strength.STRONG)


def _literal_index() -> tuple[AhoCorasick, list[tuple[int, ...]]]:
    """An automaton over every rule's literals, and for each literal the positions of the rules naming it."""
    by_literal: dict[str, list[int]] = {}
    for position, rule in enumerate(RULES):
        for literal in rule.literals:
            by_literal.setdefault(literal, []).append(position)
    literals = list(by_literal)
    return AhoCorasick(literals), [tuple(by_literal[literal]) for literal in literals]


_RULE_LITERALS, _RULES_BY_LITERAL = _literal_index()


def _rules_for(text: str) -> list[Rule]:
    """The rules, in `RULES` order, that name a literal found in `text`: the only ones `Rule.apply` can match.

    One automaton pass per line instead of every rule's ``in`` tests (most lines hold no literal).
    """
    found = _RULE_LITERALS.find_matches_as_indexes(text, overlapping=True)
    if not found:
        return []
    if len(found) == 1:
        return [RULES[position] for position in _RULES_BY_LITERAL[found[0][0]]]
    positions = sorted({position for literal, _, _ in found for position in _RULES_BY_LITERAL[literal]})
    return [RULES[position] for position in positions]


# What a tolerated earlier failure can cause later: a module that was not installed, a file that was not
# downloaded, an error nobody recognises. An assertion or a lint failure later stands on its own.
CONSEQUENCES = frozenset(
    {
        Category.DEPENDENCY_MISSING,
        Category.DEPENDENCY_RESOLUTION,
        Category.DATA_MISSING,
        Category.PERMISSION_DENIED,
        Category.UNKNOWN,
    }
)


def _earlier_cause(ctx: Context, failed_steps: list[tuple[int, int]], step: str | None) -> Diagnosis | None:
    """The first step that failed (and was tolerated) with a cause-like failure, diagnosed alone."""
    numbers = [line for line, _ in ctx.lines]
    for group_line, error_line in failed_steps[:-1]:
        start, stop = bisect_left(numbers, group_line), bisect_right(numbers, error_line)
        for idx in range(stop - 1, start - 1, -1):
            finding = next((f for rule in _STRONG_RULES if (f := rule.apply(ctx, idx)) is not None), None)
            if finding is None:
                continue
            if finding.category in CAUSE_CATEGORIES and finding.confidence >= 0.5:
                finding.details["first_cause"] = True
                return _problem(finding, ctx, step)
            break  # this step failed for another reason (a tolerated lint, a test): look at the next one
    return None


def classify(scanner: LogScanner, step: str | None = None, own_packages: Collection[str] = ()) -> Problem:
    """The first cause: a tolerated step's failure that explains later ones, else the backward walk's."""
    return _classify(scanner, step, own_packages).to_problem()


def _classify(scanner: LogScanner, step: str | None, own_packages: Collection[str]) -> Diagnosis:
    ctx = scanner.context(own_packages)
    if not ctx.lines:
        return Diagnosis.unknown("empty log")
    failed_steps = scanner.failed_steps
    later = _walk(ctx, scanner, step)
    if len(failed_steps) > 1 and later.category in CONSEQUENCES:
        earlier = _earlier_cause(ctx, failed_steps, step)
        if earlier is not None:
            details = {**earlier.details, "later_failure": f"{later.category.value}/{later.kind}"}
            if later.step:
                details["later_step"] = later.step
            return earlier.replace(details=details)
    return later


def _walk(ctx: Context, scanner: LogScanner, step: str | None) -> Diagnosis:
    """Walk the retained lines backwards; the first strong hit wins, else the best secondary hits."""
    window_start = scanner.count - WINDOW_LINES
    failed_step = scanner.failed_step_line
    # Steps ran and none failed: tool messages are warnings the job survived (a caught exception, a
    # retried download). Only the platform's own messages (a lost runner, a job timeout) can explain it.
    all_steps_passed = failed_step is None and bool(ctx.groups)
    secondaries: list[Finding] = []
    survived: Finding | None = None
    for idx in range(len(ctx.lines) - 1, -1, -1):
        for rule in _rules_for(ctx.lines[idx][1]):
            if all_steps_passed and not rule.name.startswith("gha-"):
                continue
            finding = rule.apply(ctx, idx)
            if finding is None:
                continue
            if rule.strength is Strength.STRONG:
                lineno = ctx.lines[idx][0]
                if lineno <= window_start:
                    finding.confidence *= 0.9
                if failed_step is not None and lineno < failed_step:
                    # Before the step that failed: a warning an earlier step survived, most likely. Kept
                    # as a fallback; a pointer into the failing step itself is a better answer.
                    finding.confidence *= 0.5
                    finding.details["outside_failing_step"] = True
                    survived = survived or finding
                    break
                return _problem(finding, ctx, step)
            secondaries.append(finding)
            break
    if survived is not None and not any(
        f.category is not Category.UNKNOWN or f.kind == "exit-code" for f in secondaries
    ):
        return _problem(survived, ctx, step)
    return _from_secondaries(secondaries, ctx, step)


def _from_secondaries(secondaries: list[Finding], ctx: Context, step: str | None) -> Diagnosis:
    known = [f for f in secondaries if f.category is not Category.UNKNOWN]
    if known:
        by_category: dict[Category, list[Finding]] = {}
        for finding in known:
            by_category.setdefault(finding.category, []).append(finding)

        def score(findings: list[Finding]) -> float:
            return min(0.75, max(f.confidence for f in findings) + 0.2 * (len(findings) - 1))

        best = max(by_category.values(), key=score)
        lead = max(best, key=lambda f: f.confidence)
        details: dict[str, Any] = {}
        for finding in best:
            details = {**finding.details, **details}
        evidence = sorted({line for f in best for line in f.evidence})
        merged = Finding(lead.category, lead.kind, score(best), details, evidence)
        return _problem(merged, ctx, step)
    if secondaries:
        # The exception that ended a Python program states more than the runner's exit-code line after it.
        pointer = next((f for f in secondaries if f.kind == "uncaught-exception"), secondaries[0])
        details = {"reason": "no known failure message; evidence points at the likely failure line"}
        details.update(pointer.details)
        merged = Finding(Category.UNKNOWN, "unknown", 0.1, details, sorted(pointer.evidence))
        return _problem(merged, ctx, step)
    return Diagnosis.unknown("no failure found in the log").replace(step=step)


def _problem(finding: Finding, ctx: Context, step: str | None) -> Diagnosis:
    if step is None and finding.evidence:
        group = ctx.group_for(max(line for line, _ in finding.evidence))
        step = group.title if group is not None else None
    return Diagnosis(
        category=finding.category,
        kind=finding.kind,
        details=finding.details,
        evidence=tuple(Cited(line, display_line(text)[:MAX_EVIDENCE_CHARS]) for line, text in finding.evidence),
        confidence=round(calibrated(finding.kind, max(0.0, min(1.0, finding.confidence))), 3),
        step=step,
    )


# --------------------------------------------------------------------------------------------------
# Entry points


def diagnose_lines(lines: Iterable[str], step: str | None = None, *, own_packages: Collection[str] = ()) -> Problem:
    """Diagnose a log given as lines (with or without GitHub timestamps and line ends).

    `own_packages` names the repository's own packages, so that a missing local module is never
    answered with a PyPI namesake.
    """
    return _classify(LogScanner().feed_all(lines), step, own_packages).to_problem()


def diagnose_stream(stream: BinaryStream, step: str | None = None, *, own_packages: Collection[str] = ()) -> Problem:
    """Diagnose a binary stream of log text without reading it whole."""
    return _diagnose_stream(stream, step, own_packages).to_problem()


def diagnose_path(path: str | os.PathLike[str], *, own_packages: Collection[str] = ()) -> Problem:
    """Diagnose a plain (or gzip'd) log or a GitHub run-logs zip, told apart by magic bytes."""
    return diagnosis_of_path(path, own_packages=own_packages).to_problem()


def diagnose_zip(source: str | os.PathLike[str] | IO[bytes], *, own_packages: Collection[str] = ()) -> Problem:
    """Diagnose a GitHub run-logs zip: the failing steps' logs in run order, then the full job log.

    As in a plain log, the first cause wins: a step that failed (under ``continue-on-error``) with a
    cause-like failure (`CAUSE_CATEGORIES`) explains the steps failing after it; otherwise the last failing
    step (the one that stopped the job) decides. Its diagnosis wins unless it is unknown or weak; platform
    messages such as a lost runner only appear in the job log, which is read next. Members are
    streamed; the archive is never loaded whole.
    """
    return _diagnose_zip(source, own_packages).to_problem()


def diagnosis_of_path(path: str | os.PathLike[str], *, own_packages: Collection[str] = ()) -> Diagnosis:
    """`diagnose_path` as a plain `Diagnosis`, for callers that need no pydantic model (the CLI)."""
    name = os.fspath(path)
    with open(name, "rb") as probe:
        head = probe.read(4)
    if sniff(head) == "zip":
        return _diagnose_zip(name, own_packages)
    with open_text_log(name) as stream:
        return _diagnose_stream(stream, None, own_packages)


def _diagnose_stream(stream: BinaryStream, step: str | None, own_packages: Collection[str]) -> Diagnosis:
    scanner = LogScanner()
    for block in iter_byte_blocks(stream):
        scanner.feed_bytes(block)
    return _classify(scanner, step, own_packages)


def _diagnose_zip(source: str | os.PathLike[str] | IO[bytes], own_packages: Collection[str]) -> Diagnosis:
    import zipfile

    with zipfile.ZipFile(source) as archive:
        jobs, steps = list_run_logs(archive)
        needle = ERROR_MARKER.encode()
        failing = [s for s in steps if member_contains(archive, s.member, needle)]
        chosen = failing[-1] if failing else (steps[-1] if steps else None)
        best: Diagnosis | None = None
        if chosen is not None:
            best = _diagnose_member(archive, chosen.member, chosen.name, own_packages)
            if len(failing) > 1 and best.category in CONSEQUENCES:
                for earlier in failing[:-1][:MAX_EARLIER_STEPS]:
                    if earlier.job != chosen.job:
                        continue
                    problem = _diagnose_member(archive, earlier.member, earlier.name, own_packages)
                    if problem.category in CAUSE_CATEGORIES and problem.confidence >= 0.5:
                        details = {
                            **problem.details,
                            "first_cause": True,
                            "later_failure": f"{best.category.value}/{best.kind}",
                            "later_step": chosen.name,
                        }
                        return problem.replace(details=details)
            if best.category is not Category.UNKNOWN and best.confidence >= 0.5:
                return best
        job = _job_for(archive, jobs, chosen, needle)
        if job is not None:
            job_problem = _diagnose_member(archive, job.member, None, own_packages)
            if best is None or _better(job_problem, best):
                best = job_problem
        return best if best is not None else Diagnosis.unknown("the zip holds no GitHub run logs")


def _job_for(archive: zipfile.ZipFile, jobs: list[JobLog], step: StepLog | None, needle: bytes) -> JobLog | None:
    if step is not None:
        named = [job for job in jobs if job.name == step.job]
        if named:
            return named[0]
    with_error = [job for job in jobs if member_contains(archive, job.member, needle)]
    candidates = with_error or jobs
    return candidates[0] if candidates else None


def _better(candidate: Diagnosis, incumbent: Diagnosis) -> bool:
    if incumbent.category is Category.UNKNOWN and candidate.category is not Category.UNKNOWN:
        return True
    if candidate.category is Category.UNKNOWN:
        return False
    return candidate.confidence > incumbent.confidence


def _diagnose_member(
    archive: zipfile.ZipFile, member: str, step: str | None, own_packages: Collection[str]
) -> Diagnosis:
    with archive.open(member) as stream:
        problem = _diagnose_stream(stream, step, own_packages)
    return problem.replace(details={**problem.details, "log_member": member})
