"""Log reading: GitHub line format, streaming, magic-byte detection and the run-logs zip layout."""

from __future__ import annotations

import gzip
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from mlops_bot.diagnosis import Category, diagnose_lines, diagnose_path, diagnose_zip
from mlops_bot.diagnosis.logs import (
    MAX_LINE_CHARS,
    display_line,
    iter_text_lines,
    list_run_logs,
    member_contains,
    normalize_line,
    sniff,
)

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"


def corpus_text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8-sig")


def test_normalize_strips_timestamp_colours_and_line_end() -> None:
    raw = "2024-01-15T10:20:30.1234567Z \x1b[31m\x1b[1mFAILED\x1b[0m tests/test_x.py::test_y\r\n"
    assert normalize_line(raw) == "FAILED tests/test_x.py::test_y"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("\ufeff2024-01-15T10:20:30.1234567Z Current runner version: '2.311.0'", "Current runner version: '2.311.0'"),
        ("2024-01-15T10:20:30Z short timestamp", "short timestamp"),
        ("2024-01-15T10:20:30.123Z ##[group]Run pytest", "##[group]Run pytest"),
        ("no timestamp here", "no timestamp here"),
        ("Downloading 10%\rDownloading 55%\rDownloaded", "Downloaded"),
        ("\x1b]8;;https://example.invalid\x07link\x1b]8;;\x07 text", "link text"),
    ],
)
def test_normalize_handles_github_and_terminal_variants(raw: str, text: str) -> None:
    assert normalize_line(raw) == text


def test_overlong_lines_are_cut_but_counted_once() -> None:
    blob = b"a" * (MAX_LINE_CHARS * 3 + 5) + b"\nsecond\nthird"
    lines = list(iter_text_lines(io.BytesIO(blob)))
    assert [len(line) for line in lines] == [MAX_LINE_CHARS, 7, 5]
    assert lines[1:] == ["second\n", "third"]


def test_undecodable_bytes_do_not_stop_the_diagnosis() -> None:
    lines = list(iter_text_lines(io.BytesIO(b"caf\xe9\nModuleNotFoundError: No module named 'cv2'\n")))
    assert lines[0] == "caf\ufffd\n"
    assert diagnose_lines(lines).details["package"] == "opencv-python"


def test_sniff_uses_magic_bytes() -> None:
    assert sniff(b"PK\x03\x04") == "zip"
    assert sniff(b"\x1f\x8b\x08\x00") == "gzip"
    assert sniff(b"2024") == "text"


def test_diagnose_path_detects_zip_and_gzip_by_content_not_name(tmp_path: Path) -> None:
    disguised = tmp_path / "download.log"
    shutil.copy(CORPUS / "run_logs_missing_module.zip", disguised)
    assert diagnose_path(disguised).details["package"] == "opencv-python"

    compressed = tmp_path / "job.txt"
    compressed.write_bytes(gzip.compress((CORPUS / "mypy.log").read_bytes()))
    assert diagnose_path(compressed).kind == "mypy"


def test_run_logs_are_listed_in_run_order() -> None:
    with zipfile.ZipFile(CORPUS / "run_logs_two_jobs_lint.zip") as archive:
        jobs, steps = list_run_logs(archive)
    assert [job.member for job in jobs] == ["0_test.txt", "1_lint.txt"]
    assert [step.member for step in steps] == [
        "test/1_Set up job.txt",
        "test/2_Test.txt",
        "test/3_Complete job.txt",
        "lint/1_Set up job.txt",
        "lint/2_Ruff.txt",
        "lint/3_Complete job.txt",
    ]
    assert [step.name for step in steps if step.job == "lint"] == ["Set up job", "Ruff", "Complete job"]


def test_member_contains_finds_needles_across_chunk_boundaries() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job/1_step.txt", b"x" * 10 + b"##[error]boom")
    with zipfile.ZipFile(buffer) as archive:
        assert member_contains(archive, "job/1_step.txt", b"##[error]", chunk_size=12)
        assert not member_contains(archive, "job/1_step.txt", b"##[warning]", chunk_size=12)


def test_zip_reads_the_failing_step_first_from_a_file_object() -> None:
    data = (CORPUS / "run_logs_missing_module.zip").read_bytes()
    problem = diagnose_zip(io.BytesIO(data))
    assert problem.step == "Test"
    assert problem.details["log_member"] == "build/3_Test.txt"
    # Line numbers are those of the step file, not of the full job log.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        step_lines = archive.read("build/3_Test.txt").decode("utf-8-sig").splitlines()
    assert all(item.text in step_lines[item.line - 1] for item in problem.evidence)


