"""Every field of the two API documents does what it says, or is refused with a 422 (issue 12)."""

from __future__ import annotations

from typing import Any

from mlops_bot.clock import iso, utc_now
from tests.integration.api.conftest import Api

# ------------------------------------------------------------------------------ issues


def test_issue_status_filter_maps_internal_states_onto_the_documented_ones(api: Api) -> None:
    healing = api.incident(status="healing")
    waiting = api.incident(status="awaiting_human")
    resolved = api.incident(status="resolved", resolved_at=iso(utc_now()))
    api.incident(status="failed")
    headers = api.key("read")

    def ids(status: str) -> set[str]:
        body = api.client.get("/api/v1/issues", headers=headers, params={"status": status}).json()
        return {i["id"] for i in body["issues"]}

    assert ids("open") == {healing["id"], waiting["id"]}
    assert ids("resolved") == {resolved["id"]}
    assert ids("healing") == {healing["id"]}
    listed = api.client.get("/api/v1/issues", headers=headers, params={"status": "open"}).json()["issues"]
    assert {i["status"] for i in listed} == {"open"}
    assert {i["state"] for i in listed} == {"healing", "awaiting_human"}
    refused = api.client.get("/api/v1/issues", headers=headers, params={"status": "closed"})
    assert refused.status_code == 422


def test_issues_carry_executed_at_run_id_affected_files_and_null_resolved_at(api: Api) -> None:
    at = iso(utc_now())
    action: dict[str, Any] = {"action": "open_fix_pr", "status": "completed", "timestamp": at, "details": {}}
    incident = api.incident(
        status="verifying",
        metadata={"workflow_name": "CI", "run_id": 789},
        diagnosis={"category": "dependency", "details": {"file": "src/train.py"}},
        actions_taken=[action],
    )
    body = api.client.get(f"/api/v1/issues/{incident['id']}", headers=api.key("read")).json()
    assert body["resolved_at"] is None
    assert body["status"] == "open"
    assert body["metadata"]["workflow_run_id"] == 789
    assert body["metadata"]["affected_files"] == ["src/train.py"]
    assert body["actions_taken"][0]["executed_at"] == at
    listed = api.client.get("/api/v1/issues", headers=api.key("read")).json()["issues"][0]
    assert "resolved_at" in listed and listed["resolved_at"] is None
