"""compute_drift end to end on generated data: values against scipy, Evidently's test choice, edge cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError
from scipy import stats
from scipy.spatial import distance

from mlops_bot.drift import (
    ColumnDrift,
    DriftOptions,
    DriftReport,
    TestName,
    compute_drift,
    drift_incident_description,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _one(reference: Any, current: Any, **options: Any) -> ColumnDrift:
    report = compute_drift({"x": reference}, {"x": current}, DriftOptions(**options))
    assert report.skipped_columns == {}
    return report.columns["x"]


def _right_closed_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin counts for (-inf, e0], (e0, e1], ..., (e_last, inf) by broadcasting, independent of the library."""
    at_most = (values[:, None] <= edges[None, :]).sum(axis=0)
    return np.diff(np.concatenate([[0], at_most, [values.size]]))


# --- values against scipy, same distribution vs shifted -------------------------------------------------


def test_ks_same_distribution_no_drift_shifted_drift(rng: np.random.Generator) -> None:
    reference = rng.normal(size=500)
    same, shifted = rng.normal(size=400), rng.normal(0.5, size=400)
    for current, drifted in ((same, False), (shifted, True)):
        column = _one(reference, current, test="ks")
        expected = stats.ks_2samp(reference, current)
        assert (column.statistic, column.p_value) == (expected.statistic, expected.pvalue)
        assert column.threshold == 0.05
        assert column.drifted is drifted


def test_wasserstein_same_distribution_no_drift_shifted_drift(rng: np.random.Generator) -> None:
    reference = rng.normal(100, 15, size=50_000)
    same, shifted = rng.normal(100, 15, size=40_000), rng.normal(103, 15, size=40_000)
    for current, drifted in ((same, False), (shifted, True)):
        column = _one(reference, current, test="wasserstein")
        expected = stats.wasserstein_distance(reference, current) / np.std(reference)
        assert column.statistic == pytest.approx(expected, rel=1e-12)
        assert column.p_value is None
        assert column.drifted is drifted


def test_psi_uses_reference_decile_bins(rng: np.random.Generator) -> None:
    reference = rng.exponential(2.0, size=20_000)
    same, shifted = rng.exponential(2.0, size=10_000), rng.exponential(3.0, size=10_000)
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    for current, drifted in ((same, False), (shifted, True)):
        ref_share = _right_closed_counts(reference, edges) / reference.size
        cur_share = _right_closed_counts(current, edges) / current.size
        expected = np.sum((cur_share - ref_share) * np.log(cur_share / ref_share))
        column = _one(reference, current, test="psi")
        assert column.statistic == pytest.approx(expected, rel=1e-9)
        assert column.drifted is drifted


def test_jensenshannon_on_categories_is_scipy(rng: np.random.Generator) -> None:
    categories = np.array(["a", "b", "c", "d"], dtype=object)
    reference = rng.choice(categories, size=5000, p=[0.4, 0.3, 0.2, 0.1])
    same = rng.choice(categories, size=5000, p=[0.4, 0.3, 0.2, 0.1])
    shifted = rng.choice(categories, size=5000, p=[0.1, 0.2, 0.3, 0.4])
    for current, drifted in ((same, False), (shifted, True)):
        ref_counts = np.array([np.sum(reference == c) for c in categories])
        cur_counts = np.array([np.sum(current == c) for c in categories])
        column = _one(reference, current, test="jensenshannon")
        assert column.statistic == pytest.approx(distance.jensenshannon(ref_counts, cur_counts), rel=1e-12)
        assert column.column_type == "categorical"
        assert column.drifted is drifted


def test_chisquare_on_categories_is_scipy(rng: np.random.Generator) -> None:
    categories = np.array(["red", "green", "blue"])
    reference = rng.choice(categories, size=600, p=[0.5, 0.3, 0.2])
    same = rng.choice(categories, size=400, p=[0.5, 0.3, 0.2])
    shifted = rng.choice(categories, size=400, p=[0.3, 0.3, 0.4])
    for current, drifted in ((same, False), (shifted, True)):
        table = np.array([[np.sum(data == c) for c in categories] for data in (reference, current)])
        expected = stats.chi2_contingency(table, correction=False)
        column = _one(reference, current, test="chisquare")
        assert column.statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert column.p_value == pytest.approx(expected.pvalue, rel=1e-12)
        assert column.drifted is drifted


