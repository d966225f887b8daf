"""`mlops-bot drift` through mlops_bot.cli.main: output formats, options and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import stats

from mlops_bot.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    n = 2000
    reference = {
        "price": rng.normal(100, 10, n),
        "stable": rng.normal(size=n),
        "city": rng.choice(np.array(["paris", "lyon", "nice"]), n),
    }
    current = {
        "price": rng.normal(110, 10, n),
        "stable": rng.normal(size=n),
        "city": rng.choice(np.array(["paris", "lyon", "nice", "lille"]), n),
    }
    pacsv.write_csv(pa.table(reference), tmp_path / "reference.csv")
    pq.write_table(pa.table(current), tmp_path / "current.parquet")
    return tmp_path / "reference.csv", tmp_path / "current.parquet"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["drift", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_output_has_exactly_the_documented_keys(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    reference, current = files
    code, out, err = _run(capsys, "--reference", str(reference), "--current", str(current), "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert set(document) == {"columns", "drift_share", "dataset_drift"}
    assert list(document["columns"]) == ["price", "stable", "city"]
    for column in document["columns"].values():
        assert set(column) == {"test", "statistic", "p_value", "threshold", "drifted"}
    assert document["columns"]["price"]["test"] == "wasserstein"
    assert document["columns"]["city"]["test"] == "jensenshannon"
    assert [c["drifted"] for c in document["columns"].values()] == [True, False, True]
    assert document["drift_share"] == pytest.approx(2 / 3)
    assert document["dataset_drift"] is True


def test_test_columns_and_threshold_options(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    reference, current = files
    args = ["--reference", str(reference), "--current", str(current), "--json", "--test", "ks"]
    code, out, _ = _run(capsys, *args, "--columns", "stable, price", "--threshold", "0.01")
    assert code == 0
    document = json.loads(out)
    assert list(document["columns"]) == ["stable", "price"]
    stable = document["columns"]["stable"]
    ref_values = pacsv.read_csv(reference).column("stable").to_numpy()
    cur_values = pq.read_table(current).column("stable").to_numpy()
    expected = stats.ks_2samp(ref_values, cur_values)
    assert stable["statistic"] == pytest.approx(expected.statistic)
    assert stable["p_value"] == pytest.approx(expected.pvalue)
    assert stable["threshold"] == 0.01


def test_numeric_only_test_reports_skipped_columns_on_stderr(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    reference, current = files
    code, out, err = _run(capsys, "--reference", str(reference), "--current", str(current), "--json", "--test", "ks")
    assert code == 0
    assert "city" not in json.loads(out)["columns"]
    assert "skipped column city: ks needs numeric values" in err


def test_table_output(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    reference, current = files
    code, out, _ = _run(capsys, "--reference", str(reference), "--current", str(current), "--drift-share", "0.9")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["column", "type", "test", "statistic", "p-value", "threshold", "drifted"]
    assert lines[1].split()[:3] == ["price", "numeric", "wasserstein"]
    assert lines[1].split()[-1] == "YES"
    assert lines[2].split()[-1] == "no"
    assert "2 of 3 columns drifted (drift share 0.667, threshold 0.9): no dataset drift" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--columns", "price,nope"], "'nope' not in the reference data"),
        (["--threshold", "0"], "invalid options: threshold"),
        (["--drift-share", "1.5"], "invalid options: drift_share_threshold"),
    ],
)
def test_bad_options_exit_2(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    reference, current = files
    code, out, err = _run(capsys, "--reference", str(reference), "--current", str(current), *extra)
    assert (code, out) == (2, "")
    assert message in err


def test_missing_and_unreadable_files_exit_2(
    tmp_path: Path, files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    reference, _ = files
    missing = tmp_path / "nope.csv"
    code, out, err = _run(capsys, "--reference", str(reference), "--current", str(missing), "--json")
    assert (code, out) == (2, "")
    assert f"{missing}: no such file" in err

    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1\x00\x01garbage")
    code, out, err = _run(capsys, "--reference", str(garbage), "--current", str(reference))
    assert (code, out) == (2, "")
    assert "cannot read as CSV or Parquet" in err


def test_unknown_test_is_an_argparse_error(files: tuple[Path, Path]) -> None:
    reference, current = files
    with pytest.raises(SystemExit) as exit_info:
        main(["drift", "--reference", str(reference), "--current", str(current), "--test", "anderson"])
    assert exit_info.value.code == 2
