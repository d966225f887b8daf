"""GitHub App onboarding with auto-enrolment off: installation events, claims with proof, repositories.

The webhook ingress handler and the management API run against the same moto table; the GitHub
user-token check goes over HTTP to the stand-in GitHub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mlops_bot.access import tokens
from mlops_bot.config import reset_settings
from mlops_bot.storage import keys
from mlops_bot.stores.installations import installation_key
from mlops_bot.tenancy.installations import issue_claim_state
from tests.integration.api.conftest import JWT_SECRET, Api
from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_webhook_ingress import webhook
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn

INSTALLATION = 4242
REPOS = ["acme/churn", "acme/vision"]


@pytest.fixture
def ingress(api: Api, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MLOPS_BOT_AUTO_ENROLL", "false")  # as template.yaml deploys it
    reset_settings()
    return load_handler("webhook_ingress")


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubStandIn]:
    with GitHubStandIn() as standin:
        monkeypatch.setenv("GITHUB_API_URL", standin.url)
        yield standin


def deliver(ingress: Any, event: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = ingress.handler(webhook(payload, event=event), lambda_context())
    return response["statusCode"], json.loads(response["body"])


def installation_event(action: str, repositories: list[str] | None = None, iid: int = INSTALLATION) -> dict[str, Any]:
    return {
        "action": action,
        "installation": {"id": iid, "account": {"login": "acme", "type": "Organization"}, "app_id": 1},
        "repositories": [{"id": n, "full_name": r, "private": True} for n, r in enumerate(repositories or [])],
        "sender": {"login": "dana"},
    }


def failed_run(repository: str, iid: int = INSTALLATION) -> dict[str, Any]:
    return {
        "action": "completed",
        "workflow_run": {
            "id": 7,
            "name": "CI",
            "conclusion": "failure",
            "status": "completed",
            "head_branch": "main",
            "head_sha": "abc",
            "run_attempt": 1,
        },
        "repository": {"full_name": repository},
        "installation": {"id": iid},
        "sender": {"login": "dana"},
    }


def claim_by_state(api: Api, tenant: str, iid: int = INSTALLATION) -> Any:
    issued = api.client.post("/api/v1/installations/claims", headers=api.key("admin", tenant))
    assert issued.status_code == 201, issued.text
    state = issued.json()["state"]
    return api.client.get(
        "/api/v1/installations/setup", params={"installation_id": iid, "state": state, "setup_action": "install"}
    )


def test_an_unclaimed_installation_is_recorded_and_its_events_are_not_enrolled_anywhere(
    api: Api, ingress: Any, aws: MockState
) -> None:
    status, body = deliver(ingress, "installation", installation_event("created", REPOS))
    assert status == 202 and "not claimed" in body["message"]
    status, body = deliver(ingress, "workflow_run", failed_run("acme/churn"))
    assert status == 202
    assert body["status"] == "ignored" and "not claimed by a tenant" in body["message"]
    assert aws.messages("EventsQueue") == []
    assert api.table.get(keys.repository_key("default", "acme/churn")) is None
    assert api.table.get(keys.repository_route_key("acme/churn")) is None


def test_the_setup_url_state_claims_the_installation_and_its_events_flow_to_the_tenant(
    api: Api, ingress: Any, aws: MockState
) -> None:
    deliver(ingress, "installation", installation_event("created", REPOS))
    claimed = claim_by_state(api, "tenant-a")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["installation"]["tenant_id"] == "tenant-a"
    assert sorted(claimed.json()["enrolled"]) == REPOS
    listed = api.client.get("/api/v1/repositories", headers=api.key("read", "tenant-a")).json()
    assert sorted(r["full_name"] for r in listed["repositories"]) == REPOS

    status, body = deliver(ingress, "workflow_run", failed_run("acme/churn"))
    assert (status, body["status"]) == (202, "accepted")
    [queued] = aws.messages("EventsQueue")
    assert queued["tenant_id"] == "tenant-a"

    # Another tenant, even with a valid state of its own, cannot take it.
    assert claim_by_state(api, "tenant-b").status_code == 409


def test_a_setup_state_is_signed_single_use_and_proves_only_a_new_installation(api: Api, ingress: Any) -> None:
    deliver(ingress, "installation", installation_event("created", REPOS))
    forged = issue_claim_state("another-secret-that-is-long-enough-to-sign", "tenant-x")
    answer = api.client.get(
        "/api/v1/installations/setup", params={"installation_id": INSTALLATION, "state": forged.state}
    )
    assert answer.status_code == 401
    bare = api.client.get("/api/v1/installations/setup", params={"installation_id": INSTALLATION})
    assert bare.status_code == 422  # never by a bare id
    access, _ = tokens.encode(
        JWT_SECRET, subject="u1", tenant_id="tenant-x", token_type="access", lifetime_seconds=600, role="admin"
    )
    as_state = api.client.get("/api/v1/installations/setup", params={"installation_id": INSTALLATION, "state": access})
    assert as_state.status_code == 401  # same key, but an access token is not a setup state
    state_as_access = issue_claim_state(JWT_SECRET, "tenant-x").state
    assert (
        api.client.get("/api/v1/installations", headers={"authorization": f"Bearer {state_as_access}"}).status_code
        == 401
    )

    state = issue_claim_state(JWT_SECRET, "tenant-a").state
    # The installation was recorded long before the state was issued: the redirect's id proves nothing.
    api.table.set_fields(installation_key(INSTALLATION), {"created_at": "2020-01-01T00:00:00Z"})
    old = api.client.get("/api/v1/installations/setup", params={"installation_id": INSTALLATION, "state": state})
    assert old.status_code == 401

    deliver(ingress, "installation", installation_event("created", ["acme/new"], iid=5151))
    used = {"installation_id": 5151, "state": state}
    assert api.client.get("/api/v1/installations/setup", params=used).status_code == 200
    deliver(ingress, "installation", installation_event("created", ["acme/other"], iid=6161))
    again = api.client.get("/api/v1/installations/setup", params={"installation_id": 6161, "state": state})
    assert again.status_code == 401 and "already used" in again.json()["error"]["message"]


def test_a_github_user_token_claims_only_installations_github_lists_for_that_user(
    api: Api, ingress: Any, github: GitHubStandIn
) -> None:
    deliver(ingress, "installation", installation_event("created", REPOS))
    github.add_user("ghu_dana", "dana", [INSTALLATION])
    github.add_user("ghu_eve", "eve", [999])
    path = f"/api/v1/installations/{INSTALLATION}/claim"

    refused = api.client.post(path, json={"github_user_token": "ghu_eve"}, headers=api.key("admin", "tenant-e"))
    assert refused.status_code == 401
    bad = api.client.post(path, json={"github_user_token": "ghu_nobody"}, headers=api.key("admin", "tenant-e"))
    assert bad.status_code == 401
    assert api.client.post(path, json={}, headers=api.key("admin", "tenant-e")).status_code == 422
    writer = api.key("write", "tenant-d")
    assert api.client.post(path, json={"github_user_token": "ghu_dana"}, headers=writer).status_code == 403

    github.fail_next("GET", r"^/user/installations$", 502)
    down = api.client.post(path, json={"github_user_token": "ghu_dana"}, headers=api.key("admin", "tenant-d"))
    assert down.status_code == 503  # GitHub did not answer: nothing proven, nothing claimed
    claimed = api.client.post(path, json={"github_user_token": "ghu_dana"}, headers=api.key("admin", "tenant-d"))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["installation"]["claimed_by"] == "user_token"
    asked = github.calls_to("GET", r"^/user/installations$")
    assert [c.status for c in asked if c.headers["authorization"].endswith("dana")] == [502, 200]
    taken = api.client.post(path, json={"github_user_token": "ghu_dana"}, headers=api.key("admin", "tenant-e"))
    assert taken.status_code == 409


def test_suspend_and_delete_stop_processing_and_the_api_says_why(api: Api, ingress: Any, aws: MockState) -> None:
    deliver(ingress, "installation", installation_event("created", REPOS))
    claim_by_state(api, "tenant-s")
    deliver(ingress, "installation", installation_event("suspend"))
    status, body = deliver(ingress, "workflow_run", failed_run("acme/vision"))
    assert (status, body["status"]) == (202, "ignored")
    assert "suspended" in body["message"]
    shown = api.client.get(f"/api/v1/installations/{INSTALLATION}", headers=api.key("read", "tenant-s")).json()
    assert shown["status"] == "suspended" and "dana" in shown["status_reason"]
    assert shown["ignored_events"] == 1 and "suspended" in shown["last_ignored_reason"]
    assert aws.messages("EventsQueue") == []

    deliver(ingress, "installation", installation_event("unsuspend"))
    assert deliver(ingress, "workflow_run", failed_run("acme/vision"))[1]["status"] == "accepted"

    deliver(ingress, "installation", installation_event("deleted"))
    status, body = deliver(ingress, "workflow_run", failed_run("acme/vision"))
    assert body["status"] == "ignored" and "deleted" in body["message"]
    listed = api.client.get("/api/v1/installations", headers=api.key("read", "tenant-s")).json()
    assert [(i["id"], i["status"]) for i in listed["installations"]] == [(INSTALLATION, "deleted")]
    # Another tenant does not see it at all.
    assert api.client.get(f"/api/v1/installations/{INSTALLATION}", headers=api.key("read", "other")).status_code == 404


def test_a_suspension_delivered_after_the_newer_unsuspension_does_not_stop_processing(
    api: Api, ingress: Any, aws: MockState
) -> None:
    def at(action: str, updated_at: str) -> dict[str, Any]:
        payload = installation_event(action, REPOS)
        payload["installation"].update(created_at="2026-11-27T09:00:00Z", updated_at=updated_at)
        return payload

    deliver(ingress, "installation", at("created", "2026-11-27T09:00:00Z"))
    claim_by_state(api, "tenant-o")
    # GitHub suspended (10:05) then unsuspended (10:10); the suspension's delivery is retried last.
    deliver(ingress, "installation", at("unsuspend", "2026-11-27T10:10:00Z"))
    status, body = deliver(ingress, "installation", at("suspend", "2026-11-27T10:05:00Z"))
    assert status == 202 and "older than the recorded status" in body["message"]
    assert deliver(ingress, "workflow_run", failed_run("acme/vision"))[1]["status"] == "accepted"
    shown = api.client.get(f"/api/v1/installations/{INSTALLATION}", headers=api.key("read", "tenant-o")).json()
    assert shown["status"] == "active"

    # The uninstall arrives; the creation's delivery, retried after it, does not bring it back.
    deliver(ingress, "installation", at("deleted", "2026-11-27T11:00:00Z"))
    deliver(ingress, "installation", at("created", "2026-11-27T09:00:00Z"))
    assert deliver(ingress, "workflow_run", failed_run("acme/vision"))[1]["status"] == "ignored"


def test_repositories_follow_the_installation_and_the_tenant_adds_and_removes_them(api: Api, ingress: Any) -> None:
    deliver(ingress, "installation", installation_event("created", ["acme/churn"]))
    claim_by_state(api, "tenant-r")
    admin = api.key("admin", "tenant-r")

    added = {
        "action": "added",
        "installation": {"id": INSTALLATION, "account": {"login": "acme", "type": "Organization"}},
        "repository_selection": "selected",
        "repositories_added": [{"full_name": "acme/vision"}],
        "repositories_removed": [],
        "sender": {"login": "dana"},
    }
    assert deliver(ingress, "installation_repositories", added)[0] == 202
    names = lambda: sorted(  # noqa: E731
        r["full_name"] for r in api.client.get("/api/v1/repositories", headers=admin).json()["repositories"]
    )
    assert names() == ["acme/churn", "acme/vision"]

    assert api.client.delete("/api/v1/repositories/acme/vision", headers=admin).status_code == 204
    assert names() == ["acme/churn"]
    _, body = deliver(ingress, "workflow_run", failed_run("acme/vision"))
    assert body["status"] == "ignored" and "removed from monitoring" in body["message"]
    assert api.client.delete("/api/v1/repositories/acme/vision", headers=admin).status_code == 404

    assert api.client.post("/api/v1/repositories", json={"full_name": "acme/vision"}, headers=admin).status_code == 201
    assert names() == ["acme/churn", "acme/vision"]
    assert deliver(ingress, "workflow_run", failed_run("acme/vision"))[1]["status"] == "accepted"

    outside = api.client.post("/api/v1/repositories", json={"full_name": "evil/corp"}, headers=admin)
    assert outside.status_code == 422
    manual = api.client.post("/api/v1/repositories", json={"full_name": "acme/pat-only", "manual": True}, headers=admin)
    assert manual.status_code == 201 and manual.json()["source"] == "manual"
    other = api.client.post(
        "/api/v1/repositories", json={"full_name": "acme/pat-only", "manual": True}, headers=api.key("admin", "t2")
    )
    assert other.status_code == 409

    gone = [{"full_name": "acme/churn"}]
    removed = {**added, "action": "removed", "repositories_added": [], "repositories_removed": gone}
    deliver(ingress, "installation_repositories", removed)
    assert names() == ["acme/pat-only", "acme/vision"]