def test_count_tests_bin_continuous_numeric_columns_at_reference_quantiles(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=3000), rng.normal(0.3, size=3000)
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    ref_counts, cur_counts = _right_closed_counts(reference, edges), _right_closed_counts(current, edges)
    js = _one(reference, current, test="jensenshannon")
    assert js.statistic == pytest.approx(distance.jensenshannon(ref_counts, cur_counts), rel=1e-12)
    chi = _one(reference, current, test="chisquare")
    expected = stats.chi2_contingency(np.vstack([ref_counts, cur_counts]), correction=False)
    assert chi.p_value == pytest.approx(expected.pvalue, rel=1e-9)


# --- Evidently's automatic test choice ------------------------------------------------------------------


@pytest.mark.parametrize(("reference_rows", "expected"), [(1000, "ks"), (1001, "wasserstein")])
def test_auto_numeric_switches_at_1000_reference_rows(
    rng: np.random.Generator, reference_rows: int, expected: TestName
) -> None:
    column = _one(rng.normal(size=reference_rows), rng.normal(size=800))
    assert column.test == expected
    assert column.threshold == (0.05 if expected == "ks" else 0.1)


def test_auto_counts_reference_rows_after_dropping_missing_values(rng: np.random.Generator) -> None:
    reference = rng.normal(size=1001)
    reference[17] = np.nan
    assert _one(reference, rng.normal(size=800)).test == "ks"


@pytest.mark.parametrize("reference_rows", [1000, 1001])
def test_auto_categorical_switches_at_1000_reference_rows(rng: np.random.Generator, reference_rows: int) -> None:
    labels = np.array(["a", "b", "c"], dtype=object)
    column = _one(rng.choice(labels, reference_rows), rng.choice(labels, 900))
    assert column.test == ("chisquare" if reference_rows == 1000 else "jensenshannon")
    assert column.column_type == "categorical"


@pytest.mark.parametrize(
    ("reference_rows", "distinct", "expected"),
    [(500, 5, "chisquare"), (500, 6, "ks"), (5000, 5, "jensenshannon"), (5000, 6, "wasserstein")],
)
def test_auto_numeric_switches_above_5_distinct_values(
    rng: np.random.Generator, reference_rows: int, distinct: int, expected: TestName
) -> None:
    # The reference holds 5 distinct values; the 6th (if any) appears only in the current data, because
    # Evidently counts distinct values over both samples together.
    reference = rng.integers(0, 5, reference_rows).astype(float)
    current = rng.integers(0, distinct, 700).astype(float)
    column = _one(reference, current)
    assert column.test == expected
    assert column.column_type == "numeric"


def test_auto_few_valued_numeric_uses_per_value_counts(rng: np.random.Generator) -> None:
    reference, current = rng.integers(0, 3, 5000), rng.integers(0, 3, 5000)
    ref_counts = np.bincount(reference, minlength=3)
    cur_counts = np.bincount(current, minlength=3)
    column = _one(reference, current)
    assert column.test == "jensenshannon"
    assert column.statistic == pytest.approx(distance.jensenshannon(ref_counts, cur_counts), rel=1e-12)


# --- categorical data, missing values, types --------------------------------------------------------------


def test_category_only_in_current_is_drift(rng: np.random.Generator) -> None:
    reference = rng.choice(np.array(["x", "y"], dtype=object), 800)
    current = np.concatenate([rng.choice(np.array(["x", "y"], dtype=object), 700), np.full(100, "new")])
    chi = _one(reference, current, test="chisquare")
    assert np.isfinite(chi.statistic)
    assert chi.drifted
    expected = distance.jensenshannon(
        [np.sum(reference == "x"), np.sum(reference == "y"), 0],
        [np.sum(current == "x"), np.sum(current == "y"), 100],
    )
    assert _one(reference, current, test="jensenshannon").statistic == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(_one(reference, current, test="psi").statistic)


def test_categorical_inputs_agree_across_containers(rng: np.random.Generator) -> None:
    values = rng.choice(np.array(["north", "south", "east", "west"]), size=(2, 3000))
    reference, current = values[0], values[1]
    expected = _one(reference, current)
    assert _one(reference.astype(object), current.astype(object)) == expected
    assert _one(reference.tolist(), current.tolist()) == expected
    assert _one(pa.array(reference), pa.chunked_array([current[:1000], current[1000:]])) == expected
    assert _one(pa.array(reference).dictionary_encode(), pa.array(current)) == expected


