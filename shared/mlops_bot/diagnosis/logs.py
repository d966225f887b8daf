"""Reading CI logs: GitHub Actions line format, streaming readers and the run-logs zip layout.

Logs can be hundreds of megabytes (a chatty training job), and the bot runs in a Lambda with little
memory, so nothing here materialises a whole log: readers yield one line at a time, overlong lines are
cut, and zip members are opened as streams.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from mlops_bot.diagnosis.records import FrozenRecord

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    import zipfile
    from typing import IO

    BinaryStream = IO[bytes]

# A line longer than this is cut (the rest is skipped, the line still counts once): a minified bundle or
# a progress bar without newlines must not make memory grow with the line.
MAX_LINE_CHARS = 16_384

# GitHub prefixes every line with an ISO-8601 timestamp with 7 fractional digits and a space.
_TIMESTAMP = re.compile(r"\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
# CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks) as emitted by pytest, npm, ruff.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
ERROR_MARKER = "##[error]"


def normalize_line(raw: str) -> str:
    """Strip what GitHub and terminals add around a tool's message: timestamp, colours, line end.

    `##[...]` markers are kept on purpose: ``##[error]`` and ``##[group]Run ...`` carry meaning.
    (The classifier's hot loop inlines the common case of this function.)
    """
    text = strip_timestamp(raw.rstrip("\r\n"))
    return clean_terminal(text) if "\x1b" in text or "\r" in text else text


_ANNOTATIONS = {"##[error]": "Error: ", "##[warning]": "Warning: ", "##[notice]": "Notice: "}


def display_line(text: str) -> str:
    """A normalised line as GitHub's web UI shows it: ``##[error]x`` reads ``Error: x``, other markers go.

    Evidence uses this form so that it matches what a person copies from the UI.
    """
    if not text.startswith("##["):
        return text
    for marker, label in _ANNOTATIONS.items():
        if text.startswith(marker):
            return label + text[len(marker) :]
    end = text.find("]")
    return text[end + 1 :] if end != -1 else text


def strip_timestamp(text: str) -> str:
    """Drop a leading ISO-8601 timestamp (and a byte-order mark) if there is one."""
    if text[27:29] == "Z " and text[10:11] == "T":  # GitHub's exact format: 7 fractional digits
        return text[29:]
    match = _TIMESTAMP.match(text)
    return text[match.end() :] if match is not None else text


def clean_terminal(text: str) -> str:
    """Remove ANSI escapes; of a line redrawn with carriage returns keep what a terminal would show."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1] or text.replace("\r", "")
    return text


def iter_text_lines(stream: BinaryStream) -> Iterator[str]:
    """Yield decoded lines from a binary stream, each at most `MAX_LINE_CHARS` long.

    Only ``\\n`` ends a line (as in GitHub's line numbering); undecodable bytes are replaced rather
    than failing the whole diagnosis.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="\n")
    readline = text.readline
    while True:
        line = readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) == MAX_LINE_CHARS and not line.endswith("\n"):
            rest = line
            while rest and not rest.endswith("\n"):  # drain the overlong line without keeping it
                rest = readline(MAX_LINE_CHARS)
        yield line


def iter_byte_blocks(stream: BinaryStream, size: int = 1 << 18) -> Iterator[bytes]:
    """Yield the stream's bytes in blocks of whole lines (each ending with ``\\n``, but maybe the last).

    Same line semantics as `iter_text_lines`: only ``\\n`` ends a line (a UTF-8 continuation byte never
    is one), a leading byte-order mark is dropped, and an unfinished line longer than `MAX_LINE_CHARS`
    bytes keeps its head and counts once, so memory stays bounded by `size`.
    """
    read = stream.read
    carry = b""
    skipping = False
    first = True
    while True:
        chunk = read(size)
        if first:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
            first = False
        if not chunk:
            if carry:
                yield carry
            return
        if skipping:
            newline = chunk.find(b"\n")
            if newline == -1:
                continue
            chunk = chunk[newline + 1 :]
            skipping = False
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        block, carry = data[:cut], data[cut:]
        if len(carry) >= MAX_LINE_CHARS:  # an unfinished overlong line: keep its head, skip the rest
            block += carry[: MAX_LINE_CHARS - 1] + b"\n"
            carry = b""
            skipping = True
        if block:
            yield block


def sniff(head: bytes) -> str:
    """Tell a zip (GitHub run logs), a gzip'd log and plain text apart by magic bytes, not by name."""
    if head[:4] in ZIP_MAGIC:
        return "zip"
    if head[:2] == GZIP_MAGIC:
        return "gzip"
    return "text"


def open_text_log(path: str) -> BinaryStream:
    """Open a plain or gzip-compressed log as a binary stream (the caller owns closing it)."""
    with open(path, "rb") as probe:
        head = probe.read(4)
    if sniff(head) == "gzip":
        import gzip
        from typing import cast

        return cast("BinaryStream", gzip.open(path, "rb"))
    return open(path, "rb", buffering=1 << 20)


class StepLog(FrozenRecord):
    """One per-step file of a run-logs zip, e.g. ``build/2_Install dependencies.txt``."""

    __slots__ = ("job", "member", "name", "number")
    _fields = ("member", "job", "number", "name")
    member: str
    job: str
    number: int
    name: str

    def __init__(self, member: str, job: str, number: int, name: str) -> None:
        self._init(member=member, job=job, number=number, name=name)


class JobLog(FrozenRecord):
    """One full job log at the top of a run-logs zip, e.g. ``0_build.txt``."""

    __slots__ = ("member", "name", "number")
    _fields = ("member", "number", "name")
    member: str
    number: int
    name: str

    def __init__(self, member: str, number: int, name: str) -> None:
        self._init(member=member, number=number, name=name)


_NUMBERED = re.compile(r"^(\d+)_(.*)\.txt$")


def list_run_logs(archive: zipfile.ZipFile) -> tuple[list[JobLog], list[StepLog]]:
    """Split a GitHub run-logs zip into full job logs and per-step logs, both in run order.

    Only the central directory is read; members are opened later, one at a time.
    """
    from pathlib import PurePosixPath

    jobs: list[JobLog] = []
    steps: list[StepLog] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        path = PurePosixPath(info.filename)
        match = _NUMBERED.match(path.name)
        if match is None:
            continue
        number, name = int(match.group(1)), match.group(2)
        if len(path.parts) == 1:
            jobs.append(JobLog(member=info.filename, number=number, name=name))
        elif len(path.parts) == 2:
            steps.append(StepLog(member=info.filename, job=path.parts[0], number=number, name=name))
    jobs.sort(key=lambda job: job.number)
    job_order = {job.name: job.number for job in jobs}
    steps.sort(key=lambda step: (job_order.get(step.job, len(job_order)), step.job, step.number))
    return jobs, steps


def member_contains(archive: zipfile.ZipFile, member: str, needle: bytes, chunk_size: int = 1 << 18) -> bool:
    """Whether a zip member contains `needle`, scanning it in chunks so memory stays flat."""
    overlap = len(needle) - 1
    tail = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(chunk_size)
            if not chunk:
                return False
            window = tail + chunk
            if needle in window:
                return True
            tail = window[-overlap:] if overlap else b""
