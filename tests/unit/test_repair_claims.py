"""One repair per problem, decided on the in-memory stores (and the stand-in GitHub for the state of a
pull request): which incident repairs, which follows, and when a rejected fix becomes an issue."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mlops_bot.adapters.github import GitHubClient
from mlops_bot.clock import iso, utc_now
from mlops_bot.healing.planner import RepairPlan
from mlops_bot.healing.repair_claims import (
    PENDING_CLAIM_TIMEOUT,
    Verdict,
    decide,
    follow_verdict,
    repair_key,
    settle,
)
from mlops_bot.stores.incidents import Incident, IncidentStatus, InMemoryIncidentStore, TimelineEntry
from mlops_bot.stores.repair_claims import InMemoryRepairClaimStore, RepairClaim
from tests.support.github_standin import GitHubStandIn

TENANT, REPO = "default", "acme/model"


def incident(incident_id: str, **metadata: Any) -> Incident:
    return Incident(
        id=incident_id,
        tenant_id=TENANT,
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at="2026-11-27T10:00:00.000000Z",
        metadata={"run_id": 1, **metadata},
    )


def fix(package: str = "numpy", **details: Any) -> RepairPlan:
    return RepairPlan(
        action="open_fix_pr", rule="dependency_missing:module", verify=True, details={"package": package, **details}
    )


# ---------------------------------------------------------------- the repair key


def test_the_repair_key_names_what_the_fix_changes_not_the_run() -> None:
    first, second = incident("inc-1", run_id=1), incident("inc-2", run_id=2)
    assert repair_key(first, fix("numpy")) == repair_key(second, fix("numpy")) == "open_fix_pr:python:numpy"
    assert repair_key(first, fix("Scikit_Learn")) == repair_key(first, fix("scikit-learn"))  # PEP 503 names
    assert repair_key(first, fix("numpy")) != repair_key(first, fix("pandas"))
    assert repair_key(first, fix("left-pad", ecosystem="node")) == "open_fix_pr:node:left-pad"


def test_pins_timeouts_and_tests_are_keyed_by_their_own_subject() -> None:
    pin = RepairPlan(action="fix_version_pin", rule="r", details={"package": "torch", "version": "9.9.9"})
    assert repair_key(incident("i"), pin) == "fix_version_pin:torch==9.9.9"
    timeout = RepairPlan(action="raise_job_timeout", rule="r", details={"minutes": 30, "raise_to": 60})
    assert (
        repair_key(incident("i", workflow_path=".github/workflows/ci.yml", job_name="train"), timeout)
        == "raise_job_timeout:.github/workflows/ci.yml:train:30"
    )
    tests = ["tests/test_b.py::test_two", "tests/test_a.py::test_one"]
    quarantine = RepairPlan(action="quarantine_flaky_tests", rule="r", details={"tests": tests})
    reordered = RepairPlan(action="quarantine_flaky_tests", rule="r", details={"tests": list(reversed(tests))})
    assert repair_key(incident("i"), quarantine) == repair_key(incident("j"), reordered)
    assert str(repair_key(incident("i"), quarantine)).startswith("quarantine_flaky_tests:2:")


def test_repairs_that_change_no_file_claim_nothing() -> None:
    for action in ("rerun_failed_jobs", "open_issue", "dispatch_retrain", "rollback_deployment", "none"):
        assert repair_key(incident("i"), RepairPlan(action=action, rule="r")) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------- who repairs, who follows


class World:
    def __init__(self, github: GitHubStandIn | None = None) -> None:
        self.claims = InMemoryRepairClaimStore()
        self.incidents = InMemoryIncidentStore()
        self.client = GitHubClient.from_token("test-token", github.url) if github else None
        for incident_id in ("inc-1", "inc-2", "inc-3"):
            self.incidents.open_or_update(incident(incident_id))

    def decide(self, incident_id: str, *, dry_run: bool = False, plan: RepairPlan | None = None) -> Any:
        found = self.incidents.get(TENANT, incident_id)
        assert found is not None
        return decide(self.claims, self.incidents, self.client, found, plan or fix(), dry_run=dry_run)

    def opened(self, incident_id: str, number: int) -> None:
        """What `execute` does once the holder's repair opened its pull request."""
        found = self.incidents.get(TENANT, incident_id)
        assert found is not None
        pull_request = {"number": number, "html_url": "u", "branch": f"mlops-bot/{incident_id}"}
        outcome = {"status": "done", "dry_run": False, "pull_request": pull_request}
        settle(self.claims, self.incidents, found, self.decide(incident_id), outcome)

    def get(self, incident_id: str) -> Incident:
        found = self.incidents.get(TENANT, incident_id)
        assert found is not None
        return found


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn() as standin:
        standin.add_repo(REPO, files={"requirements.txt": "pandas\n"})
        yield standin


def open_pull(github: GitHubStandIn, branch: str = "mlops-bot/inc-1") -> int:
    github.add_repo(REPO, files={"requirements.txt": "pandas\n"}, branches={branch: {"requirements.txt": "numpy\n"}})
    client = GitHubClient.from_token("test-token", github.url)
    return client.create_pull_request(REPO, branch, "main", "Add missing dependency numpy", "body").number


def test_the_first_incident_repairs_and_a_retry_of_it_still_does() -> None:
    world = World()
    first = world.decide("inc-1")
    assert (first.verdict, first.holder) == (Verdict.REPAIR, "inc-1")
    assert world.decide("inc-1").verdict == Verdict.REPAIR  # a retried step keeps its claim


