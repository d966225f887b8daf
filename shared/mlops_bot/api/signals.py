"""Routes where a pipeline reports drift and model metrics (issue: diagnosis of data and models)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.sqs import Queue
from mlops_bot.api.dependencies import healing_queue, require, signal_stores
from mlops_bot.api.repositories import repository_full_name
from mlops_bot.monitoring.service import (
    DriftReportIn,
    ModelMetricsIn,
    SignalStores,
    report_drift,
    report_model_metrics,
)

router = APIRouter(prefix="/api/v1/repositories", tags=["signals"])


def _answer(outcome: Any) -> JSONResponse:
    return JSONResponse(outcome.model_dump(mode="json"), status_code=201 if outcome.new_incident else 200)


@router.post("/{owner}/{repo}/drift")
def post_drift_report(
    caller: Annotated[Principal, Depends(require("write"))],
    full_name: Annotated[str, Depends(repository_full_name)],
    report: DriftReportIn,
    stores: Annotated[SignalStores, Depends(signal_stores)],
    queue: Annotated[Queue, Depends(healing_queue)],
) -> JSONResponse:
    return _answer(report_drift(stores, queue, caller.tenant_id, full_name, report))


@router.post("/{owner}/{repo}/model-metrics")
def post_model_metrics(
    caller: Annotated[Principal, Depends(require("write"))],
    full_name: Annotated[str, Depends(repository_full_name)],
    metrics: ModelMetricsIn,
    stores: Annotated[SignalStores, Depends(signal_stores)],
    queue: Annotated[Queue, Depends(healing_queue)],
) -> JSONResponse:
    return _answer(report_model_metrics(stores, queue, caller.tenant_id, full_name, metrics))
