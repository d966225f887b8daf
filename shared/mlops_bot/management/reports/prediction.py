"""Failure prediction for one pipeline of a tenant (`POST /api/ml/predict`).

A pipeline is a monitored repository: `pipeline_id` names a registered pipeline (whose record
carries its `repository`) or is the repository's full name; `repository` may be given instead.
The model is fitted on the whole tenant's history at each call (see
`mlops_bot.analytics.prediction`), so a new repository borrows what its siblings have shown.
"""

from __future__ import annotations

from datetime import datetime

from mlops_bot.analytics.prediction import Prediction, TenantHistory, predict
from mlops_bot.errors import NotFound
from mlops_bot.stores.events import EventStore
from mlops_bot.stores.incidents import IncidentStore
from mlops_bot.stores.pipelines import PipelineStore
from mlops_bot.stores.repositories import RepositoryStore


def repository_of(pipelines: PipelineStore, tenant_id: str, *, pipeline_id: str | None, repository: str | None) -> str:
    """The repository a prediction is about: given, linked to the registered pipeline, or the pipeline's name."""
    if repository:
        return repository
    if not pipeline_id:
        raise NotFound("Pipeline not found", "Give a pipeline_id or a repository")
    pipeline = pipelines.get(tenant_id, pipeline_id)
    if pipeline is not None:
        if not pipeline.repository:
            raise NotFound("Pipeline has no repository", f"Pipeline '{pipeline_id}' is not linked to a repository")
        return pipeline.repository
    if "/" in pipeline_id:
        return pipeline_id
    raise NotFound("Pipeline not found", f"No pipeline '{pipeline_id}' in this tenant")


def predict_failure(
    *,
    incidents: IncidentStore,
    events: EventStore,
    repositories: RepositoryStore,
    pipelines: PipelineStore,
    tenant_id: str,
    now: datetime,
    window_hours: int,
    pipeline_id: str | None = None,
    repository: str | None = None,
) -> Prediction:
    """P(a run of the pipeline's repository fails within `window_hours`), from the tenant's own history."""
    name = repository_of(pipelines, tenant_id, pipeline_id=pipeline_id, repository=repository)
    monitored = repositories.get(tenant_id, name) is not None
    history = TenantHistory.from_records(
        [event.model_dump(mode="json") for event in events.of_tenant(tenant_id)],
        [incident.model_dump(mode="json") for incident in incidents.all(tenant_id)],
        known_repositories=[name] if monitored else (),
    )
    if history.repository(name) is None:
        raise NotFound("Repository not found", f"{name} is not monitored by this tenant")
    return predict(history, name, now, window_hours, pipeline_id=pipeline_id or name)
