"""`mlops-bot diagnose PATH [--json]`, driven through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_bot.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "data" / "logs"


def test_json_output_is_the_problem_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diagnose", str(CORPUS / "py_missing_module_sklearn.log"), "--json"])

    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"category", "kind", "details", "evidence", "confidence", "step"}
    assert payload["category"] == "dependency_missing"
    assert payload["kind"] == "missing-python-module"
    assert payload["details"]["package"] == "scikit-learn"
    assert payload["step"] == "Run python train.py"
    assert all(set(item) == {"line", "text"} for item in payload["evidence"])
    assert payload["evidence"][0]["text"] == "ModuleNotFoundError: No module named 'sklearn'"


def test_json_output_for_a_run_logs_zip(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", str(CORPUS / "run_logs_two_jobs_lint.zip"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["category"], payload["kind"], payload["step"]) == ("lint_failure", "ruff", "Ruff")


def test_readable_summary_shows_verdict_details_and_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose", str(CORPUS / "pytest_assertion.log")]) == 0
    out = capsys.readouterr().out.splitlines()

    assert out[0] == "test_failure (pytest-assertion), confidence 0.90"
    assert "step: Run pytest tests/" in out
    assert "tests: tests/test_model.py::test_accuracy" in out
    assert "evidence:" in out
    assert any(line.endswith("| FAILED tests/test_model.py::test_accuracy - assert 0.5 > 0.9") for line in out)


def test_own_package_option_is_passed_through(capsys: pytest.CaptureFixture[str]) -> None:
    log = str(CORPUS / "py_missing_local_package.log")
    assert main(["diagnose", log, "--json", "--own-package", "mlproj"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "missing-local-module"


def test_missing_file_exits_2_with_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["diagnose", str(tmp_path / "nope.log"), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no such file" in captured.err


def test_corrupt_zip_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "logs.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    assert main(["diagnose", str(broken)]) == 2
    assert "cannot read" in capsys.readouterr().err
