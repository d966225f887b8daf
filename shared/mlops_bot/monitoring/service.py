"""Drift reports and model metrics posted by a pipeline become incidents the healer can act on.

- A drift report (the shape `mlops-bot drift --json` prints) with `dataset_drift: true` opens a
  `data_drift` incident whose description carries the drift score and the drifted columns.
- Model metrics for a deployment are compared with the last good baseline by the repository's
  thresholds (`configuration.model_thresholds`); a degradation opens `model_degradation`, a
  healthy result becomes the new baseline and the last good deployment (the rollback target).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import NotFound
from mlops_bot.stores.incidents import (
    Incident,
    IncidentStore,
    IncidentType,
    Severity,
    TimelineEntry,
    TimelineEvent,
)
from mlops_bot.stores.repositories import (
    ModelBaseline,
    ModelDeployment,
    Repository,
    RepositoryStore,
)

if TYPE_CHECKING:
    from mlops_bot.messages import MessageQueue
    from mlops_bot.stores.events import EventStore

# Detection (with the queue messages and the event store) and the model-metrics comparison are
# imported by the report that needs them: the management API's cold start only builds the models.

DEFAULT_THRESHOLDS = {"default": {"max_relative_drop": 0.05}}


# A report is stored in an incident item (DynamoDB: 400 KB): names, counts and texts are bounded.
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Reference = Annotated[str, StringConstraints(max_length=2048)]
MAX_COLUMNS = 500
MAX_METRICS = 200


class PostedColumnDrift(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    test: Annotated[str, StringConstraints(max_length=64)]
    statistic: float
    p_value: float | None = None
    threshold: float
    drifted: bool


class DriftReportIn(BaseModel):
    """A drift report as `mlops-bot drift --json` prints it, plus where it came from; any other key is a 422."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    columns: dict[ColumnName, PostedColumnDrift] = Field(max_length=MAX_COLUMNS)
    drift_share: float = Field(ge=0, le=1)
    dataset_drift: bool
    reference: Reference | None = None
    current: Reference | None = None
    ref: Reference | None = Field(default=None, description="Git ref the retrain workflow should run on")


class DeploymentRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Reference
    environment: Annotated[str, StringConstraints(max_length=255)] = "production"
    sha: Annotated[str, StringConstraints(max_length=64)] | None = None


class ModelMetricsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    deployment: DeploymentRef
    metrics: dict[MetricName, float] = Field(min_length=1, max_length=MAX_METRICS)


class SignalOutcome(BaseModel):
    incident_id: str | None
    new_incident: bool = False
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class SignalStores:
    """What a posted signal reads and writes: the repository, its incidents, its activity."""

    repositories: RepositoryStore
    incidents: IncidentStore
    events: EventStore


def _repository(stores: SignalStores, tenant_id: str, full_name: str) -> Repository:
    repository = stores.repositories.get(tenant_id, full_name)
    if repository is None:
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    return repository


def _signal_id(kind: str, full_name: str, fingerprint: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([kind, full_name.lower(), fingerprint], sort_keys=True).encode())
    return f"inc-{kind[:5]}-{digest.hexdigest()[:12]}"


def _open(stores: SignalStores, healing_queue: MessageQueue, incident: Incident) -> tuple[str, bool]:
    from mlops_bot.detection.incidents import raise_incident

    stored, is_new = raise_incident(stores.incidents, stores.events, healing_queue, incident)
    return stored.id, is_new