def test_a_second_incident_follows_a_fix_being_prepared_and_counts_an_occurrence() -> None:
    world = World()
    world.decide("inc-1")
    second = world.decide("inc-2")
    assert (second.verdict, second.holder) == (Verdict.LINK, "inc-1")
    assert "being prepared" in second.reason
    assert world.get("inc-1").occurrences == 2
    world.decide("inc-2")  # a retried step counts nothing twice
    assert world.get("inc-1").occurrences == 2


def test_concurrent_incidents_leave_one_repairing(github: GitHubStandIn) -> None:
    world = World(github)
    start = threading.Barrier(3)
    verdicts: dict[str, Verdict] = {}

    def healer(incident_id: str) -> None:
        start.wait(timeout=30)
        verdicts[incident_id] = world.decide(incident_id).verdict

    threads = [threading.Thread(target=healer, args=(i,)) for i in ("inc-1", "inc-2", "inc-3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(verdicts.values()) == [Verdict.LINK, Verdict.LINK, Verdict.REPAIR]


def test_a_claim_whose_holder_never_opened_a_pull_request_is_taken_over() -> None:
    world = World()
    long_ago = iso(utc_now() - PENDING_CLAIM_TIMEOUT - timedelta(minutes=1))
    world.claims.claim(
        RepairClaim(
            tenant_id=TENANT,
            repository=REPO,
            repair_key="open_fix_pr:python:numpy",
            action="open_fix_pr",
            incident_id="inc-crashed",
            claimed_at=long_ago,
            renewed_at=long_ago,
        )
    )
    world.claims.link(TENANT, REPO, "open_fix_pr:python:numpy", "inc-1")  # a follower of the crashed holder
    taken = world.decide("inc-2")
    assert (taken.verdict, taken.holder) == (Verdict.REPAIR, "inc-2")
    assert taken.claim is not None and taken.claim.linked_incidents == ["inc-1"]  # it follows the new holder
    assert world.decide("inc-3").verdict == Verdict.LINK


def test_an_open_pull_request_is_followed(github: GitHubStandIn) -> None:
    world = World(github)
    world.decide("inc-1")
    world.opened("inc-1", open_pull(github))
    second = world.decide("inc-2")
    assert second.verdict == Verdict.LINK
    assert second.reason == "same problem as incident inc-1, pull request #1"
    assert second.pull_request() == {"number": 1, "html_url": "u", "branch": "mlops-bot/inc-1"}


def test_a_pull_request_github_does_not_find_is_followed_not_duplicated(github: GitHubStandIn) -> None:
    # GitHub may not find a pull request it just created (replicas) or one the bot can no longer see:
    # not knowing its state is no reason to open the same fix again. The incident follows; the
    # verification deadline hands it to a person if nothing ever comes.
    world = World(github)
    world.decide("inc-1")
    world.opened("inc-1", 41)  # GitHub knows no #41
    second = world.decide("inc-2")
    assert second.verdict == Verdict.LINK and "#41" in second.reason
    assert github.writes() == []


@pytest.mark.parametrize(("merge", "said"), [(False, "closed without merging"), (True, "did not help")])
def test_a_closed_pull_request_is_escalated_by_one_incident(github: GitHubStandIn, merge: bool, said: str) -> None:
    world = World(github)
    world.decide("inc-1")
    number = open_pull(github)
    world.opened("inc-1", number)
    github.close_pull(REPO, number, merge=merge)
    assert world.decide("inc-2", dry_run=True).verdict == Verdict.ESCALATE  # the plan, nothing noted
    second, third = world.decide("inc-2"), world.decide("inc-3")
    assert (second.verdict, third.verdict) == (Verdict.ESCALATE, Verdict.ESCALATED)
    assert said in second.reason and "#1" in second.reason
    assert second.issue_title() == third.issue_title()  # one issue, whoever looks for it


def test_in_dry_run_nothing_is_claimed_linked_or_counted() -> None:
    world = World()
    assert world.decide("inc-1", dry_run=True).verdict == Verdict.REPAIR
    assert world.claims.get(TENANT, REPO, "open_fix_pr:python:numpy") is None
    world.decide("inc-1")
    assert world.decide("inc-2", dry_run=True).verdict == Verdict.LINK
    claim = world.claims.get(TENANT, REPO, "open_fix_pr:python:numpy")
    assert claim is not None and claim.linked_incidents == []
    assert world.get("inc-1").occurrences == 1


def test_a_repair_that_ended_without_a_pull_request_frees_the_problem_and_its_followers() -> None:
    world = World()
    holder = world.decide("inc-1")
    world.decide("inc-2")
    escalated = {"status": "escalated", "dry_run": False, "issue": {"number": 4, "html_url": "u"}}
    settle(world.claims, world.incidents, world.get("inc-1"), holder, escalated)
    assert world.get("inc-2").status == IncidentStatus.AWAITING_HUMAN
    assert world.decide("inc-3").verdict == Verdict.REPAIR  # nothing blocks the next one


def test_followers_take_the_holders_verdict(github: GitHubStandIn) -> None:
    world = World(github)
    world.decide("inc-1")
    world.opened("inc-1", open_pull(github))
    world.decide("inc-2")
    world.incidents.close(
        TENANT, "inc-1", IncidentStatus.RESOLVED, TimelineEntry.now("issue_resolved", "green"), once="resolved-1"
    )
    assert follow_verdict(world.claims, world.incidents, world.get("inc-1"), IncidentStatus.RESOLVED, "green") == [
        "inc-2"
    ]
    follower = world.get("inc-2")
    assert follower.status == IncidentStatus.RESOLVED and follower.resolution_time is not None
    assert follow_verdict(world.claims, world.incidents, world.get("inc-1"), IncidentStatus.RESOLVED, "green") == []
