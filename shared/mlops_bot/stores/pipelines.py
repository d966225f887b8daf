"""Registered pipelines, counted against the tenant's `max_pipelines` in the same write.

`create` takes a slot and writes the pipeline in one transaction (refused when the tenant is
full); `delete` removes the pipeline and gives its slot back in one transaction that only one of
any number of concurrent deletes can win, so the counter always equals the number of pipelines.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores import _dynamo
from mlops_bot.stores.base import read_item, read_items

NotificationChannel = Literal["slack", "email", "github", "webhook"]
PIPELINE_COUNTER = "pipeline_count"


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retry_attempts: int = Field(default=3, ge=0, le=10)
    timeout: int = Field(default=300, ge=1, le=86_400)
    notification_channels: list[NotificationChannel] = Field(default_factory=list, max_length=10)


class Pipeline(BaseModel):
    """The stored pipeline (item `TENANT#t` / `PIPELINE#id`)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    tenant_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    webhook_url: str | None = Field(default=None, max_length=2048)
    repository: str | None = Field(default=None, max_length=201)
    workflow: str | None = Field(default=None, max_length=200)
    config: PipelineConfig = Field(default_factory=PipelineConfig)
    created_at: str
    created_by: str = ""


class PipelineStore(Protocol):
    def get(self, tenant_id: str, pipeline_id: str) -> Pipeline | None: ...
    def list(self, tenant_id: str) -> list[Pipeline]: ...
    def create(self, pipeline: Pipeline, *, max_pipelines: int) -> bool:
        """False (and nothing written) when the tenant already has `max_pipelines`."""
        ...

    def delete(self, tenant_id: str, pipeline_id: str) -> bool:
        """True for the one call that removed the pipeline and freed its slot."""
        ...

    def count(self, tenant_id: str) -> int: ...


class DynamoPipelineStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, tenant_id: str, pipeline_id: str) -> Pipeline | None:
        item = self.table.get(keys.pipeline_key(tenant_id, pipeline_id))
        return read_item(Pipeline, item, "pipeline")

    def list(self, tenant_id: str) -> list[Pipeline]:
        return read_items(Pipeline, self.table.query(keys.tenant_pk(tenant_id), "PIPELINE#"), "pipeline")

    def create(self, pipeline: Pipeline, *, max_pipelines: int) -> bool:
        item = {**keys.pipeline_key(pipeline.tenant_id, pipeline.id), "entity": "pipeline", **pipeline.model_dump()}
        counters = keys.tenant_counters_key(pipeline.tenant_id)
        try:
            _dynamo.transact(
                self.table,
                [
                    _dynamo.counter_update(counters, pipeline.tenant_id, PIPELINE_COUNTER, 1, max_pipelines),
                    _dynamo.put_new(item),
                ],
            )
        except _dynamo.TransactionRefused as refused:
            if 0 in refused.failed:
                return False
            raise
        return True

    def delete(self, tenant_id: str, pipeline_id: str) -> bool:
        counters = keys.tenant_counters_key(tenant_id)
        try:
            _dynamo.transact(
                self.table,
                [
                    _dynamo.delete_existing(keys.pipeline_key(tenant_id, pipeline_id)),
                    _dynamo.counter_update(counters, tenant_id, PIPELINE_COUNTER, -1, None),
                ],
            )
        except _dynamo.TransactionRefused:
            return False
        return True

    def count(self, tenant_id: str) -> int:
        item = self.table.get(keys.tenant_counters_key(tenant_id)) or {}
        return int(item.get(PIPELINE_COUNTER, 0))


class InMemoryPipelineStore:
    def __init__(self) -> None:
        self._pipelines: dict[tuple[str, str], Pipeline] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str, pipeline_id: str) -> Pipeline | None:
        return self._pipelines.get((tenant_id, pipeline_id))

    def list(self, tenant_id: str) -> list[Pipeline]:
        return sorted((p for (t, _), p in self._pipelines.items() if t == tenant_id), key=lambda p: p.id)

    def create(self, pipeline: Pipeline, *, max_pipelines: int) -> bool:
        with self._lock:
            if self.count(pipeline.tenant_id) >= max_pipelines:
                return False
            self._pipelines[(pipeline.tenant_id, pipeline.id)] = pipeline
            return True

    def delete(self, tenant_id: str, pipeline_id: str) -> bool:
        with self._lock:
            return self._pipelines.pop((tenant_id, pipeline_id), None) is not None

    def count(self, tenant_id: str) -> int:
        return sum(1 for t, _ in self._pipelines if t == tenant_id)
