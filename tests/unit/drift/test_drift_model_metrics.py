"""Model degradation rules: direction of each metric, relative and absolute limits, odd values."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from mlops_bot.drift import MetricRule, ModelThresholds, compare_model_metrics


def test_higher_is_better_relative_drop() -> None:
    thresholds = ModelThresholds(metrics={"accuracy": MetricRule(max_relative_drop=0.05)})
    ok = compare_model_metrics({"accuracy": 0.86}, {"accuracy": 0.90}, thresholds)
    assert not ok.degraded
    assert ok.metrics["accuracy"].absolute_drop == pytest.approx(0.04)
    assert ok.metrics["accuracy"].relative_drop == pytest.approx(0.04 / 0.90)

    bad = compare_model_metrics({"accuracy": 0.85}, {"accuracy": 0.90}, thresholds)
    assert bad.degraded
    assert bad.degraded_metrics == ["accuracy"]
    assert bad.metrics["accuracy"].relative_drop == pytest.approx(0.05 / 0.90)


def test_lower_is_better_absolute_drop() -> None:
    thresholds = ModelThresholds(metrics={"rmse": MetricRule(max_absolute_drop=0.5)})
    worse = compare_model_metrics({"rmse": 3.6}, {"rmse": 3.0}, thresholds)
    assert worse.degraded
    change = worse.metrics["rmse"]
    assert change.lower_is_better
    assert change.absolute_drop == pytest.approx(0.6)
    # A lower RMSE is an improvement: a negative drop, never degradation.
    better = compare_model_metrics({"rmse": 1.0}, {"rmse": 3.0}, thresholds)
    assert better.metrics["rmse"].absolute_drop == pytest.approx(-2.0)
    assert not better.degraded


def test_the_same_change_means_opposite_things_by_direction() -> None:
    rule = MetricRule(max_relative_drop=0.1)
    thresholds = ModelThresholds(metrics={"f1": rule, "val_loss": rule})
    result = compare_model_metrics({"f1": 0.5, "val_loss": 0.5}, {"f1": 1.0, "val_loss": 1.0}, thresholds)
    assert result.degraded_metrics == ["f1"]
    assert result.metrics["val_loss"].absolute_drop == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("metric", "lower_is_better"),
    [
        ("loss", True),
        ("val_loss", True),
        ("RMSE", True),
        ("p95_latency_ms", True),
        ("error_rate", True),
        ("inference-time", True),
        ("accuracy", False),
        ("roc_auc", False),
        ("r2", False),
        ("recall@10", False),
    ],
)
def test_direction_is_inferred_from_the_name(metric: str, lower_is_better: bool) -> None:
    thresholds = ModelThresholds(default=MetricRule(max_relative_drop=0.0))
    result = compare_model_metrics({metric: 2.0}, {metric: 1.0}, thresholds)
    assert result.metrics[metric].lower_is_better is lower_is_better
    assert result.degraded is lower_is_better  # the value went up


def test_rule_direction_overrides_the_name() -> None:
    thresholds = ModelThresholds(metrics={"loss": MetricRule(max_absolute_drop=0.1, lower_is_better=False)})
    assert compare_model_metrics({"loss": 0.5}, {"loss": 1.0}, thresholds).degraded


def test_either_limit_is_enough_and_equality_is_allowed() -> None:
    rule = MetricRule(max_relative_drop=0.10, max_absolute_drop=0.02)
    thresholds = ModelThresholds(metrics={"auc": rule})
    # 0.03 absolute is over 0.02 although only 3.3 % relative.
    assert compare_model_metrics({"auc": 0.87}, {"auc": 0.90}, thresholds).degraded
    at_limit = ModelThresholds(metrics={"latency": MetricRule(max_absolute_drop=25.0)})
    assert not compare_model_metrics({"latency": 125.0}, {"latency": 100.0}, at_limit).degraded
    assert compare_model_metrics({"latency": 125.5}, {"latency": 100.0}, at_limit).degraded


def test_default_rule_covers_other_baseline_metrics_only_when_set() -> None:
    current, baseline = {"precision": 0.5, "recall": 0.9}, {"precision": 0.9, "recall": 0.9}
    explicit = ModelThresholds(metrics={"recall": MetricRule(max_relative_drop=0.05)})
    assert list(compare_model_metrics(current, baseline, explicit).metrics) == ["recall"]
    with_default = explicit.model_copy(update={"default": MetricRule(max_relative_drop=0.05)})
    result = compare_model_metrics(current, baseline, with_default)
    assert result.degraded_metrics == ["precision"]


def test_missing_and_unusable_metrics() -> None:
    thresholds = ModelThresholds(
        metrics={name: MetricRule(max_relative_drop=0.1) for name in ("accuracy", "f1", "auc")}
    )
    result = compare_model_metrics({"f1": 0.9, "auc": 0.9, "new": 1.0}, {"accuracy": 0.9, "f1": 0.9}, thresholds)
    assert result.missing_metrics == ["accuracy"]
    assert list(result.metrics) == ["f1"]  # auc has no baseline, "new" no rule
    assert not result.degraded
    strict = thresholds.model_copy(update={"missing_is_degraded": True})
    assert compare_model_metrics({"f1": 0.9}, {"accuracy": 0.9, "f1": 0.9}, strict).degraded_metrics == ["accuracy"]
    nan_baseline = compare_model_metrics({"f1": 0.9}, {"f1": math.nan}, thresholds)
    assert nan_baseline.metrics == {}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_current_value_is_degradation(value: float) -> None:
    thresholds = ModelThresholds(
        metrics={"loss": MetricRule(max_relative_drop=0.5), "accuracy": MetricRule(max_absolute_drop=0.5)}
    )
    result = compare_model_metrics({"loss": value, "accuracy": value}, {"loss": 0.3, "accuracy": 0.8}, thresholds)
    assert result.degraded_metrics == ["loss", "accuracy"]
    assert result.metrics["loss"].absolute_drop == math.inf


def test_zero_baseline() -> None:
    thresholds = ModelThresholds(metrics={"error_count": MetricRule(max_relative_drop=0.5)})
    result = compare_model_metrics({"error_count": 1.0}, {"error_count": 0.0}, thresholds)
    assert result.metrics["error_count"].relative_drop is None
    assert result.degraded
    assert not compare_model_metrics({"error_count": 0.0}, {"error_count": 0.0}, thresholds).degraded


def test_rules_need_a_limit_and_non_negative_values() -> None:
    with pytest.raises(ValidationError, match="max_relative_drop and/or max_absolute_drop"):
        MetricRule()
    with pytest.raises(ValidationError):
        MetricRule(max_absolute_drop=-1)


def test_result_serialises_with_verdict() -> None:
    thresholds = ModelThresholds(metrics={"accuracy": MetricRule(max_absolute_drop=0.01)})
    dumped = compare_model_metrics({"accuracy": 0.8}, {"accuracy": 0.9}, thresholds).model_dump()
    assert dumped["degraded"] is True
    assert dumped["degraded_metrics"] == ["accuracy"]
    assert dumped["metrics"]["accuracy"]["absolute_drop"] == pytest.approx(0.1)
