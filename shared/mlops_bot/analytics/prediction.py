"""Failure prediction: P(at least one failed run of a repository in the next `window` hours).

The model, and why each piece is there:

- **Runs.** The completed `workflow_run` events the detector stores, plus failed runs known only
  from an incident (its `metadata.run_id`). Runs on the bot's own `mlops-bot/` branches are left
  out: their failures never open incidents.
- **Rates with decay.** Per repository, two exponentially decayed estimates (half-lives 14 days
  and 1 day): the run rate (decayed runs / decayed observation time) and the per-run failure
  probability (Beta posterior mean with a prior worth `PRIOR_RUNS` runs at the tenant's failure
  rate, so that a new repository borrows the tenant's experience instead of claiming 0 or 1). With
  runs arriving as a Poisson process, expected failures in the window are nu = rate * window * p
  and P(>= 1 failure) = 1 - exp(-nu): the *naive* model. Failed runs come in bursts (one breakage
  fails every run until fixed), so the decayed rate of failure *episodes* (a failure after a
  pass) is a feature too.
- **What rates miss.** A breakage persists until fixed (the last run failed, weighted by the
  chance that the repository runs at all in the window); a recurring pattern may be due (the
  renewal model of `mlops_bot.analytics.patterns`); known flaky tests fail at random (incidents with
  `metadata.known_flaky` or a `flaky_test` diagnosis, decayed).
- **Calibration.** The signals are combined on the complementary log-log scale,
  P = 1 - exp(-exp(b . x)), where b = (0, 1, 0, 0, 0, 0, 0) *is* the naive model. b is fitted by
  penalised maximum likelihood (IRLS, ridge towards the naive b) on the tenant's own past: at
  origins spread over its history, features from what was known at the origin and, as the label,
  whether a run failed in the following window of the same length. With too little history the
  naive b stands (`model.fitted = false`); nothing here is a constant posing as a probability.
- **Confidence** is 1 - the width of the 80 % interval of the probability carried over from the
  Beta posterior of the failure rate: many observed runs give a narrow interval and a confidence
  near 1; a repository seen twice gives a wide one.

Everything is pure (`TenantHistory.from_records(events, incidents)`, then `predict(...)`), so
the route and `bench/bench_prediction.py` run the very same code.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from pydantic import BaseModel

from mlops_bot.analytics.patterns import Recurrence, Signature, parse_time, signature_of, stamp

MODEL_NAME = "decayed-failure-rate-cloglog"
MODEL_VERSION = "1"
LONG_HALF_LIFE_HOURS = 14 * 24.0
SHORT_HALF_LIFE_HOURS = 24.0
PRIOR_RUNS = 2.0
RIDGE = 1.0
FLOOR = 1e-4
INTERVAL_Z = 1.2816  # two-sided 80 %
MIN_TRAINING_SAMPLES = 40
MIN_CLASS_SAMPLES = 5
MAX_TRAINING_SAMPLES = 4000
MAX_WINDOW_HOURS = 720
WARM_UP_HOURS = 7 * 24.0
FEATURES = (
    "intercept",
    "log_expected_failures",
    "log_expected_failures_recent",
    "log_expected_failure_episodes",
    "broken_now",
    "pattern_due",
    "known_flaky",
)
NAIVE = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)

# What a responder can do about each failure category (names of remedies, not model numbers).
ACTIONS: dict[str, tuple[str, ...]] = {
    "dependency_missing": ("add_missing_dependency", "pin_dependencies_in_lockfile"),
    "dependency_resolution": ("pin_compatible_versions", "refresh_lockfile"),
    "test_failure": ("review_recent_changes", "run_tests_before_merge"),
    "flaky_test": ("quarantine_flaky_tests", "rerun_failed_jobs"),
    "syntax_error": ("enable_pre_commit_checks", "review_recent_changes"),
    "lint_failure": ("run_formatters_in_pre_commit",),
    "timeout": ("increase_timeout_limit", "cache_dependencies"),
    "network_transient": ("add_retry_with_backoff", "add_dependency_health_check"),
    "out_of_memory": ("reduce_memory_footprint", "use_larger_runner"),
    "infrastructure": ("rerun_failed_jobs", "use_larger_runner"),
    "data_missing": ("add_data_presence_check", "version_data_artifacts"),
    "permission_denied": ("check_token_permissions",),
    "data_drift": ("retrain_model", "review_data_sources"),
    "model_degradation": ("rollback_model", "retrain_model"),
    "deployment_failure": ("rollback_deployment",),
    "unknown": ("inspect_failure_logs",),
}


def _hour(moment: datetime) -> float:
    return moment.timestamp() / 3600.0


def _pow2(exponent: float) -> float:
    return 0.0 if exponent < -1070 else 2.0 ** min(exponent, 1000.0)


@dataclass(frozen=True)
class Run:
    at: datetime
    failed: bool


class _Decayed:
    """Sum of w and of w*y over the items strictly before an hour, w = 2^-(age/half_life), in O(log n)."""

    def __init__(self, hours: Sequence[float], values: Sequence[float], half_life: float) -> None:
        self.hours = list(hours)
        self.half_life = half_life
        self.reference = max(hours[-1] - 900 * half_life, hours[0]) if hours else 0.0
        weights = [_pow2((h - self.reference) / half_life) for h in hours]
        self.weight = [0.0, *accumulate(weights)]
        self.weighted = [0.0, *accumulate(w * v for w, v in zip(weights, values, strict=True))]

    def before(self, hour: float) -> tuple[float, float]:
        k = bisect_left(self.hours, hour)
        scale = _pow2(-(hour - self.reference) / self.half_life)
        return self.weight[k] * scale, self.weighted[k] * scale


@dataclass
class RepositoryHistory:
    """One repository's runs and failure patterns, indexed for queries at any past moment."""

    repository: str
    runs: list[Run]
    patterns: dict[str, tuple[Signature, list[datetime]]]
    flaky_hours: list[float]
    run_hours: list[float] = field(init=False)
    failures_before: list[int] = field(init=False)
    long: _Decayed = field(init=False)
    short: _Decayed = field(init=False)
    episodes: _Decayed = field(init=False)

    def __post_init__(self) -> None:
        self.runs.sort(key=lambda r: r.at)
        self.flaky_hours.sort()
        self.run_hours = [_hour(r.at) for r in self.runs]
        failed = [1.0 if r.failed else 0.0 for r in self.runs]
        self.failures_before = [0, *accumulate(int(f) for f in failed)]
        self.long = _Decayed(self.run_hours, failed, LONG_HALF_LIFE_HOURS)
        self.short = _Decayed(self.run_hours, failed, SHORT_HALF_LIFE_HOURS)
        # an episode starts at a failed run that follows a passing one: a breakage counts once
        starts = [f if i == 0 else f * (1.0 - failed[i - 1]) for i, f in enumerate(failed)]
        self.episodes = _Decayed(self.run_hours, starts, LONG_HALF_LIFE_HOURS)

    @property
    def first_hour(self) -> float | None:
        return self.run_hours[0] if self.run_hours else None

    def failed_between(self, start: float, end: float) -> bool:
        """True when a run in (start, end] failed."""
        lo, hi = bisect_right(self.run_hours, start), bisect_right(self.run_hours, end)
        return self.failures_before[hi] > self.failures_before[lo]


