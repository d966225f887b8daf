"""Per-column and dataset-level data drift between a reference and a current dataset.

The default test choice mirrors Evidently's, so numbers and alerts match what ML teams already see in their
Evidently dashboards:

* reference with at most 1000 (non-missing) values: a hypothesis test, drift when p < 0.05 -
  Kolmogorov-Smirnov for numeric columns with more than 5 distinct values (reference and current together),
  chi-square otherwise (categorical columns, few-valued numeric columns);
* larger references: a distance, drift when it is >= 0.1 - Wasserstein distance normed by the reference's
  standard deviation for numeric columns with more than 5 distinct values, Jensen-Shannon distance over
  category frequencies otherwise. (On large samples p-values flag every negligible shift, hence distances.)

Binary columns get chi-square without continuity correction, which gives the same p-value as the z-test
Evidently uses for them. One deliberate difference: Evidently 0.7 also types integer columns with at most 10
distinct values as categorical; here only the distinct-value rule above applies (list code columns in
``categorical_columns``), so the choice depends on the data and not on how a file stored its numbers.

The dataset drifts when the share of drifted columns reaches ``drift_share_threshold`` (0.5). Every number
above is a :class:`DriftOptions` field. Columns are independent, so they are computed on a small thread
pool: the sorts, searches and histograms inside release the GIL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, computed_field

from mlops_bot.drift import statistics
from mlops_bot.drift.datasets import (
    CategoricalColumn,
    Column,
    NumericColumn,
    UnsupportedColumnError,
    as_categorical,
    category_counts,
    to_column,
)

TestName: TypeAlias = Literal["ks", "psi", "wasserstein", "jensenshannon", "chisquare"]
TestChoice: TypeAlias = Literal["auto", "ks", "psi", "wasserstein", "jensenshannon", "chisquare"]
ColumnType: TypeAlias = Literal["numeric", "categorical"]
# Anything a column can be given as: numpy array, pyarrow (Chunked)Array, list.
ColumnValues: TypeAlias = Any
Dataset: TypeAlias = Mapping[str, ColumnValues] | pa.Table

NUMERIC_ONLY_TESTS: frozenset[str] = frozenset({"ks", "wasserstein"})
# Reading a sample's first values answers "more than N distinct values?" without sorting it whole.
_DISTINCT_PROBE = 4096
_MAX_DEFAULT_WORKERS = 4


class DriftOptions(BaseModel):
    """How drift is decided; the defaults reproduce Evidently's data drift preset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    test: TestChoice = "auto"
    columns: list[str] | None = Field(default=None, description="Columns to compare; default all shared.")
    categorical_columns: list[str] = Field(
        default_factory=list, description="Numeric columns to treat as categories (codes, ids)."
    )
    threshold: float | None = Field(
        default=None, gt=0, description="Overrides the threshold of whichever test a column gets."
    )
    ks_threshold: float = Field(default=0.05, gt=0, lt=1, description="Drift when p-value < this.")
    chisquare_threshold: float = Field(default=0.05, gt=0, lt=1, description="Drift when p-value < this.")
    wasserstein_threshold: float = Field(default=0.1, gt=0, description="Drift when normed distance >= this.")
    jensenshannon_threshold: float = Field(default=0.1, gt=0, description="Drift when distance >= this.")
    psi_threshold: float = Field(default=0.1, gt=0, description="Drift when PSI >= this.")
    drift_share_threshold: float = Field(
        default=0.5, gt=0, le=1, description="Dataset drift when the share of drifted columns >= this."
    )
    small_reference_rows: int = Field(
        default=1000, ge=1, description="auto: references up to this size get p-value tests."
    )
    max_discrete_values: int = Field(
        default=5, ge=1, description="auto: numeric columns with more distinct values are continuous."
    )
    max_numeric_categories: int = Field(
        default=20,
        ge=1,
        description="psi/jensenshannon/chisquare count numeric columns per value up to this many distinct "
        "values, and in reference-quantile bins beyond.",
    )
    numeric_bins: int = Field(default=10, ge=2, description="Reference-quantile bins for continuous columns.")
    psi_epsilon: float = Field(default=1e-4, gt=0, lt=1, description="Share used for empty PSI bins.")
    wasserstein_min_std: float = Field(
        default=0.001, gt=0, description="Floor of the reference std dividing the Wasserstein distance."
    )
    max_workers: int | None = Field(
        default=None, ge=1, description=f"Threads for columns; default min(CPUs, {_MAX_DEFAULT_WORKERS})."
    )

    def threshold_for(self, test: TestName) -> float:
        if self.threshold is not None:
            return self.threshold
        thresholds: dict[TestName, float] = {
            "ks": self.ks_threshold,
            "chisquare": self.chisquare_threshold,
            "wasserstein": self.wasserstein_threshold,
            "jensenshannon": self.jensenshannon_threshold,
            "psi": self.psi_threshold,
        }
        return thresholds[test]


