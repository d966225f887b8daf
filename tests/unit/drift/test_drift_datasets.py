"""Loading CSV and Parquet datasets from disk and from S3 (moto), and what their columns become."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from mlops_bot.drift import DatasetError, compute_drift, load_dataset, load_table
from mlops_bot.drift.datasets import parse_s3_uri, read_s3_object

CSV_TEXT = "age,income,city,flag\n31,52000.5,Paris,true\n,61000,,false\n45,,Lyon,true\n27,48000,Paris,\n"


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(CSV_TEXT)
    return path


def test_csv_columns_become_numeric_and_object_arrays(csv_path: Path) -> None:
    data = load_dataset(str(csv_path))
    assert list(data) == ["age", "income", "city", "flag"]
    # Integers with a gap become float64 with NaN; empty strings are missing, not a "" category.
    np.testing.assert_array_equal(data["age"], [31.0, np.nan, 45.0, 27.0])
    np.testing.assert_array_equal(data["income"], [52000.5, 61000.0, np.nan, 48000.0])
    assert data["city"].tolist() == ["Paris", None, "Lyon", "Paris"]
    assert data["flag"].tolist() == [True, False, True, None]


def test_parquet_loads_like_csv(tmp_path: Path, csv_path: Path) -> None:
    table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    parquet_path = tmp_path / "data.parquet"
    pq.write_table(table, parquet_path)
    from_parquet, from_csv = load_dataset(str(parquet_path)), load_dataset(str(csv_path))
    assert list(from_parquet) == list(from_csv)
    for name in from_csv:
        np.testing.assert_array_equal(from_parquet[name], from_csv[name])


def test_format_comes_from_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "export"  # no extension: Parquet recognised by its magic bytes
    pq.write_table(pa.table({"x": [1.5, 2.5]}), path)
    assert load_dataset(str(path))["x"].tolist() == [1.5, 2.5]


def test_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(CSV_TEXT.encode()))
    assert load_table(str(path)).num_rows == 4


def test_loaded_datasets_feed_compute_drift(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    reference = {"n": rng.normal(size=3000), "c": rng.choice(np.array(["a", "b", "c"]), 3000)}
    current = {"n": rng.normal(0.4, size=3000), "c": rng.choice(np.array(["a", "b", "d"]), 3000)}
    pacsv.write_csv(pa.table(reference), tmp_path / "ref.csv")
    pq.write_table(pa.table(current), tmp_path / "cur.parquet")
    from_files = compute_drift(load_dataset(str(tmp_path / "ref.csv")), load_table(str(tmp_path / "cur.parquet")))
    in_memory = compute_drift(reference, current)
    for name, column in in_memory.columns.items():  # CSV round-trips floats as decimal text
        loaded = from_files.columns[name]
        assert (loaded.test, loaded.drifted) == (column.test, column.drifted)
        assert loaded.statistic == pytest.approx(column.statistic, rel=1e-9)
    assert from_files.dataset_drift


UNREADABLE = "cannot read as CSV or Parquet"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing.csv", "no such file"),
        (lambda d: d, UNREADABLE),
        (lambda d: _write(d / "empty.csv", b""), UNREADABLE),
        (lambda d: _write(d / "bad.parquet", b"PAR1 but not really parquet"), UNREADABLE),
        (lambda d: _write(d / "ragged.csv", b"a,b\n1,2\n3,4,5\n"), UNREADABLE),
        (lambda d: _write(d / "dup.csv", b"a,a\n1,2\n"), "duplicate column names"),
    ],
)
def test_unreadable_inputs_raise_dataset_error(tmp_path: Path, setup: Any, message: str) -> None:
    path = setup(tmp_path)
    with pytest.raises(DatasetError, match=message) as error:
        load_table(str(path))
    assert str(path) in str(error.value)


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# --- S3 --------------------------------------------------------------------------------------------------


@pytest.fixture
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="datasets")
        yield client


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bucket/path/to/data.csv") == ("bucket", "path/to/data.csv")
    for bad in ("s3://bucket", "s3:///key", "https://bucket/key"):
        with pytest.raises(DatasetError):
            parse_s3_uri(bad)


def test_s3_csv_and_parquet(s3_client: Any, csv_path: Path) -> None:
    s3_client.put_object(Bucket="datasets", Key="ref/data.csv", Body=csv_path.read_bytes())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", None, "b"]}), sink)
    s3_client.put_object(Bucket="datasets", Key="cur/data.parquet", Body=sink.getvalue().to_pybytes())
    s3_client.put_object(Bucket="datasets", Key="cur/data.csv.gz", Body=gzip.compress(CSV_TEXT.encode()))

    from_s3 = load_dataset("s3://datasets/ref/data.csv", s3_client=s3_client)
    from_disk = load_dataset(str(csv_path))
    for name in from_disk:
        np.testing.assert_array_equal(from_s3[name], from_disk[name])
    parquet = load_dataset("s3://datasets/cur/data.parquet", s3_client=s3_client)
    assert parquet["c"].tolist() == ["a", None, "b"]
    assert load_table("s3://datasets/cur/data.csv.gz", s3_client=s3_client).num_rows == 4


def test_s3_default_client_is_created_when_none_given(s3_client: Any) -> None:
    s3_client.put_object(Bucket="datasets", Key="k.csv", Body=b"x\n1\n2\n")
    assert load_dataset("s3://datasets/k.csv")["x"].tolist() == [1, 2]


@pytest.mark.parametrize("uri", ["s3://datasets/absent.csv", "s3://no-such-bucket/k.csv"])
def test_s3_missing_objects_raise_dataset_error(s3_client: Any, uri: str) -> None:
    with pytest.raises(DatasetError, match="cannot read from S3"):
        read_s3_object(s3_client, uri)
    with pytest.raises(DatasetError, match=uri):
        load_table(uri, s3_client=s3_client)
