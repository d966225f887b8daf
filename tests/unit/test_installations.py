"""Onboarding rules on the in-memory installation store: what an event may do, what a state proves."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from mlops_bot.errors import Unauthorized
from mlops_bot.stores.installations import InMemoryInstallationStore, InstallationItem, InstallationStatus
from mlops_bot.stores.repositories import InMemoryRepositoryStore
from mlops_bot.tenancy import installations

SECRET = "unit-test-secret-with-at-least-32-characters"


def recorded(store: InMemoryInstallationStore, **fields: Any) -> InstallationItem:
    item = InstallationItem.model_validate(
        {
            "installation_id": 9,
            "account_login": "acme",
            "repositories": ["acme/a"],
            "created_at": "2026-11-27T10:00:00Z",
            "updated_at": "2026-11-27T10:00:00Z",
            **fields,
        }
    )
    store.save(item)
    return item


def event(action: str, **parts: Any) -> dict[str, Any]:
    return {"action": action, "installation": {"id": 9, "account": {"login": "acme", "type": "User"}}, **parts}


def test_events_of_an_unclaimed_installation_are_refused_only_when_auto_enrolment_is_off() -> None:
    store = InMemoryInstallationStore()
    recorded(store)
    refused = installations.refusal(store, 9, "acme/a", auto_enroll=False)
    assert refused is not None and refused.status == "ignored" and "not claimed" in refused.message
    assert installations.refusal(store, 9, "acme/a", auto_enroll=True) is None
    assert installations.refusal(store, 10, "acme/x", auto_enroll=False) is None  # never seen: routing decides
    assert installations.refusal(store, None, "acme/x", auto_enroll=False) is None


def test_a_suspended_installation_and_an_excluded_repository_are_refused_even_when_claimed() -> None:
    store = InMemoryInstallationStore()
    recorded(store, tenant_id="t1", status=InstallationStatus.SUSPENDED, status_reason="suspended by dana")
    refused = installations.refusal(store, 9, "acme/a", auto_enroll=True)
    assert refused is not None and "suspended" in refused.message and "dana" in refused.message
    assert installations.write_refusal(store, 9) is not None

    store = InMemoryInstallationStore()
    recorded(store, tenant_id="t1", excluded_repositories=["Acme/A"])
    assert installations.refusal(store, 9, "acme/a", auto_enroll=False) is not None
    assert installations.refusal(store, 9, "acme/b", auto_enroll=False) is None
    assert installations.write_refusal(store, 9) is None


def test_installation_events_keep_the_selection_and_the_status_github_reports() -> None:
    store = InMemoryInstallationStore()
    repositories = InMemoryRepositoryStore()
    installations.record_event(
        store, repositories, "installation", event("created", repositories=[{"full_name": "acme/a"}])
    )
    installations.record_event(
        store,
        repositories,
        "installation_repositories",
        event(
            "added",
            repositories_added=[{"full_name": "acme/b"}, {"full_name": "ACME/a"}],
            repositories_removed=[],
        ),
    )
    installations.record_event(
        store,
        repositories,
        "installation_repositories",
        event("removed", repositories_added=[], repositories_removed=[{"full_name": "acme/a"}]),
    )
    installations.record_event(store, repositories, "installation", event("suspend", sender={"login": "dana"}))
    item = store.get(9)
    assert item is not None
    assert (item.repositories, item.status, item.account_type) == (["acme/b"], InstallationStatus.SUSPENDED, "User")
    assert item.status_reason == "The installation was suspended by dana"
    installations.record_event(store, repositories, "installation", event("unsuspend"))
    resumed = store.get(9)
    assert resumed is not None and resumed.status == InstallationStatus.ACTIVE


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: jwt.encode(c, "another-secret-of-at-least-32-characters!"), id="other-key"),
        pytest.param(lambda c: jwt.encode(c, None, algorithm="none"), id="alg-none"),
        pytest.param(lambda c: jwt.encode({**c, "aud": "mlops-bot"}, SECRET), id="other-audience"),
        pytest.param(lambda c: jwt.encode({**c, "exp": int(time.time()) - 10}, SECRET), id="expired"),
        pytest.param(lambda c: jwt.encode({**c, "type": "access"}, SECRET), id="not-a-claim"),
        pytest.param(lambda c: jwt.encode(c, SECRET, algorithm="HS512"), id="other-algorithm"),
    ],
)
def test_only_a_state_this_deployment_signed_for_claims_is_accepted(forge: Any) -> None:
    issued = installations.issue_claim_state(SECRET, "t1").state
    claims = jwt.decode(issued, SECRET, algorithms=["HS256"], audience=installations.STATE_AUDIENCE)
    store = InMemoryInstallationStore()
    recorded(store, created_at="2099-01-01T00:00:00Z")
    with pytest.raises(Unauthorized):
        installations.claim_with_state(store, InMemoryRepositoryStore(), SECRET, 9, forge(claims))
    untouched = store.get(9)
    assert untouched is not None and untouched.tenant_id is None


def test_a_claim_routes_the_installation_and_enrols_its_selected_repositories() -> None:
    store = InMemoryInstallationStore()
    recorded(
        store, repositories=["acme/a", "acme/b"], excluded_repositories=["acme/b"], created_at="2099-01-01T00:00:00Z"
    )
    repositories = InMemoryRepositoryStore()
    state = installations.issue_claim_state(SECRET, "t1").state
    result = installations.claim_with_state(store, repositories, SECRET, 9, state)
    assert (result.enrolled, result.conflicts) == (["acme/a"], [])
    assert repositories.installation_owner(9) == "t1"
    assert [r.full_name for r in repositories.of_tenant("t1")] == ["acme/a"]


def test_a_removed_repository_stays_out_until_added_again() -> None:
    store = InMemoryInstallationStore()
    recorded(store, tenant_id="t1")
    repositories = InMemoryRepositoryStore()
    added = installations.add_repository(store, repositories, "t1", installations.RepositoryAdd(full_name="acme/a"))
    assert (added.source, added.installation_id) == ("installation", 9)
    installations.remove_repository(store, repositories, "t1", "acme/a")
    assert repositories.of_tenant("t1") == []
    assert installations.refusal(store, 9, "acme/a", auto_enroll=True) is not None
    installations.add_repository(store, repositories, "t1", installations.RepositoryAdd(full_name="acme/a"))
    assert [r.full_name for r in repositories.of_tenant("t1")] == ["acme/a"]
    assert installations.refusal(store, 9, "acme/a", auto_enroll=True) is None


def at_github(action: str, updated_at: str | int, **installation: Any) -> dict[str, Any]:
    """An `installation` payload with the timestamps GitHub puts on the installation."""
    payload = event(action, sender={"login": "dana"}, repositories=[{"full_name": "acme/a"}])
    payload["installation"].update(created_at=1795770000, updated_at=updated_at, **installation)  # 09:00Z
    return payload


ORDERED_PAIRS = [
    # (older, newer, the status the newer one leaves)
    (at_github("created", "2026-11-27T10:00:00Z"), at_github("deleted", "2026-11-27T10:05:00Z"), "deleted"),
    (at_github("deleted", "2026-11-27T10:00:00Z"), at_github("created", "2026-11-27T10:05:00Z"), "active"),
    (
        at_github("suspend", "2026-11-27T10:00:00Z", suspended_at="2026-11-27T10:00:00Z"),
        at_github("unsuspend", "2026-11-27T10:05:00.000Z", suspended_at=None),
        "active",
    ),
    (
        at_github("unsuspend", "2026-11-27T10:00:00Z"),
        # the same clock written with GitHub's older offset style: 02:05 at -08:00 is 10:05Z
        at_github("suspend", "2026-11-27T02:05:00.000-08:00", suspended_at="2026-11-27T02:05:00.000-08:00"),
        "suspended",
    ),
    # An uninstall whose payload carries the installation's last update time, equal to the creation's.
    (at_github("created", "2026-11-27T10:00:00Z"), at_github("deleted", "2026-11-27T10:00:00Z"), "deleted"),
]


@pytest.mark.parametrize(("older", "newer", "expected"), ORDERED_PAIRS)
@pytest.mark.parametrize("reordered", [False, True], ids=["in-order", "reordered"])
def test_an_installation_event_delivered_late_never_overrides_a_newer_status(
    older: dict[str, Any], newer: dict[str, Any], expected: str, reordered: bool
) -> None:
    store = InMemoryInstallationStore()
    repositories = InMemoryRepositoryStore()
    for payload in (newer, older) if reordered else (older, newer):
        verdict = installations.record_event(store, repositories, "installation", payload)
        assert verdict.status == "accepted"
    item = store.get(9)
    assert item is not None and item.status == InstallationStatus(expected)
    # The ingress follows the recorded status: events are processed only while it is active.
    assert (installations.refusal(store, 9, "acme/a", auto_enroll=True) is None) == (expected == "active")
    if reordered:
        assert "older than the recorded status" in verdict.message


def test_a_late_created_does_not_reenrol_the_repositories_of_a_claimed_installation() -> None:
    store = InMemoryInstallationStore()
    repositories = InMemoryRepositoryStore()
    recorded(store, tenant_id="t1", status=InstallationStatus.SUSPENDED, status_order="2026-11-27T10:05:00.000000Z#1")
    installations.record_event(
        store, repositories, "installation", at_github("created", "2026-11-27T10:00:00Z")
    )  # the creation's delivery, retried after the suspension
    item = store.get(9)
    assert item is not None and item.status == InstallationStatus.SUSPENDED
    assert repositories.repository_owner("acme/a") is None