class ColumnDrift(BaseModel):
    """One column's verdict: ``p_value < threshold`` for ks/chisquare, ``statistic >= threshold`` else."""

    model_config = ConfigDict(frozen=True)

    test: TestName
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    column_type: ColumnType


class DriftReport(BaseModel):
    """Drift of every compared column, and whether enough of them drifted to call the dataset drifted."""

    model_config = ConfigDict(frozen=True)

    columns: dict[str, ColumnDrift]
    drift_share_threshold: float = 0.5
    skipped_columns: dict[str, str] = Field(
        default_factory=dict, description="Columns that could not be compared, with the reason."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number_of_columns(self) -> int:
        return len(self.columns)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number_of_drifted_columns(self) -> int:
        return sum(1 for column in self.columns.values() if column.drifted)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def drift_share(self) -> float:
        """Share of compared columns that drifted: the dataset's drift score."""
        return self.number_of_drifted_columns / self.number_of_columns if self.columns else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.drift_share >= self.drift_share_threshold

    @property
    def drifted_columns(self) -> list[str]:
        return [name for name, column in self.columns.items() if column.drifted]


class _SkipColumn(Exception):
    """Internal: this column cannot be compared; the message is the reason reported to the user."""


def _as_mapping(dataset: Dataset) -> Mapping[str, ColumnValues]:
    if isinstance(dataset, pa.Table):
        return {name: dataset.column(name) for name in dataset.column_names}
    return dataset


def _distinct_exceeds(reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64], limit: int) -> bool:
    """Whether reference and current together hold more than ``limit`` distinct values.

    A prefix of each side already proves it for any continuous column, so the full (sorting) union is only
    computed for genuinely few-valued columns.
    """
    probe = np.concatenate([reference[:_DISTINCT_PROBE], current[:_DISTINCT_PROBE]])
    if np.unique(probe).size > limit:
        return True
    return bool(np.union1d(reference, current).size > limit)


def _auto_test(reference: Column, current: Column, options: DriftOptions) -> TestName:
    small = len(reference) <= options.small_reference_rows
    continuous = (
        isinstance(reference, NumericColumn)
        and isinstance(current, NumericColumn)
        and _distinct_exceeds(reference.values, current.values, options.max_discrete_values)
    )
    if small:
        return "ks" if continuous else "chisquare"
    return "wasserstein" if continuous else "jensenshannon"


