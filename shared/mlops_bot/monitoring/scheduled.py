"""The scheduled drift check of one repository: load its reference and current data, compare.

Locations come from the repository's `drift` configuration (`s3://bucket/key` or a local path).
The numeric stack (numpy, scipy, pyarrow) is imported only here: a deployment whose detector
ships without it reports the check as unavailable instead of failing the event.
"""

from __future__ import annotations

from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.sqs import Queue
from mlops_bot.monitoring.service import DriftReportIn, SignalOutcome, report_drift
from mlops_bot.storage import keys


def run_drift_check(
    table: StateTable, healing_queue: Queue, tenant_id: str, repository: str, s3_client: Any | None = None
) -> SignalOutcome | None:
    """None when the repository has no drift configuration; otherwise the check's outcome."""
    item = table.get(keys.repository_key(tenant_id, repository)) or {}
    drift = (item.get("configuration") or {}).get("drift") or {}
    if not drift.get("reference") or not drift.get("current"):
        return None
    try:
        from mlops_bot.drift import DriftOptions, compute_drift, load_table
    except ImportError as exc:
        return SignalOutcome(incident_id=None, summary=f"drift check unavailable: {exc.name} is not deployed")
    options = DriftOptions(test=drift.get("test", "auto"), drift_share_threshold=float(drift.get("drift_share", 0.5)))
    report = compute_drift(
        load_table(str(drift["reference"]), s3_client), load_table(str(drift["current"]), s3_client), options
    )
    posted = DriftReportIn.model_validate(
        {
            **report.model_dump(mode="json"),
            "reference": drift["reference"],
            "current": drift["current"],
            "ref": drift.get("ref"),
        }
    )
    return report_drift(table, healing_queue, tenant_id, repository, posted)
