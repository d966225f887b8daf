"""Analytics over a tenant's incident history: recurring failure patterns and failure prediction.

Everything here is pure (lists of stored incident/event dicts plus `now` in, typed results out), so
the API routes, the benchmark and the tests all exercise the same code without AWS.
"""

from mlops_bot.analytics.patterns import (
    FailurePattern,
    PatternsReport,
    Recurrence,
    Signature,
    find_patterns,
    normalise,
    signature_of,
)
from mlops_bot.analytics.prediction import FailureModel, Prediction, TenantHistory, fit, predict

__all__ = [
    "FailureModel",
    "FailurePattern",
    "PatternsReport",
    "Prediction",
    "Recurrence",
    "Signature",
    "TenantHistory",
    "find_patterns",
    "fit",
    "normalise",
    "predict",
    "signature_of",
]