def _counts(
    reference: Column, current: Column, options: DriftOptions
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Aligned category counts, or reference-quantile bin counts for continuous numeric columns."""
    if (
        isinstance(reference, NumericColumn)
        and isinstance(current, NumericColumn)
        and _distinct_exceeds(reference.values, current.values, options.max_numeric_categories)
    ):
        return statistics.quantile_bin_counts(reference.values, current.values, options.numeric_bins)
    _, ref_counts, cur_counts = category_counts(as_categorical(reference), as_categorical(current))
    return ref_counts, cur_counts


def _run_test(test: TestName, reference: Column, current: Column, options: DriftOptions) -> statistics.TestResult:
    if test in NUMERIC_ONLY_TESTS:
        if not (isinstance(reference, NumericColumn) and isinstance(current, NumericColumn)):
            raise _SkipColumn(f"{test} needs numeric values; the column is categorical")
        if test == "ks":
            return statistics.ks_test(reference.values, current.values)
        normed = statistics.wasserstein_normed(reference.values, current.values, options.wasserstein_min_std)
        return statistics.TestResult(normed, None)
    ref_counts, cur_counts = _counts(reference, current, options)
    if test == "chisquare":
        return statistics.chisquare_test(ref_counts, cur_counts)
    if test == "psi":
        return statistics.TestResult(statistics.psi(ref_counts, cur_counts, options.psi_epsilon), None)
    return statistics.TestResult(statistics.jensenshannon_distance(ref_counts, cur_counts), None)


def _column_drift(
    reference_values: ColumnValues, current_values: ColumnValues, categorical: bool, options: DriftOptions
) -> ColumnDrift:
    try:
        reference = to_column(reference_values)
        current = to_column(current_values)
    except UnsupportedColumnError as exc:
        raise _SkipColumn(str(exc)) from exc
    # One side categorical (e.g. CSV inference saw text in one file only) makes both categorical.
    if categorical or isinstance(reference, CategoricalColumn) or isinstance(current, CategoricalColumn):
        reference, current = as_categorical(reference), as_categorical(current)
    for side, column in (("reference", reference), ("current", current)):
        if len(column) == 0:
            raise _SkipColumn(f"no non-missing values in the {side} data")
    test: TestName = _auto_test(reference, current, options) if options.test == "auto" else options.test
    result = _run_test(test, reference, current, options)
    threshold = options.threshold_for(test)
    # Hypothesis tests drift on a significant difference, distances on a large enough one.
    drifted = result.p_value < threshold if result.p_value is not None else result.statistic >= threshold
    return ColumnDrift(
        test=test,
        statistic=result.statistic,
        p_value=result.p_value,
        threshold=threshold,
        drifted=drifted,
        column_type="categorical" if isinstance(reference, CategoricalColumn) else "numeric",
    )


def _select_columns(
    reference: Mapping[str, ColumnValues], current: Mapping[str, ColumnValues], options: DriftOptions
) -> tuple[list[str], dict[str, str]]:
    if options.columns is not None:
        missing = [
            f"{name!r} not in the {side} data"
            for name in options.columns
            for side, data in (("reference", reference), ("current", current))
            if name not in data
        ]
        if missing:
            raise ValueError("unknown columns: " + "; ".join(missing))
        return list(dict.fromkeys(options.columns)), {}
    names = [name for name in reference if name in current]
    skipped = {name: "missing from the current data" for name in reference if name not in current}
    skipped |= {name: "missing from the reference data" for name in current if name not in reference}
    return names, skipped


def compute_drift(reference: Dataset, current: Dataset, options: DriftOptions | None = None) -> DriftReport:
    """Compare every shared column of two datasets and decide dataset drift.

    Datasets are mappings of column name to values (numpy arrays, pyarrow arrays, lists) or pyarrow Tables,
    e.g. from :func:`mlops_bot.drift.load_dataset` or :func:`mlops_bot.drift.load_table`. Missing values
    (None, NaN, +/-inf) are dropped per column. Columns that cannot be compared - empty after dropping,
    unsupported type, numeric-only test on text, present on one side only - are listed in
    ``skipped_columns`` with the reason instead of counting as not drifted. Raises ``ValueError`` when
    ``options.columns`` names a column missing from either dataset.
    """
    options = options or DriftOptions()
    ref_data, cur_data = _as_mapping(reference), _as_mapping(current)
    names, skipped = _select_columns(ref_data, cur_data, options)
    categorical = set(options.categorical_columns)

    def outcome(name: str) -> ColumnDrift | str:
        try:
            return _column_drift(ref_data[name], cur_data[name], name in categorical, options)
        except _SkipColumn as exc:
            return str(exc)

    workers = options.max_workers or min(os.cpu_count() or 1, _MAX_DEFAULT_WORKERS)
    if workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(names)), thread_name_prefix="drift") as pool:
            outcomes = list(pool.map(outcome, names))
    else:
        outcomes = [outcome(name) for name in names]

    columns: dict[str, ColumnDrift] = {}
    for name, result in zip(names, outcomes, strict=True):
        if isinstance(result, ColumnDrift):
            columns[name] = result
        else:
            skipped[name] = result
    return DriftReport(columns=columns, drift_share_threshold=options.drift_share_threshold, skipped_columns=skipped)


def _describe_column(name: str, column: ColumnDrift) -> str:
    if column.p_value is not None:
        return f"{name} ({column.test} p-value {column.p_value:.3g} < {column.threshold:g})"
    return f"{name} ({column.test} {column.statistic:.3g} >= {column.threshold:g})"


def drift_incident_description(report: DriftReport, max_columns: int = 20) -> str:
    """One paragraph for an incident or issue: the drift score (share of drifted columns) and which drifted.

    Drifted columns are listed most-drifted first (lowest p-value, then largest distance relative to its
    threshold) so a truncated list still shows the worst offenders.
    """
    verdict = "Dataset drift detected" if report.dataset_drift else "No dataset drift"
    lines = [
        f"{verdict}: {report.number_of_drifted_columns} of {report.number_of_columns} columns drifted "
        f"(drift score {report.drift_share:.2f}; dataset drift at >= {report.drift_share_threshold:.2f})."
    ]

    def severity(item: tuple[str, ColumnDrift]) -> tuple[int, float]:
        column = item[1]
        if column.p_value is not None:
            return (0, column.p_value)
        return (1, -column.statistic / column.threshold)

    drifted = sorted(((n, c) for n, c in report.columns.items() if c.drifted), key=severity)
    if drifted:
        listed = ", ".join(_describe_column(name, column) for name, column in drifted[:max_columns])
        more = f", and {len(drifted) - max_columns} more" if len(drifted) > max_columns else ""
        lines.append(f"Drifted columns: {listed}{more}.")
    if report.skipped_columns:
        skipped = ", ".join(f"{name} ({why})" for name, why in report.skipped_columns.items())
        lines.append(f"Not compared: {skipped}.")
    return "\n".join(lines)