def report_drift(
    stores: SignalStores,
    healing_queue: MessageQueue,
    tenant_id: str,
    full_name: str,
    report: DriftReportIn,
) -> SignalOutcome:
    _repository(stores, tenant_id, full_name)
    drifted = sorted(name for name, column in report.columns.items() if column.drifted)
    tests = sorted({column.test for column in report.columns.values()})  # what decided (the drift.test setting)
    summary = (
        f"Data drift: {len(drifted)} of {len(report.columns)} columns drifted (drift score {report.drift_share:.2f})"
    )
    if not report.dataset_drift:
        return SignalOutcome(
            incident_id=None,
            summary=summary.replace("Data drift", "No dataset drift"),
            details={"drifted_columns": drifted, "tests": tests},
        )
    now = iso(utc_now())
    incident = Incident(
        id=_signal_id(
            "drift", full_name, {"reference": report.reference, "current": report.current, "columns": drifted}
        ),
        tenant_id=tenant_id,
        repository=full_name,
        type=IncidentType.DATA_DRIFT,
        severity=Severity.HIGH if report.drift_share >= 0.75 else Severity.MEDIUM,
        description=f"{summary}: {', '.join(drifted[:10])}",
        detected_at=now,
        metadata={
            "drift_share": report.drift_share,
            "drifted_columns": drifted,
            "reference": report.reference,
            "current": report.current,
            "ref": report.ref,
            "drift_inputs": {
                "drift_share": f"{report.drift_share:.4f}",
                "drifted_columns": ",".join(drifted),
                "current": report.current or "",
            },
        },
        timeline=[TimelineEntry.now(TimelineEvent.ISSUE_DETECTED, "drift report posted")],
    )
    incident_id, is_new = _open(stores, healing_queue, incident)
    return SignalOutcome(
        incident_id=incident_id,
        new_incident=is_new,
        summary=summary,
        details={"drifted_columns": drifted, "tests": tests},
    )


def _keep_as_baseline(stores: SignalStores, tenant_id: str, full_name: str, posted: ModelMetricsIn) -> None:
    """The posted metrics become the baseline, their deployment the last good one (a rollback's target)."""
    baseline = ModelBaseline(metrics=posted.metrics, ref=posted.deployment.ref, at=iso(utc_now()))
    deployment = ModelDeployment.model_validate(posted.deployment.model_dump(exclude_none=True))
    if not stores.repositories.record_model_baseline(tenant_id, full_name, baseline, deployment):
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")


def report_model_metrics(
    stores: SignalStores,
    healing_queue: MessageQueue,
    tenant_id: str,
    full_name: str,
    posted: ModelMetricsIn,
) -> SignalOutcome:
    from mlops_bot.drift.model_metrics import ModelThresholds, compare_model_metrics

    repository = _repository(stores, tenant_id, full_name)
    configuration = repository.configuration.model_dump(mode="json", exclude_none=True)
    thresholds = ModelThresholds.model_validate(configuration.get("model_thresholds") or DEFAULT_THRESHOLDS)
    baseline = stores.repositories.model_baseline(tenant_id, full_name)
    if baseline is None:
        _keep_as_baseline(stores, tenant_id, full_name, posted)
        return SignalOutcome(incident_id=None, summary="First metrics recorded as the baseline")
    result = compare_model_metrics(posted.metrics, baseline.metrics, thresholds)
    changes = result.model_dump(mode="json")
    if not result.degraded:
        _keep_as_baseline(stores, tenant_id, full_name, posted)
        return SignalOutcome(incident_id=None, summary="Metrics within thresholds; baseline updated", details=changes)
    worse = [name for name, change in result.metrics.items() if change.degraded]
    now = iso(utc_now())
    incident = Incident(
        id=_signal_id("model", full_name, {"ref": posted.deployment.ref, "environment": posted.deployment.environment}),
        tenant_id=tenant_id,
        repository=full_name,
        type=IncidentType.MODEL_DEGRADATION,
        severity=Severity.HIGH,
        description=(
            f"Model degraded on {posted.deployment.environment} at {posted.deployment.ref}: "
            + ", ".join(
                f"{m} {baseline.metrics[m]:.4g} -> {posted.metrics.get(m, float('nan')):.4g}"
                for m in worse
                if m in baseline.metrics
            )
        ),
        detected_at=now,
        metadata={
            "ref": posted.deployment.ref,
            "environment": posted.deployment.environment,
            "degraded_metrics": worse,
            "baseline_ref": baseline.ref,
        },
        timeline=[TimelineEntry.now(TimelineEvent.ISSUE_DETECTED, "model metrics posted")],
    )
    incident_id, is_new = _open(stores, healing_queue, incident)
    return SignalOutcome(incident_id=incident_id, new_incident=is_new, summary=incident.description, details=changes)