def test_zip_without_error_lines_uses_the_last_step_then_the_job_log() -> None:
    problem = diagnose_zip(CORPUS / "run_logs_runner_lost.zip")
    assert (problem.category, problem.kind) == (Category.INFRASTRUCTURE, "runner-lost")
    assert problem.details["log_member"] == "0_train.txt"


def test_zip_with_only_job_logs_is_diagnosed(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("0_build.txt", (CORPUS / "ruff_check.log").read_bytes())
    problem = diagnose_path(path)
    assert problem.kind == "ruff"
    assert problem.details["log_member"] == "0_build.txt"


def test_zip_without_run_logs_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.md", "not a log")
    assert diagnose_zip(path).category is Category.UNKNOWN


def test_diagnose_lines_accepts_lines_with_or_without_line_ends() -> None:
    text = corpus_text("pytest_assertion.log")
    with_ends = diagnose_lines(text.splitlines(keepends=True))
    without_ends = diagnose_lines(text.splitlines())
    assert with_ends == without_ends
    assert with_ends.details["tests"] == ["tests/test_model.py::test_accuracy"]


def test_explicit_step_overrides_the_inferred_one() -> None:
    lines = corpus_text("mypy.log").splitlines()
    assert diagnose_lines(lines).step == "Run mypy src/"
    assert diagnose_lines(lines, step="Type check").step == "Type check"


def test_plain_tool_output_without_github_framing_is_diagnosed() -> None:
    output = [line for line in corpus_text("py_missing_module_sklearn.log").splitlines() if "##[" not in line]
    bare = [normalize_line(line) for line in output]
    problem = diagnose_lines(bare)
    assert problem.details["package"] == "scikit-learn"
    assert problem.step is None


def test_empty_log_is_unknown() -> None:
    assert diagnose_lines([]).category is Category.UNKNOWN


@pytest.mark.parametrize(
    ("marked", "shown"),
    [
        ("##[error]Process completed with exit code 1.", "Error: Process completed with exit code 1."),
        ("##[warning]Node.js 16 actions are deprecated.", "Warning: Node.js 16 actions are deprecated."),
        ("##[group]Run pytest", "Run pytest"),
        ("##[endgroup]", ""),
        ("plain output", "plain output"),
    ],
)
def test_display_line_reads_like_the_web_ui(marked: str, shown: str) -> None:
    assert display_line(marked) == shown


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("oom_killed.log", Category.OUT_OF_MEMORY),
        ("command_timeout.log", Category.TIMEOUT),
        ("pip_index_unreachable.log", Category.NETWORK_TRANSIENT),
        ("unknown_exit.log", Category.UNKNOWN),
    ],
)
def test_log_copied_from_the_web_ui_is_diagnosed(name: str, category: Category) -> None:
    copied = [display_line(normalize_line(line)) for line in corpus_text(name).splitlines()]
    assert not any(line.startswith("##[") for line in copied)
    assert diagnose_lines(copied).category is category


def test_block_reading_keeps_the_line_semantics_of_line_reading() -> None:
    from mlops_bot.diagnosis.logs import MAX_LINE_CHARS, iter_byte_blocks

    blob = (
        b"\xef\xbb\xbffirst\r\n"
        + b"x" * (3 * MAX_LINE_CHARS)
        + b" tail of an overlong line\nModuleNotFoundError: No module named 'cv2'\nlast"
    )
    for size in (7, 1000, 1 << 18):
        lines = b"".join(iter_byte_blocks(io.BytesIO(blob), size)).decode("utf-8", "replace").split("\n")
        # Same lines, counted once each; an overlong line keeps (at least) its head.
        head = MAX_LINE_CHARS - 1
        assert [line[:head] for line in lines] == [
            line.rstrip("\n")[:head] for line in iter_text_lines(io.BytesIO(blob))
        ]


@pytest.mark.parametrize("size", [1, 97, 1 << 18])
def test_the_block_scanner_agrees_with_the_line_scanner_on_every_corpus_log(size: int) -> None:
    from mlops_bot.diagnosis.classifier import LogScanner, classify
    from mlops_bot.diagnosis.logs import iter_byte_blocks

    corpus = Path(__file__).resolve().parents[2] / "data" / "logs"
    for path in sorted(corpus.glob("*.log")):
        scanner = LogScanner()
        with path.open("rb") as stream:
            for block in iter_byte_blocks(stream, size):
                scanner.feed_bytes(block)
        by_lines = diagnose_lines(iter_text_lines(path.open("rb")))
        assert classify(scanner) == by_lines, path.name
