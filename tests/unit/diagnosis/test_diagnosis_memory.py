"""Huge logs are processed in bounded memory (a memory assertion, not a timing one).

The synthetic log repeats real corpus lines (a failing pytest run) for 50 MB and ends with a real pip
failure, so the classifier must stream past lots of plausible-looking failures to find the real one.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

from mlops_bot.diagnosis import Category, Problem, diagnose_path

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"
MB = 1024 * 1024
PEAK_BOUND = 4 * MB  # measured about 1.7 MB for both 5 MB and 50 MB logs


def build_log(path: Path, size: int) -> int:
    """Write `size` bytes of repeated real lines plus a real failing tail; return the line count."""
    source = (CORPUS / "pytest_verbose_color.log").read_text(encoding="utf-8-sig").splitlines()
    filler = [line for line in source if "##[" not in line]
    tail = (CORPUS / "pip_index_unreachable.log").read_text(encoding="utf-8-sig").splitlines()
    block = "\n".join(filler) + "\n"
    written = lines = 0
    with path.open("w", encoding="utf-8") as out:
        while written < size:
            out.write(block)
            written += len(block)
            lines += len(filler)
        out.write("\n".join(tail) + "\n")
    return lines + len(tail)


def diagnose_traced(path: Path) -> tuple[Problem, int]:
    tracemalloc.start()
    try:
        problem = diagnose_path(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return problem, peak


def test_50mb_log_is_diagnosed_in_bounded_memory(tmp_path: Path) -> None:
    small, large = tmp_path / "small.log", tmp_path / "large.log"
    build_log(small, 5 * MB)
    total_lines = build_log(large, 50 * MB)

    small_problem, small_peak = diagnose_traced(small)
    problem, peak = diagnose_traced(large)

    assert problem.category is Category.NETWORK_TRANSIENT
    assert problem.kind == small_problem.kind == "pip-index-unreachable"
    assert problem.evidence[-1].line > total_lines - 10
    assert peak < PEAK_BOUND
    assert peak < small_peak * 1.5 + MB  # ten times the log, not ten times the memory


def test_huge_zip_member_is_streamed(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    build_log(log, 30 * MB)
    archive_path = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(log, "build/2_Install.txt")
        archive.write(log, "0_build.txt")

    problem, peak = diagnose_traced(archive_path)

    assert problem.step == "Install"
    assert problem.category is Category.NETWORK_TRANSIENT
    assert peak < PEAK_BOUND
