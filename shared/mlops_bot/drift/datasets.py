"""Reading reference/current datasets (CSV or Parquet, local or S3) and normalising their columns.

Files are parsed with pyarrow's multi-threaded CSV and Parquet readers: a million-row CSV takes well under a
second, where a pure-Python reader would take tens. The S3 part is one small function taking the client, so
tests can hand it a moto-backed client and the Lambda can hand it a pre-configured one.

Column normalisation lives here too because it is about data shapes, not statistics: every input column
(numpy array of any dtype, pyarrow array, plain list) becomes either a finite float64 array or a non-null
pyarrow array of category values, and everything else is reported as unsupported rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

PARQUET_MAGIC = b"PAR1"
# Compressed CSV, recognised by suffix like pyarrow does for local paths.
_COMPRESSION_BY_SUFFIX = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}


class DatasetError(Exception):
    """A dataset cannot be found or parsed; the message names the location and says what went wrong."""


class S3ObjectReader(Protocol):
    """The one S3 client method reading needs, so any boto3 S3 client (or a moto-backed one) fits."""

    def get_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key, rejecting URIs without either."""
    if not uri.startswith("s3://"):
        raise DatasetError(f"{uri}: not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise DatasetError(f"{uri}: expected s3://bucket/key")
    return bucket, key


def read_s3_object(client: S3ObjectReader, uri: str) -> bytes:
    """Download one S3 object into memory (Parquet needs a seekable source, so no streaming)."""
    bucket, key = parse_s3_uri(uri)
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        body: bytes = response["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise DatasetError(f"{uri}: cannot read from S3: {exc}") from exc
    return body


def _csv_convert_options() -> pacsv.ConvertOptions:
    # An empty cell in a string column is a missing value, not the category "".
    return pacsv.ConvertOptions(strings_can_be_null=True)


def _parse_bytes(data: bytes, location: str) -> pa.Table:
    if data[:4] == PARQUET_MAGIC:
        return pq.read_table(pa.BufferReader(data))
    stream: Any = pa.BufferReader(data)
    codec = _COMPRESSION_BY_SUFFIX.get(Path(location).suffix.lower())
    if codec is not None:
        stream = pa.CompressedInputStream(stream, codec)
    return pacsv.read_csv(stream, convert_options=_csv_convert_options())


def _parse_local(path: Path) -> pa.Table:
    with path.open("rb") as handle:
        magic = handle.read(len(PARQUET_MAGIC))
    if magic == PARQUET_MAGIC:
        return pq.read_table(path)
    # pyarrow detects .gz/.bz2/... compression from the path itself.
    return pacsv.read_csv(path, convert_options=_csv_convert_options())


def load_table(location: str, s3_client: S3ObjectReader | None = None) -> pa.Table:
    """Read a CSV or Parquet dataset into a pyarrow Table.

    ``location`` is a local path or ``s3://bucket/key``; the format comes from the content (Parquet's magic
    bytes), not the name, so extension-less exports work. Without ``s3_client`` a default boto3 client is
    created for S3 locations. Any failure to find or parse the data raises :class:`DatasetError`.
    """
    try:
        if location.startswith("s3://"):
            if s3_client is None:
                import boto3  # deferred: local runs should not pay for boto3's import

                s3_client = boto3.client("s3")
            table = _parse_bytes(read_s3_object(s3_client, location), location)
        else:
            table = _parse_local(Path(location.removeprefix("file://")))
    except FileNotFoundError as exc:
        raise DatasetError(f"{location}: no such file") from exc
    except (OSError, pa.ArrowException) as exc:
        raise DatasetError(f"{location}: cannot read as CSV or Parquet: {exc}") from exc
    duplicates = sorted({name for name in table.column_names if table.column_names.count(name) > 1})
    if duplicates:
        raise DatasetError(f"{location}: duplicate column names {duplicates}")
    return table


def load_dataset(location: str, s3_client: S3ObjectReader | None = None) -> dict[str, npt.NDArray[Any]]:
    """Read a CSV or Parquet dataset into one numpy array per column.

    Numeric columns become numeric arrays (integers with missing values become float64 with NaN), strings
    become object arrays with ``None`` for missing values. :func:`load_table` avoids the per-string Python
    objects and is what the CLI uses; both are accepted by ``compute_drift``.
    """
    table = load_table(location, s3_client)
    return {name: table.column(name).to_numpy() for name in table.column_names}


@dataclass(frozen=True, slots=True)
class NumericColumn:
    """Finite values of a numeric column (NaN, +/-inf and nulls dropped, as Evidently does)."""

    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True, slots=True)
class CategoricalColumn:
    """Non-null values of a categorical column as a pyarrow array (hash-based counting, no Python objects)."""

    values: pa.Array

    def __len__(self) -> int:
        return len(self.values)


Column = NumericColumn | CategoricalColumn


class UnsupportedColumnError(ValueError):
    """The column's type is neither numeric nor categorical (dates, nested data, ...)."""


def _numeric(values: npt.NDArray[Any]) -> NumericColumn:
    as_float = np.asarray(values, dtype=np.float64)
    return NumericColumn(as_float[np.isfinite(as_float)])


def _from_arrow(values: pa.Array | pa.ChunkedArray) -> Column:
    kind = values.type
    if pa.types.is_null(kind):  # an all-empty CSV column: no values, reported as empty downstream
        return CategoricalColumn(pa.array([], type=pa.string()))
    if pa.types.is_dictionary(kind):
        values = pc.cast(values, kind.value_type)
        kind = values.type
    values = pc.drop_null(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _numeric(values.to_numpy(zero_copy_only=False))
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or pa.types.is_boolean(kind)
    ):
        return CategoricalColumn(values)
    raise UnsupportedColumnError(f"unsupported type {kind}")


def _from_object_array(values: npt.NDArray[Any]) -> Column:
    try:
        # from_pandas: float NaN counts as missing, like None.
        return _from_arrow(pa.array(values, from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    # Mixed Python types (e.g. 3 and "3"): compare as text rather than refuse the column.
    # None, and NaN: the only value unequal to itself.
    missing = np.equal(values, np.array(None, dtype=object)) | (values != values)
    return CategoricalColumn(pa.array(values[~missing].astype(str)))


def to_column(values: Any) -> Column:
    """Normalise one input column, dropping missing values.

    Integer, unsigned and float dtypes are numeric; strings, booleans and Python objects are categorical.
    Raises :class:`UnsupportedColumnError` for anything else (datetimes, complex numbers, nested data).
    """
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return _from_arrow(values)
    array = np.asarray(values)
    kind = array.dtype.kind
    if kind in "iuf":
        return _numeric(array)
    if kind == "O":
        return _from_object_array(array)
    if kind in "bUST":
        return CategoricalColumn(pa.array(array))
    raise UnsupportedColumnError(f"unsupported dtype {array.dtype}")


def as_categorical(column: Column) -> CategoricalColumn:
    """View a numeric column as categories (its distinct values), e.g. for a few-valued code column."""
    if isinstance(column, CategoricalColumn):
        return column
    return CategoricalColumn(pa.array(column.values))


def unify_categories(reference: CategoricalColumn, current: CategoricalColumn) -> tuple[pa.Array, pa.Array]:
    """Give both sides one arrow type so their values compare, falling back to text.

    Needed when a CSV's type inference differed between files, e.g. ``0/1`` read as integers in one and
    ``yes/no`` strings in the other.
    """
    ref, cur = reference.values, current.values
    if ref.type == cur.type:
        return ref, cur
    return pc.cast(ref, pa.string()), pc.cast(cur, pa.string())


def category_counts(
    reference: CategoricalColumn, current: CategoricalColumn
) -> tuple[pa.Array, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Count every category on both sides, aligned over the union of categories.

    Returns the categories and two int64 count arrays; a category seen on one side only has count 0 on the
    other. Counting is pyarrow's hash-based ``value_counts`` (one pass, no sort); only the small per-side
    category lists are then aligned.
    """
    ref, cur = unify_categories(reference, current)
    ref_vc = pc.value_counts(ref)
    cur_vc = pc.value_counts(cur)
    keys = pc.unique(pa.concat_arrays([ref_vc.field("values"), cur_vc.field("values")]))
    ref_counts = np.zeros(len(keys), dtype=np.int64)
    cur_counts = np.zeros(len(keys), dtype=np.int64)
    for counts, value_counts in ((ref_counts, ref_vc), (cur_counts, cur_vc)):
        positions = pc.index_in(value_counts.field("values"), value_set=keys).to_numpy()
        counts[positions] = value_counts.field("counts").to_numpy()
    return keys, ref_counts, cur_counts
