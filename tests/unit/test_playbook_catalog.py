"""The playbooks as the API shows them, on the in-memory stores: switches, statistics, versions."""

from __future__ import annotations

from typing import Any

from mlops_bot.management.healing import playbooks
from mlops_bot.stores.incidents import Incident, InMemoryIncidentStore
from mlops_bot.stores.playbook_settings import InMemoryPlaybookSettingsStore, PlaybookRelease

TENANT = "default"


def add(incidents: InMemoryIncidentStore, n: int, tenant: str = TENANT, **fields: Any) -> None:
    incidents.open_or_update(
        Incident(
            id=f"inc-{n}",
            tenant_id=tenant,
            repository="acme/model",
            type="pipeline_failure",
            severity="high",
            description="CI failed",
            detected_at=f"2026-11-25T10:00:0{n}.000000Z",
            **fields,
        )
    )


def test_statistics_count_each_planned_round_and_the_tenants_incidents_only() -> None:
    settings, incidents = InMemoryPlaybookSettingsStore(), InMemoryIncidentStore()
    add(incidents, 1, playbook="flaky_test_response", status="resolved", attempts=2, resolution_time=100)
    add(incidents, 2, playbook="flaky_test_response", status="failed", attempts=1)
    add(incidents, 3, playbook="flaky_test_response", status="verifying", attempts=1)
    add(incidents, 4, playbook="pipeline_failure_fix", status="resolved", attempts=1, resolution_time=50)
    add(incidents, 5, tenant="other", playbook="flaky_test_response", status="failed", attempts=3)
    details = playbooks.playbook_details(settings, incidents, TENANT, "flaky_test_response")
    stats = details.statistics
    assert (stats.total_executions, stats.successful_executions, stats.running_executions) == (4, 1, 1)
    assert (stats.failed_executions, stats.success_rate, stats.average_execution_time) == (2, 0.3333, 100.0)


def test_a_disabled_playbook_shows_disabled_to_its_tenant_only() -> None:
    settings, incidents = InMemoryPlaybookSettingsStore(), InMemoryIncidentStore()
    playbooks.list_playbooks(settings, incidents, TENANT)  # this deployment's definitions are recorded
    update = playbooks.PlaybookUpdate(enabled=False, reason="too noisy")
    updated = playbooks.update_playbook(settings, TENANT, "data_drift_response", update, "key-1")
    listed = {p.name: p for p in playbooks.list_playbooks(settings, incidents, TENANT).playbooks}
    assert listed["data_drift_response"].enabled is False and listed["pipeline_failure_fix"].enabled is True
    assert listed["data_drift_response"].last_updated == updated.updated_at
    others = playbooks.list_playbooks(settings, incidents, "other").playbooks
    assert all(p.enabled for p in others)


def test_a_changed_definition_raises_the_patch_version_once() -> None:
    settings = InMemoryPlaybookSettingsStore()
    first = playbooks.release(settings, "pipeline_failure_fix")
    assert playbooks.release(settings, "pipeline_failure_fix") == first
    settings.releases.put(
        "pipeline_failure_fix",
        PlaybookRelease(
            playbook="pipeline_failure_fix",
            fingerprint="an-older-definition",
            created_at=first.created_at,
            updated_at="2025-01-01T00:00:00.000000Z",
        ),
    )
    changed = playbooks.release(settings, "pipeline_failure_fix")
    assert changed.version.split(".")[-1] == str(int(first.version.split(".")[-1]) + 1)
    assert changed.created_at == first.created_at and changed.updated_at > "2025-01-01"
    assert playbooks.release(settings, "pipeline_failure_fix") == changed