@dataclass
class TenantHistory:
    """All repositories of a tenant; the tenant's failure rate is each repository's prior."""

    repositories: dict[str, RepositoryHistory]
    observed_since: datetime | None
    _hours: list[float] = field(init=False)
    _failures: list[int] = field(init=False)

    def __post_init__(self) -> None:
        merged = sorted(
            (
                (h, run.failed)
                for repo in self.repositories.values()
                for h, run in zip(repo.run_hours, repo.runs, strict=True)
            ),
            key=lambda pair: pair[0],
        )
        self._hours = [h for h, _ in merged]
        self._failures = [0, *accumulate(int(failed) for _, failed in merged)]

    @classmethod
    def from_records(
        cls,
        events: Iterable[Mapping[str, Any]],
        incidents: Iterable[Mapping[str, Any]],
        known_repositories: Iterable[str] = (),
    ) -> TenantHistory:
        """Build from stored event items and incident items of one tenant.

        `known_repositories` are monitored repositories to include even without any history yet.
        """
        from mlops_bot.messages import (  # not at the API's cold start
            BOT_BRANCH_PREFIX,
            FAILED_CONCLUSIONS,
            PASSED_CONCLUSIONS,
        )

        runs: dict[str, list[Run]] = {}
        names: dict[str, str] = {name.lower(): name for name in known_repositories}
        seen_run_ids: set[tuple[str, Any]] = set()
        earliest: datetime | None = None
        for event in events:
            summary = event.get("summary") or {}
            at = parse_time(event.get("received_at"))
            repository = str(event.get("repository") or "")
            if at is None or not repository:
                continue
            earliest = min(earliest, at) if earliest else at
            key = repository.lower()
            names.setdefault(key, repository)
            runs.setdefault(key, [])
            if summary.get("event") != "workflow_run" or summary.get("action") != "completed":
                continue
            if str(summary.get("head_branch") or "").startswith(BOT_BRANCH_PREFIX):
                continue
            conclusion = summary.get("conclusion")
            if conclusion not in FAILED_CONCLUSIONS and conclusion not in PASSED_CONCLUSIONS:
                continue  # cancelled, skipped, neutral: neither a pass nor a failure
            runs[key].append(Run(at, conclusion in FAILED_CONCLUSIONS))
            seen_run_ids.add((key, summary.get("run_id")))
        patterns: dict[str, dict[str, tuple[Signature, list[datetime]]]] = {}
        flaky: dict[str, list[float]] = {}
        for incident in incidents:
            at = parse_time(incident.get("detected_at"))
            repository = str(incident.get("repository") or "")
            if at is None or not repository:
                continue
            earliest = min(earliest, at) if earliest else at
            key = repository.lower()
            names.setdefault(key, repository)
            metadata = incident.get("metadata") or {}
            diagnosis = incident.get("diagnosis") or {}
            run_id = metadata.get("run_id")
            if run_id is not None and (key, run_id) not in seen_run_ids:
                runs.setdefault(key, []).append(Run(at, True))
                seen_run_ids.add((key, run_id))
            signature = signature_of(incident)
            group = patterns.setdefault(key, {}).setdefault(signature.key, (signature, []))
            group[1].append(at)
            if metadata.get("known_flaky") or diagnosis.get("category") == "flaky_test":
                flaky.setdefault(key, []).append(_hour(at))
        repositories = {
            key: RepositoryHistory(
                repository=names[key],
                runs=runs.get(key, []),
                patterns={k: (s, sorted(t)) for k, (s, t) in patterns.get(key, {}).items()},
                flaky_hours=flaky.get(key, []),
            )
            for key in names
        }
        return cls(repositories=repositories, observed_since=earliest)

    def repository(self, name: str) -> RepositoryHistory | None:
        return self.repositories.get(name.lower())

    def failure_rate_before(self, hour: float) -> float:
        """The tenant's per-run failure rate before `hour` (Laplace-smoothed)."""
        k = bisect_left(self._hours, hour)
        return (self._failures[k] + 1) / (k + 2)


