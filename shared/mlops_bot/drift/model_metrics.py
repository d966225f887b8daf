"""Model degradation: is a model's current evaluation worse than its baseline by more than allowed?

Drift says the inputs moved; this says the model got worse, which is what justifies a rollback or a
retraining run. Limits are "how much worse may it get" per metric, absolute (in the metric's unit) and/or
relative (fraction of the baseline), because neither alone fits every metric: 0.02 of accuracy is
meaningful on any scale, while 20 ms of latency is not. Direction matters - a higher loss, RMSE or latency
is worse - so every metric is known to be higher- or lower-is-better, from its rule or from its name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

# Name tokens (split on anything not a letter or digit) that mark a metric where lower is better:
# "val_loss", "p95_latency_ms", "error_rate", "rmse" ...
DEFAULT_LOWER_IS_BETTER = frozenset(
    {
        "loss",
        "logloss",
        "error",
        "err",
        "mse",
        "rmse",
        "mae",
        "mape",
        "smape",
        "rmsle",
        "brier",
        "perplexity",
        "wer",
        "cer",
        "latency",
        "duration",
        "time",
        "seconds",
        "ms",
        "cost",
    }
)
_TOKEN = re.compile(r"[a-z0-9]+")


class MetricRule(BaseModel):
    """How much worse than the baseline one metric may get; exceeding either limit is degradation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_relative_drop: float | None = Field(
        default=None, ge=0, description="Fraction of the baseline, e.g. 0.05: may get 5 % worse."
    )
    max_absolute_drop: float | None = Field(
        default=None, ge=0, description="In the metric's unit, e.g. 0.02 of accuracy or 20 (ms)."
    )
    lower_is_better: bool | None = Field(default=None, description="None: decided from the metric's name.")

    @model_validator(mode="after")
    def _has_a_limit(self) -> MetricRule:
        if self.max_relative_drop is None and self.max_absolute_drop is None:
            raise ValueError("set max_relative_drop and/or max_absolute_drop")
        return self


class ModelThresholds(BaseModel):
    """Per-metric rules, an optional rule for every other baseline metric, and the lower-is-better names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metrics: dict[str, MetricRule] = Field(default_factory=dict)
    default: MetricRule | None = Field(
        default=None, description="Applies to baseline metrics without their own rule; None ignores them."
    )
    lower_is_better: frozenset[str] = Field(
        default=DEFAULT_LOWER_IS_BETTER,
        description="Metric names, or name tokens, where lower values are better.",
    )
    missing_is_degraded: bool = Field(
        default=False, description="Whether a checked metric absent from the current run counts as degraded."
    )

    def rule_for(self, metric: str) -> MetricRule | None:
        return self.metrics.get(metric, self.default)

    def is_lower_better(self, metric: str, rule: MetricRule) -> bool:
        if rule.lower_is_better is not None:
            return rule.lower_is_better
        name = metric.lower()
        return name in self.lower_is_better or any(token in self.lower_is_better for token in _TOKEN.findall(name))


class MetricChange(BaseModel):
    """One metric's change; drops are positive when the metric got worse, whatever its direction."""

    model_config = ConfigDict(frozen=True)

    baseline: float
    current: float
    lower_is_better: bool
    absolute_drop: float = Field(description="How much worse, in the metric's unit; negative if improved.")
    relative_drop: float | None = Field(description="absolute_drop / |baseline|; None for a zero baseline.")
    max_absolute_drop: float | None
    max_relative_drop: float | None
    degraded: bool


class ModelDegradation(BaseModel):
    """Every checked metric's change and whether the model degraded overall."""

    model_config = ConfigDict(frozen=True)

    metrics: dict[str, MetricChange]
    missing_metrics: list[str] = Field(default_factory=list, description="Checked but absent from current.")
    missing_is_degraded: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def degraded_metrics(self) -> list[str]:
        degraded = [name for name, change in self.metrics.items() if change.degraded]
        return degraded + (self.missing_metrics if self.missing_is_degraded else [])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def degraded(self) -> bool:
        return bool(self.degraded_metrics)


def _change(current: float, baseline: float, lower_is_better: bool, rule: MetricRule) -> MetricChange:
    drop = current - baseline if lower_is_better else baseline - current
    if not math.isfinite(current):  # a NaN loss or infinite latency: training diverged or the service is down
        drop = math.inf
    relative = drop / abs(baseline) if baseline != 0 else None
    over_absolute = rule.max_absolute_drop is not None and drop > rule.max_absolute_drop
    if rule.max_relative_drop is None:
        over_relative = False
    elif relative is None:  # any worsening of a zero baseline is infinitely large relative to it
        over_relative = drop > 0
    else:
        over_relative = relative > rule.max_relative_drop
    return MetricChange(
        baseline=baseline,
        current=current,
        lower_is_better=lower_is_better,
        absolute_drop=drop,
        relative_drop=relative,
        max_absolute_drop=rule.max_absolute_drop,
        max_relative_drop=rule.max_relative_drop,
        degraded=over_absolute or over_relative,
    )


def compare_model_metrics(
    current: Mapping[str, float], baseline: Mapping[str, float], thresholds: ModelThresholds
) -> ModelDegradation:
    """Compare current metrics with the baseline under per-metric limits.

    Checked metrics are those with a rule in ``thresholds.metrics`` plus, when ``thresholds.default`` is set,
    every other baseline metric. A limit is exceeded strictly (a drop equal to the limit is allowed); a
    non-finite current value counts as infinitely worse. Metrics without a finite baseline cannot be judged
    and are left out; metrics only in ``current`` have no baseline and are ignored.
    """
    names = list(thresholds.metrics) + [name for name in baseline if name not in thresholds.metrics]
    changes: dict[str, MetricChange] = {}
    missing: list[str] = []
    for name in names:
        rule = thresholds.rule_for(name)
        base = baseline.get(name)
        if rule is None or base is None or not math.isfinite(base):
            continue
        if name not in current:
            missing.append(name)
            continue
        changes[name] = _change(float(current[name]), float(base), thresholds.is_lower_better(name, rule), rule)
    return ModelDegradation(
        metrics=changes, missing_metrics=missing, missing_is_degraded=thresholds.missing_is_degraded
    )
