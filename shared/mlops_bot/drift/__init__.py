"""Data drift and model degradation detection, the evidence behind "retrain" and "roll back" repairs.

``compute_drift`` compares a reference dataset (training data, last healthy window) with the current one
column by column, choosing tests the way Evidently does; ``compare_model_metrics`` checks evaluation metrics
against a baseline. Both return pydantic models that serialise straight into incidents and API responses.

The numeric stack (numpy, scipy, pyarrow) is imported on first use of a drift name, not on import of
the package: the management API and the detector use ``model_metrics`` alone and do not ship it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlops_bot.drift.model_metrics import (
    MetricChange,
    MetricRule,
    ModelDegradation,
    ModelThresholds,
    compare_model_metrics,
)

if TYPE_CHECKING:
    from mlops_bot.drift.datasets import DatasetError, S3ObjectReader, load_dataset, load_table
    from mlops_bot.drift.report import (
        ColumnDrift,
        DriftOptions,
        DriftReport,
        TestChoice,
        TestName,
        compute_drift,
        drift_incident_description,
    )

_LAZY = {
    "DatasetError": "datasets",
    "S3ObjectReader": "datasets",
    "load_dataset": "datasets",
    "load_table": "datasets",
    "ColumnDrift": "report",
    "DriftOptions": "report",
    "DriftReport": "report",
    "TestChoice": "report",
    "TestName": "report",
    "compute_drift": "report",
    "drift_incident_description": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"mlops_bot.drift.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mlops_bot.drift' has no attribute {name!r}")


__all__ = [
    "ColumnDrift",
    "DatasetError",
    "DriftOptions",
    "DriftReport",
    "MetricChange",
    "MetricRule",
    "ModelDegradation",
    "ModelThresholds",
    "S3ObjectReader",
    "TestChoice",
    "TestName",
    "compare_model_metrics",
    "compute_drift",
    "drift_incident_description",
    "load_dataset",
    "load_table",
]