@dataclass(frozen=True)
class Features:
    """The model's inputs at one moment, plus the readable quantities they come from."""

    vector: tuple[float, ...]
    runs_per_hour: float
    recent_runs_per_hour: float
    failure_rate: float
    recent_failure_rate: float
    beta: tuple[float, float]
    last_run_failed: bool
    pattern_due: float
    known_flaky: float

    def with_failure_rate(self, rate: float, window_hours: float) -> tuple[float, ...]:
        """The vector as if the long-run failure rate were `rate` (for the confidence interval)."""
        vector = list(self.vector)
        vector[1] = math.log(self.runs_per_hour * window_hours * rate + FLOOR)
        return tuple(vector)


def _exposure(hour: float, since: float, half_life: float) -> float:
    """Decayed observation time: the integral of 2^-(age/half_life) over the observed past."""
    span = max(0.0, hour - since)
    return half_life / math.log(2) * (1.0 - _pow2(-span / half_life))


def features(tenant: TenantHistory, repository: RepositoryHistory, at: datetime, window_hours: float) -> Features:
    hour = _hour(at)
    since = _hour(tenant.observed_since) if tenant.observed_since else hour
    prior = tenant.failure_rate_before(hour)
    rates: list[tuple[float, float, tuple[float, float]]] = []
    for decayed in (repository.long, repository.short):
        runs, failures = decayed.before(hour)
        exposure = _exposure(hour, since, decayed.half_life)
        rate = runs / exposure if exposure > 0 else 0.0
        alpha, beta = failures + PRIOR_RUNS * prior, runs - failures + PRIOR_RUNS * (1 - prior)
        rates.append((rate, alpha / (alpha + beta), (alpha, beta)))
    (rate_long, p_long, beta_long), (rate_short, p_short, _) = rates
    k = bisect_left(repository.run_hours, hour)
    last_failed = k > 0 and repository.runs[k - 1].failed
    may_run = 1.0 - math.exp(-rate_short * window_hours)
    may_run_long = 1.0 - math.exp(-rate_long * window_hours)
    _, episodes = repository.episodes.before(hour)
    exposure_long = _exposure(hour, since, LONG_HALF_LIFE_HOURS)
    episode_rate = episodes / exposure_long if exposure_long > 0 else 0.0
    quiet = 1.0
    for _, times in repository.patterns.values():
        before = times[: bisect_left(times, at)]
        if len(before) >= 3:
            due = Recurrence.of(before).probability_within(at, window_hours)
            quiet *= 1.0 - (due or 0.0)
    f = bisect_left(repository.flaky_hours, hour)
    flaky = _pow2(-(hour - repository.flaky_hours[f - 1]) / LONG_HALF_LIFE_HOURS) if f else 0.0
    vector = (
        1.0,
        math.log(rate_long * window_hours * p_long + FLOOR),
        math.log(rate_short * window_hours * p_short + FLOOR),
        math.log(episode_rate * window_hours + FLOOR),
        may_run if last_failed else 0.0,
        1.0 - quiet,
        flaky * may_run_long,
    )
    return Features(
        vector=vector,
        runs_per_hour=rate_long,
        recent_runs_per_hour=rate_short,
        failure_rate=p_long,
        recent_failure_rate=p_short,
        beta=beta_long,
        last_run_failed=last_failed,
        pattern_due=1.0 - quiet,
        known_flaky=flaky,
    )


