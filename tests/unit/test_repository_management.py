"""The repositories service (listing, details, configuration updates) on the in-memory stores."""

from __future__ import annotations

import pytest

from mlops_bot.errors import NotFound, ValidationFailed
from mlops_bot.management.watching.repositories import (
    RepositoryConfigUpdate,
    list_repositories,
    repository_details,
    update_configuration,
)
from mlops_bot.stores.incidents import (
    Incident,
    IncidentStatus,
    InMemoryIncidentStore,
    TimelineEntry,
    TimelineEvent,
)
from mlops_bot.stores.repositories import InMemoryRepositoryStore, RepositoryStatus
from mlops_bot.tenancy.service import enroll_repository


@pytest.fixture
def store() -> InMemoryRepositoryStore:
    repositories = InMemoryRepositoryStore()
    for name in ("acme/b", "acme/a", "acme/c"):
        enroll_repository(repositories, "t1", name, source="test")
    enroll_repository(repositories, "t2", "other/x", source="test")
    return repositories


def test_a_listing_is_the_tenants_own_repositories_by_name_paged(store: InMemoryRepositoryStore) -> None:
    page = list_repositories(store, "t1", limit=2, offset=1)
    assert page.total == 3
    assert [r.full_name for r in page.repositories] == ["acme/b", "acme/c"]


def test_a_status_filter_keeps_only_matching_repositories(store: InMemoryRepositoryStore) -> None:
    store.repositories.update(("t1", "acme/b"), lambda r: r.model_copy(update={"status": RepositoryStatus.PAUSED}))
    assert [r.full_name for r in list_repositories(store, "t1", 50, 0, "paused").repositories] == ["acme/b"]


def test_an_update_changes_only_the_given_fields(store: InMemoryRepositoryStore) -> None:
    update_configuration(store, "t1", "acme/a", RepositoryConfigUpdate(detection_sensitivity="high"))
    update_configuration(store, "t1", "acme/a", RepositoryConfigUpdate(auto_fix_enabled=False))
    stored = store.get("t1", "acme/a")
    assert stored is not None
    assert (stored.configuration.detection_sensitivity, stored.configuration.auto_fix_enabled) == ("high", False)


def test_an_empty_update_and_another_tenants_repository_are_refused(store: InMemoryRepositoryStore) -> None:
    with pytest.raises(ValidationFailed):
        update_configuration(store, "t1", "acme/a", RepositoryConfigUpdate())
    with pytest.raises(NotFound):
        update_configuration(store, "t1", "other/x", RepositoryConfigUpdate(auto_fix_enabled=False))


def test_an_installation_repository_of_another_tenant_is_not_taken_over(store: InMemoryRepositoryStore) -> None:
    assert enroll_repository(store, "t1", "other/x", source="test") == "t2"
    assert store.get("t1", "other/x") is None


def test_a_name_github_would_refuse_is_never_enrolled() -> None:
    store = InMemoryRepositoryStore()
    with pytest.raises(ValueError):
        enroll_repository(store, "t1", "../../x", source="test")
    assert store.repository_routes.values() == [] and store.repositories.values() == []


def _incident(incident_id: str, repository: str, detected: str, **fields: object) -> Incident:
    return Incident.model_validate(
        {
            "id": incident_id,
            "tenant_id": fields.pop("tenant_id", "t1"),
            "repository": repository,
            "type": "pipeline_failure",
            "severity": "high",
            "description": "CI failed",
            "detected_at": detected,
            **fields,
        }
    )


def test_details_show_the_repositorys_own_incidents_newest_first_and_the_bots_response_time(
    store: InMemoryRepositoryStore,
) -> None:
    incidents = InMemoryIncidentStore()
    answered = [
        TimelineEntry(event=TimelineEvent.ISSUE_DETECTED, timestamp="2026-11-27T10:00:00Z"),
        TimelineEntry(event=TimelineEvent.ANALYSIS_STARTED, timestamp="2026-11-27T10:00:30Z"),
    ]
    for incident in (
        _incident("old", "acme/a", "2026-11-27T10:00:00Z", timeline=answered),
        _incident("new", "ACME/a", "2026-11-27T11:00:00Z", status=IncidentStatus.RESOLVED, resolution_time=90),
        _incident("elsewhere", "acme/b", "2026-11-27T12:00:00Z"),
        _incident("theirs", "acme/a", "2026-11-27T12:00:00Z", tenant_id="t2"),
    ):
        incidents.open_or_update(incident)

    details = repository_details(store, incidents, "t1", "acme/a")

    assert [(i.id, i.resolved, i.resolution_time) for i in details.recent_issues] == [
        ("new", True, 90),
        ("old", False, None),
    ]
    assert details.statistics.average_response_time == 30.0
    with pytest.raises(NotFound):
        repository_details(store, incidents, "t1", "other/x")