def test_missing_values_are_dropped_per_column(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=700), rng.normal(0.2, size=600)
    dirty_reference = np.concatenate([reference[:300], [np.nan, np.inf], reference[300:], [-np.inf]])
    dirty_current = np.concatenate([[np.nan] * 50, current])
    assert _one(dirty_reference, dirty_current) == _one(reference, current)

    labels = rng.choice(np.array(["a", "b"], dtype=object), 400)
    with_gaps = labels.copy()
    with_gaps[::10] = None
    with_gaps[5::10] = np.nan
    kept = labels[np.arange(400) % 10 % 5 != 0]
    assert _one(with_gaps, labels) == _one(kept, labels)


def test_empty_columns_are_skipped_with_a_reason(rng: np.random.Generator) -> None:
    reference = {"ok": rng.normal(size=100), "all_nan": np.full(100, np.nan), "no_rows": np.array([])}
    current = {"ok": rng.normal(size=100), "all_nan": rng.normal(size=100), "no_rows": np.array([])}
    report = compute_drift(reference, current)
    assert list(report.columns) == ["ok"]
    assert report.skipped_columns == {
        "all_nan": "no non-missing values in the reference data",
        "no_rows": "no non-missing values in the reference data",
    }
    assert report.number_of_columns == 1


def test_numeric_in_one_file_and_text_in_the_other_compares_as_text() -> None:
    reference = np.array([1, 2, 1, 2] * 50)
    current = np.array(["1", "2", "1", "n/a"] * 50, dtype=object)
    column = _one(reference, current)
    assert column.column_type == "categorical"
    assert column.drifted


def test_mixed_python_objects_compare_as_text() -> None:
    reference = np.array([1, "a", None, 2.0, np.nan] * 40, dtype=object)
    current = np.array(["1", "a", "a", "2.0", None] * 40, dtype=object)
    column = _one(reference, current, test="chisquare")
    counts = np.array([[40, 40, 40], [40, 80, 40]])  # "1", "a", "2.0" after dropping None and NaN
    assert column.p_value == pytest.approx(stats.chi2_contingency(counts, correction=False).pvalue)


def test_categorical_columns_option_treats_codes_as_categories(rng: np.random.Generator) -> None:
    reference, current = rng.integers(0, 50, 3000), rng.integers(0, 50, 3000)
    assert _one(reference, current).test == "wasserstein"
    column = _one(reference, current, categorical_columns=["x"])
    assert (column.test, column.column_type) == ("jensenshannon", "categorical")


def test_numeric_only_tests_skip_categorical_columns(rng: np.random.Generator) -> None:
    reference = {"n": rng.normal(size=50), "c": np.array(["a", "b"] * 25)}
    report = compute_drift(reference, reference, DriftOptions(test="wasserstein"))
    assert list(report.columns) == ["n"]
    assert report.skipped_columns == {"c": "wasserstein needs numeric values; the column is categorical"}


def test_unsupported_dtypes_are_skipped(rng: np.random.Generator) -> None:
    dates = np.arange("2024-01-01", "2024-03-01", dtype="datetime64[D]")
    report = compute_drift({"d": dates, "n": rng.normal(size=60)}, {"d": dates, "n": rng.normal(size=60)})
    assert report.skipped_columns == {"d": "unsupported dtype datetime64[D]"}


def test_pyarrow_tables_give_the_same_report(rng: np.random.Generator) -> None:
    reference = {"n": rng.normal(size=2000), "c": rng.choice(np.array(["a", "b", "c"]), 2000)}
    current = {"n": rng.normal(0.3, size=2000), "c": rng.choice(np.array(["a", "b"]), 2000)}
    assert compute_drift(pa.table(reference), pa.table(current)) == compute_drift(reference, current)


def test_threads_do_not_change_the_result(rng: np.random.Generator) -> None:
    reference = {f"c{i}": rng.normal(size=3000) for i in range(6)}
    current = {f"c{i}": rng.normal(i * 0.05, size=3000) for i in range(6)}
    threaded = compute_drift(reference, current, DriftOptions(max_workers=3))
    assert threaded == compute_drift(reference, current, DriftOptions(max_workers=1))
    assert list(threaded.columns) == list(reference)


# --- options: thresholds, columns, dataset drift -----------------------------------------------------------


