"""The statistics against scipy on seeded data, and the formulas against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from mlops_bot.drift import statistics


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def test_ks_test_is_scipy_ks_2samp(rng: np.random.Generator) -> None:
    reference, current = rng.normal(size=800), rng.normal(0.2, size=600)
    expected = stats.ks_2samp(reference, current)
    result = statistics.ks_test(reference, current)
    assert result.statistic == expected.statistic
    assert result.p_value == expected.pvalue


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "discrete"),
    [
        (1, 1, False),
        (1, 7, True),
        (13, 5, True),
        (200, 333, False),
        (1000, 1000, True),
        (20_000, 15_000, False),
    ],
)
def test_wasserstein_1d_equals_scipy_bit_for_bit(
    rng: np.random.Generator, n_ref: int, n_cur: int, discrete: bool
) -> None:
    if discrete:  # many ties, within and across the samples
        reference = rng.integers(0, 6, n_ref).astype(float)
        current = rng.integers(1, 8, n_cur).astype(float)
    else:
        reference, current = rng.normal(size=n_ref), rng.standard_t(3, size=n_cur)
    assert statistics.wasserstein_1d(reference, current) == stats.wasserstein_distance(reference, current)


def test_wasserstein_1d_of_identical_samples_is_zero(rng: np.random.Generator) -> None:
    sample = rng.normal(size=500)
    assert statistics.wasserstein_1d(sample, rng.permutation(sample)) == 0.0


def test_wasserstein_normed_divides_by_reference_std(rng: np.random.Generator) -> None:
    reference, current = rng.normal(10, 4, size=3000), rng.normal(11, 4, size=2000)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert statistics.wasserstein_normed(reference, current, min_std=0.001) == pytest.approx(expected, rel=1e-12)
    # Shifting every value by c moves the distribution by exactly c: c / std whatever the unit.
    shifted = statistics.wasserstein_normed(reference, reference + 4.0, min_std=0.001)
    assert shifted == pytest.approx(4.0 / np.std(reference), rel=1e-9)


def test_wasserstein_normed_floors_a_zero_std() -> None:
    reference, current = np.full(10, 3.0), np.full(10, 3.5)
    assert statistics.wasserstein_normed(reference, current, min_std=0.001) == pytest.approx(0.5 / 0.001)


def test_quantile_bins_have_equal_reference_mass_and_open_ends(rng: np.random.Generator) -> None:
    reference = rng.permutation(np.arange(1000, dtype=float))
    current = np.array([-1e9, 0.0, 99.0, 99.5, 1e9])
    ref_counts, cur_counts = statistics.quantile_bin_counts(reference, current, bins=10)
    assert ref_counts.tolist() == [100] * 10
    # -1e9 and 0 fall in the first bin, 99 on the first edge (99.9 cut), 1e9 in the open last bin.
    assert cur_counts.tolist() == [4, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_quantile_bins_merge_duplicate_edges() -> None:
    reference = np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 20)
    ref_counts, cur_counts = statistics.quantile_bin_counts(reference, np.array([2.0, 5.0]), bins=10)
    assert ref_counts.sum() == 100
    assert len(ref_counts) < 10
    assert cur_counts.sum() == 2


def test_psi_formula_by_hand() -> None:
    reference, current = np.array([50, 30, 20]), np.array([40, 30, 30])
    expected = (0.4 - 0.5) * math.log(0.4 / 0.5) + 0.0 + (0.3 - 0.2) * math.log(0.3 / 0.2)
    assert statistics.psi(reference, current, epsilon=1e-4) == pytest.approx(expected, rel=1e-12)


def test_psi_uses_epsilon_for_empty_bins() -> None:
    reference, current = np.array([100, 0]), np.array([50, 50])
    expected = (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-3) * math.log(0.5 / 1e-3)
    assert statistics.psi(reference, current, epsilon=1e-3) == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(statistics.psi(reference, current, epsilon=1e-4))


def test_psi_is_zero_for_identical_shares() -> None:
    assert statistics.psi(np.array([10, 20, 70]), np.array([100, 200, 700]), epsilon=1e-4) == 0.0


def test_jensenshannon_is_scipy_on_frequencies() -> None:
    reference, current = np.array([10, 20, 70, 0]), np.array([30, 30, 30, 10])
    expected = distance.jensenshannon(reference / 100, current / 100)
    assert statistics.jensenshannon_distance(reference, current) == pytest.approx(expected, rel=1e-12)
    assert statistics.jensenshannon_distance(np.array([1, 0]), np.array([0, 1])) == pytest.approx(
        math.sqrt(math.log(2))
    )


def test_chisquare_is_chi2_contingency_without_correction() -> None:
    reference, current = np.array([120, 80, 40]), np.array([100, 100, 55])
    expected = stats.chi2_contingency(np.vstack([reference, current]), correction=False)
    result = statistics.chisquare_test(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_chisquare_on_two_categories_matches_the_two_proportion_z_test() -> None:
    reference, current = np.array([300, 700]), np.array([360, 640])
    pooled = 660 / 2000
    z = (0.36 - 0.30) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    result = statistics.chisquare_test(reference, current)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


def test_chisquare_handles_a_category_only_in_current_and_empty_categories() -> None:
    result = statistics.chisquare_test(np.array([50, 50, 0, 0]), np.array([40, 40, 20, 0]))
    assert math.isfinite(result.statistic)
    assert result.p_value is not None
    assert result.p_value < 1e-4


def test_chisquare_with_a_single_category_sees_no_difference() -> None:
    assert statistics.chisquare_test(np.array([10, 0]), np.array([99, 0])) == statistics.TestResult(0.0, 1.0)