@dataclass(frozen=True)
class Sample:
    vector: tuple[float, ...]
    failed: bool
    repository: str
    at: datetime


def training_samples(
    tenant: TenantHistory,
    window_hours: float,
    start: datetime,
    end: datetime,
    *,
    max_samples: int = MAX_TRAINING_SAMPLES,
) -> list[Sample]:
    """Origins over [start, end - window] per repository (from its first run), labelled by the window after.

    Every label window ends by `end`, so samples built with `end` = a cut-off never see past it.
    Origins are spaced at least half a window apart and capped so that a large tenant stays cheap.
    """
    active = [r for r in tenant.repositories.values() if r.first_hour is not None]
    if not active:
        return []
    per_repository = max(10, max_samples // len(active))
    last = _hour(end) - window_hours
    samples: list[Sample] = []
    for repository in active:
        first = max(_hour(start), (repository.first_hour or 0.0) + WARM_UP_HOURS)
        if last <= first:
            continue
        step = max(window_hours / 2, (last - first) / per_repository)
        count = int((last - first) // step) + 1
        for i in range(count):
            hour = first + i * step
            at = datetime.fromtimestamp(hour * 3600.0, UTC)
            x = features(tenant, repository, at, window_hours)
            samples.append(
                Sample(x.vector, repository.failed_between(hour, hour + window_hours), repository.repository, at)
            )
    return samples


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems are 6 x 6)."""
    n = len(rhs)
    a = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            raise ArithmeticError("singular system")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        solution[r] = (a[r][n] - sum(a[r][c] * solution[c] for c in range(r + 1, n))) / a[r][r]
    return solution


@dataclass(frozen=True)
class FailureModel:
    """Coefficients on the complementary log-log scale; the default is the naive Poisson model."""

    coefficients: tuple[float, ...] = NAIVE
    fitted: bool = False
    training_samples: int = 0
    training_positives: int = 0

    def probability(self, vector: Sequence[float]) -> float:
        eta = sum(b * x for b, x in zip(self.coefficients, vector, strict=True))
        return -math.expm1(-math.exp(min(max(eta, -30.0), 5.0)))


def fit(samples: Sequence[Sample], *, ridge: float = RIDGE, prior: tuple[float, ...] = NAIVE) -> FailureModel:
    """Penalised maximum likelihood by iteratively reweighted least squares, shrunk towards `prior`."""
    positives = sum(1 for s in samples if s.failed)
    unfitted = FailureModel(prior, False, len(samples), positives)
    if (
        len(samples) < MIN_TRAINING_SAMPLES
        or positives < MIN_CLASS_SAMPLES
        or len(samples) - positives < MIN_CLASS_SAMPLES
    ):
        return unfitted
    d = len(prior)
    b = list(prior)
    for _ in range(50):
        information = [[0.0] * d for _ in range(d)]
        score = [0.0] * d
        for sample in samples:
            x = sample.vector
            eta = min(max(sum(bi * xi for bi, xi in zip(b, x, strict=True)), -30.0), 4.0)
            e = math.exp(eta)
            survive = math.exp(-e)  # 1 - mu
            mu = min(max(1.0 - survive, 1e-12), 1.0 - 1e-12)
            weight = e * e * survive / mu
            # weight * working response, written so that a vanishing d(mu)/d(eta) cannot divide by zero
            target = weight * eta + (float(sample.failed) - mu) * e / mu
            for i in range(d):
                score[i] += target * x[i]
                row = information[i]
                wx = weight * x[i]
                for j in range(i, d):
                    row[j] += wx * x[j]
        for i in range(d):
            for j in range(i):
                information[i][j] = information[j][i]
            information[i][i] += ridge
            score[i] += ridge * prior[i]
        try:
            updated = _solve(information, score)
        except ArithmeticError:
            return unfitted
        if not all(math.isfinite(v) for v in updated):
            return unfitted
        change = max(abs(u - v) for u, v in zip(updated, b, strict=True))
        b = updated
        if change < 1e-7:
            break
    return FailureModel(tuple(b), True, len(samples), positives)


class FailureMode(BaseModel):
    pattern_id: str
    type: str
    category: str
    signature: str
    share: float
    due_probability: float | None


class PredictionDetail(BaseModel):
    """The spec's `prediction` object, then the quantities that explain it."""

    failure_probability: float
    most_likely_failure: str | None
    confidence: float
    recommended_actions: list[str]
    probability_interval: list[float]
    expected_runs: float
    failure_modes: list[FailureMode]
    factors: dict[str, float | bool]


class ModelInfo(BaseModel):
    name: str
    version: str
    fitted: bool
    training_samples: int
    training_positive_rate: float | None
    coefficients: dict[str, float]
    half_life_hours: dict[str, float]
    trained_until: str


class Prediction(BaseModel):
    """The `POST /api/ml/predict` answer."""

    pipeline_id: str
    repository: str
    prediction_window: int
    generated_at: str
    prediction: PredictionDetail
    model: ModelInfo


def failure_modes(repository: RepositoryHistory, now: datetime, window_hours: float) -> list[FailureMode]:
    """Which failure comes next, by decayed share of past occurrences (recent patterns weigh more)."""
    hour = _hour(now)
    weighted: list[tuple[float, Signature, float | None]] = []
    for signature, times in repository.patterns.values():
        before = times[: bisect_left(times, now)]
        weight = sum(_pow2(-(hour - _hour(t)) / LONG_HALF_LIFE_HOURS) for t in before)
        if weight > 0:
            weighted.append((weight, signature, Recurrence.of(before).probability_within(now, window_hours)))
    total = sum(w for w, _, _ in weighted)
    weighted.sort(key=lambda item: (-item[0], item[1].key))
    return [
        FailureMode(
            pattern_id=s.pattern_id,
            type=s.type,
            category=s.category,
            signature=s.text,
            share=round(w / total, 4),
            due_probability=round(due, 4) if due is not None else None,
        )
        for w, s, due in weighted[:3]
    ]


def _actions(modes: Sequence[FailureMode], known_flaky: bool) -> list[str]:
    chosen: list[str] = []
    categories = [m.category for m in modes[:1]] + (["flaky_test"] if known_flaky else [])
    for category in categories:
        for action in ACTIONS.get(category, ACTIONS["unknown"]):
            if action not in chosen:
                chosen.append(action)
    return chosen


def predict(
    tenant: TenantHistory,
    repository: str,
    now: datetime,
    window_hours: int,
    *,
    pipeline_id: str | None = None,
    model: FailureModel | None = None,
) -> Prediction:
    """The prediction for `repository`; the model is fitted on the tenant's history unless given.

    Raises KeyError for a repository the tenant has no history of (the route turns it into 404).
    """
    history = tenant.repository(repository)
    if history is None:
        raise KeyError(repository)
    if not 0 < window_hours <= MAX_WINDOW_HOURS:
        raise ValueError(f"prediction_window must be within 1..{MAX_WINDOW_HOURS} hours")
    if model is None:
        start = tenant.observed_since or now
        model = fit(training_samples(tenant, window_hours, start, now))
    x = features(tenant, history, now, window_hours)
    probability = model.probability(x.vector)
    alpha, beta = x.beta
    mean = alpha / (alpha + beta)
    sd = math.sqrt(alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1)))
    ends = [
        model.probability(x.with_failure_rate(rate, window_hours))
        for rate in (max(1e-6, mean - INTERVAL_Z * sd), min(1.0, mean + INTERVAL_Z * sd))
    ]
    low, high = min(*ends, probability), max(*ends, probability)
    modes = failure_modes(history, now, window_hours)
    return Prediction(
        pipeline_id=pipeline_id or history.repository,
        repository=history.repository,
        prediction_window=window_hours,
        generated_at=stamp(now) or "",
        prediction=PredictionDetail(
            failure_probability=round(probability, 4),
            most_likely_failure=modes[0].type if modes else None,
            confidence=round(1.0 - (high - low), 4),
            recommended_actions=_actions(modes, x.known_flaky > 0.5),
            probability_interval=[round(low, 4), round(high, 4)],
            expected_runs=round(x.runs_per_hour * window_hours, 3),
            failure_modes=modes,
            factors={
                "runs_per_day": round(x.runs_per_hour * 24, 3),
                "recent_runs_per_day": round(x.recent_runs_per_hour * 24, 3),
                "failure_rate": round(x.failure_rate, 4),
                "recent_failure_rate": round(x.recent_failure_rate, 4),
                "last_run_failed": x.last_run_failed,
                "pattern_due": round(x.pattern_due, 4),
                "known_flaky": round(x.known_flaky, 4),
            },
        ),
        model=ModelInfo(
            name=MODEL_NAME,
            version=MODEL_VERSION,
            fitted=model.fitted,
            training_samples=model.training_samples,
            training_positive_rate=(
                round(model.training_positives / model.training_samples, 4) if model.training_samples else None
            ),
            coefficients={name: round(b, 4) for name, b in zip(FEATURES, model.coefficients, strict=True)},
            half_life_hours={"long": LONG_HALF_LIFE_HOURS, "short": SHORT_HALF_LIFE_HOURS},
            trained_until=stamp(now) or "",
        ),
    )