def _three_columns(rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    reference = {name: rng.normal(size=4000) for name in ("a", "b", "c")}
    current = {"a": rng.normal(0.3, size=4000), "b": rng.normal(0.05, size=4000), "c": rng.normal(size=4000)}
    return reference, current


def test_report_counts_and_drift_share(rng: np.random.Generator) -> None:
    report = compute_drift(*_three_columns(rng))
    assert [c.drifted for c in report.columns.values()] == [True, False, False]
    assert (report.number_of_columns, report.number_of_drifted_columns) == (3, 1)
    assert report.drift_share == pytest.approx(1 / 3)
    assert not report.dataset_drift
    dumped = report.model_dump()
    assert dumped["drift_share"] == pytest.approx(1 / 3)
    assert dumped["number_of_drifted_columns"] == 1


def test_per_test_threshold_is_configurable(rng: np.random.Generator) -> None:
    reference, current = _three_columns(rng)
    report = compute_drift(reference, current, DriftOptions(wasserstein_threshold=0.03))
    assert [c.drifted for c in report.columns.values()] == [True, True, False]
    assert {c.threshold for c in report.columns.values()} == {0.03}
    assert report.dataset_drift  # 2 of 3 >= 0.5


def test_threshold_override_applies_to_whatever_test_is_chosen(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=500), rng.normal(0.15, size=500)
    p_value = stats.ks_2samp(reference, current).pvalue
    assert _one(reference, current, threshold=p_value * 2).drifted
    assert not _one(reference, current, threshold=p_value / 2).drifted
    assert not _one(reference, current, ks_threshold=p_value / 2).drifted


def test_drift_share_threshold_is_inclusive_and_configurable(rng: np.random.Generator) -> None:
    reference, current = _three_columns(rng)
    assert compute_drift(reference, current, DriftOptions(drift_share_threshold=1 / 3)).dataset_drift
    two_columns = DriftOptions(columns=["a", "c"])  # 1 of 2 drifted: share 0.5 >= 0.5
    report = compute_drift(reference, current, two_columns)
    assert list(report.columns) == ["a", "c"]
    assert report.dataset_drift


def test_unknown_columns_are_an_error_and_unshared_columns_are_skipped(rng: np.random.Generator) -> None:
    reference, current = _three_columns(rng)
    with pytest.raises(ValueError, match="'nope' not in the reference data"):
        compute_drift(reference, current, DriftOptions(columns=["a", "nope"]))
    report = compute_drift({**reference, "old": np.ones(3)}, {**current, "new": np.ones(3)})
    assert report.skipped_columns == {
        "old": "missing from the current data",
        "new": "missing from the reference data",
    }
    assert report.number_of_columns == 3


def test_report_round_trips_through_json(rng: np.random.Generator) -> None:
    report = compute_drift(*_three_columns(rng))
    assert DriftReport.model_validate_json(report.model_dump_json()) == report


def test_no_columns_means_no_dataset_drift() -> None:
    report = compute_drift({}, {})
    assert (report.drift_share, report.dataset_drift, report.number_of_columns) == (0.0, False, 0)


@pytest.mark.parametrize(
    "fields",
    [
        {"ks_threshold": 1.0},
        {"drift_share_threshold": 0},
        {"test": "anderson"},
        {"threshold": -0.1},
        {"bogus": 1},
    ],
)
def test_invalid_options_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DriftOptions(**fields)


# --- incident text -----------------------------------------------------------------------------------------


def test_incident_description_has_drift_score_and_drifted_columns(rng: np.random.Generator) -> None:
    reference, current = _three_columns(rng)
    report = compute_drift(reference, current, DriftOptions(wasserstein_threshold=0.03))
    text = drift_incident_description(report)
    assert "Dataset drift detected: 2 of 3 columns drifted" in text
    assert "drift score 0.67" in text
    assert "a (wasserstein" in text
    assert "b (wasserstein" in text
    assert "c (" not in text
    assert text.index("a (") < text.index("b (")  # most drifted first


def test_incident_description_without_drift_and_with_skips() -> None:
    report = DriftReport(
        columns={
            "x": ColumnDrift(
                test="ks", statistic=0.01, p_value=0.9, threshold=0.05, drifted=False, column_type="numeric"
            )
        },
        skipped_columns={"y": "no non-missing values in the current data"},
    )
    text = drift_incident_description(report)
    assert text.startswith("No dataset drift: 0 of 1 columns drifted (drift score 0.00")
    assert "Drifted columns" not in text
    assert "y (no non-missing values in the current data)" in text


def test_incident_description_truncates_long_lists() -> None:
    drifted = ColumnDrift(test="psi", statistic=0.5, p_value=None, threshold=0.1, drifted=True, column_type="numeric")
    report = DriftReport(columns={f"c{i}": drifted for i in range(30)})
    assert drift_incident_description(report, max_columns=5).endswith(", and 25 more.")
