"""Failure prediction for one pipeline of the caller's tenant (Healing Guard's `POST /api/ml/predict`).

Which repository a pipeline is, and the model, are `mlops_bot.management.reports.prediction`'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlops_bot.access.api_keys import Principal
from mlops_bot.analytics.prediction import MAX_WINDOW_HOURS, Prediction
from mlops_bot.api.dependencies import event_store, incident_store, pipeline_store, repository_store, require
from mlops_bot.clock import utc_now
from mlops_bot.management.reports import prediction as service
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.incidents import IncidentStore
from mlops_bot.stores.pipelines import PipelineStore
from mlops_bot.stores.repositories import RepositoryStore

router = APIRouter(prefix="/api/ml", tags=["ml"])


class PredictionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline_id: str | None = Field(None, min_length=1, max_length=300)
    repository: str | None = Field(None, min_length=3, max_length=200, pattern=r"^[^/\s]+/[^/\s]+$")
    prediction_window: int = Field(24, ge=1, le=MAX_WINDOW_HOURS, description="Hours ahead")

    @model_validator(mode="after")
    def _names_a_pipeline(self) -> PredictionRequest:
        if not self.pipeline_id and not self.repository:
            raise ValueError("give pipeline_id or repository")
        return self


@router.post("/predict")
def predict_failure(
    request: PredictionRequest,
    caller: Annotated[Principal, Depends(require("read", "analytics"))],
    incidents: Annotated[IncidentStore, Depends(incident_store)],
    events: Annotated[EventStore, Depends(event_store)],
    repositories: Annotated[RepositoryStore, Depends(repository_store)],
    pipelines: Annotated[PipelineStore, Depends(pipeline_store)],
) -> Prediction:
    return service.predict_failure(
        incidents=incidents,
        events=events,
        repositories=repositories,
        pipelines=pipelines,
        tenant_id=caller.tenant_id,
        now=utc_now(),
        window_hours=request.prediction_window,
        pipeline_id=request.pipeline_id,
        repository=request.repository,
    )
