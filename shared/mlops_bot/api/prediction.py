"""Failure prediction for one pipeline of the caller's tenant (Healing Guard's `POST /api/ml/predict`).

A pipeline is a monitored repository: `pipeline_id` names a registered pipeline (whose record
carries its `repository`) or is the repository's full name; `repository` may be given instead.
The model is fitted on the whole tenant's history at each call (see
`mlops_bot.analytics.prediction`), so a new repository borrows what its siblings have shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.analytics.prediction import MAX_WINDOW_HOURS, Prediction, TenantHistory, predict
from mlops_bot.api.dependencies import require, state_table
from mlops_bot.clock import utc_now
from mlops_bot.errors import NotFound
from mlops_bot.storage import keys

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


def _repository_of(table: StateTable, tenant_id: str, request: PredictionRequest) -> str:
    if request.repository:
        return request.repository
    pipeline_id = str(request.pipeline_id)
    pipeline: dict[str, Any] | None = table.get(keys.pipeline_key(tenant_id, pipeline_id))
    if pipeline is not None:
        linked = pipeline.get("repository") or pipeline.get("full_name")
        if not linked:
            raise NotFound("Pipeline has no repository", f"Pipeline '{pipeline_id}' is not linked to a repository")
        return str(linked)
    if "/" in pipeline_id:
        return pipeline_id
    raise NotFound("Pipeline not found", f"No pipeline '{pipeline_id}' in this tenant")


@router.post("/predict")
def predict_failure(
    request: PredictionRequest,
    caller: Annotated[Principal, Depends(require("read", "analytics"))],
    table: Annotated[StateTable, Depends(state_table)],
) -> Prediction:
    tenant_id = caller.tenant_id
    repository = _repository_of(table, tenant_id, request)
    monitored = table.get(keys.repository_key(tenant_id, repository)) is not None
    history = TenantHistory.from_records(
        table.query(keys.events_index(tenant_id), by_index=True),
        table.query(keys.incidents_index(tenant_id), by_index=True),
        known_repositories=[repository] if monitored else (),
    )
    if history.repository(repository) is None:
        raise NotFound("Repository not found", f"{repository} is not monitored by this tenant")
    return predict(
        history,
        repository,
        utc_now(),
        request.prediction_window,
        pipeline_id=request.pipeline_id or repository,
    )
