"""A quarantine ends: quarantine pull request → merged by a maintainer → a flake window of passing runs →
the hourly sweep → one release pull request that takes the marker off (moto, the stand-in GitHub, the
scheduler's handler). A quarantine pull request that is not merged quarantines nothing: the sweep
waits while it is open and drops the record once it is closed unmerged.

The stability rule and the sweep's edge cases on in-memory stores: tests/unit/test_quarantine_release.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubClient
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import Settings
from mlops_bot.detection.flaky import record_run
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.diagnosis import diagnose_path
from mlops_bot.healing.actions import PlaybookState, execute, plan
from mlops_bot.stores.flaky_history import DynamoFlakyHistory
from mlops_bot.stores.incidents import DynamoIncidentStore, IncidentType
from mlops_bot.stores.quarantines import DynamoQuarantineStore, QuarantineStatus
from mlops_bot.stores.repositories import DynamoRepositoryStore, RepositoryConfiguration
from mlops_bot.tenancy.service import enroll_repository
from tests.integration.conftest import lambda_context, load_handler
from tests.integration.test_detector import batch
from tests.integration.test_webhook_ingress import webhook
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn
from tests.support.stores import action_dependencies

REPO = "acme/trainer"
TOKEN = "ghs_quarantine"
TEST_ID = "tests/test_api.py::test_predict_endpoint"
LOGS = Path(__file__).resolve().parents[1] / "data" / "logs"
WINDOW = timedelta(days=14)  # the default MLOPS_BOT_FLAKE_WINDOW_DAYS

TEST_API = """\
import pytest


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_predict_endpoint(device):
    assert device
"""
QUARANTINED = TEST_API.replace("@pytest.mark.parametrize", "@pytest.mark.flaky(reruns=3)\n@pytest.mark.parametrize")


@pytest.fixture
def table(aws: MockState) -> StateTable:
    state = StateTable(aws.table_name)
    repositories = DynamoRepositoryStore(state)
    enroll_repository(repositories, "default", REPO, source="test")
    # A test that failed then passed in one run diagnoses at 0.8: `high` lets it open a pull request.
    repositories.update_configuration(
        "default", REPO, RepositoryConfiguration(detection_sensitivity="high"), iso(utc_now())
    )
    return state


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        # The scheduler's sweep asks this GitHub whether a quarantine pull request was merged.
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", standin.url)
        standin.add_repo(
            REPO,
            files={"tests/test_api.py": TEST_API, "requirements-dev.txt": "pytest==8.2.0\n", "requirements.txt": ""},
        )
        yield standin


def heal(
    table: StateTable, github: GitHubStandIn, incident_id: str, *, dry_run: bool = False, **settings: Any
) -> dict[str, Any]:
    deps = action_dependencies(
        Settings(MLOPS_BOT_TABLE_NAME=table.name, **settings),  # type: ignore[call-arg]
        table,
        lambda repository, installation: GitHubClient.from_token(TOKEN, github.url),
    )
    state = PlaybookState(tenant_id="default", incident_id=incident_id, dry_run=dry_run, playbook="flaky_test_response")
    state.planned = {"value": plan(deps, state)}
    return execute(deps, state)


def ci_run(table: StateTable, at: datetime, *, sha: str, attempt: int = 1, failed: list[str] | None = None) -> None:
    """A completed run of the `CI` workflow, as the detector records it in the flaky history."""
    record_run(
        DynamoFlakyHistory(table),
        "default",
        REPO,
        workflow="CI",
        run_id=int(at.timestamp()),
        run_attempt=attempt,
        head_sha=sha,
        conclusion="failure" if failed else "success",
        failed_tests=failed or [],
        failed_jobs=[],
        at=at,
    )


def sweep() -> dict[str, Any]:
    answer: dict[str, Any] = load_handler("scheduler").handler({"source": "aws.scheduler"}, lambda_context("scheduler"))
    return answer


def flaky_incident() -> Incident:
    return Incident(
        id="inc-flaky",
        tenant_id="default",
        repository=REPO,
        type="pipeline_failure",
        severity="high",
        description="CI failed",
        detected_at=iso(utc_now()),
        metadata={"run_id": 77, "installation_id": 1, "workflow_name": "CI"},
        diagnosis=diagnose_path(LOGS / "pytest_retry_flaky.log").model_dump(mode="json"),
    )


def test_a_quarantine_planned_in_dry_run_is_not_remembered(table: StateTable, github: GitHubStandIn) -> None:
    table.put(incident_item(flaky_incident()))
    planned = heal(table, github, "inc-flaky", dry_run=True, MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert (planned["status"], planned["action"]) == ("planned", "quarantine_flaky_tests")
    assert DynamoQuarantineStore(table).of_tenant("default") == []


def test_a_quarantine_is_released_by_one_pull_request_after_a_window_of_passing_runs(
    table: StateTable, github: GitHubStandIn, aws: MockState
) -> None:
    # 1. The flaky test is quarantined by pull request; the bot remembers the quarantine.
    table.put(incident_item(flaky_incident()))
    quarantine = heal(table, github, "inc-flaky", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    assert (quarantine["status"], quarantine["action"]) == ("done", "quarantine_flaky_tests")
    [record] = DynamoQuarantineStore(table).of_tenant("default")
    assert (record.repository, record.test_id, record.workflow) == (REPO, TEST_ID, "CI")
    assert record.pull_request == quarantine["pull_request"]["number"]
    assert sweep()["quarantines_released"] == []  # the pull request is open: nothing is quarantined yet
    [record] = DynamoQuarantineStore(table).of_tenant("default")
    assert record.status is QuarantineStatus.PROPOSED

    # 2. A maintainer merges it; a flake window goes by in which CI passes every day.
    now = utc_now()
    quarantined_at = now - WINDOW - timedelta(hours=2)
    github.merge_pull(REPO, record.pull_request or 0, at=iso(quarantined_at + timedelta(minutes=5)))
    DynamoQuarantineStore(table).quarantine(record.model_copy(update={"quarantined_at": iso(quarantined_at)}))
    ci_run(table, quarantined_at - timedelta(minutes=30), sha="a" * 40, failed=[TEST_ID])
    ci_run(table, quarantined_at - timedelta(minutes=20), sha="a" * 40, attempt=2)  # the flake that got it marked
    for day in range(1, 15):
        ci_run(table, quarantined_at + timedelta(days=day), sha=f"{day:040d}")

    # 3. The hourly sweep asks for the release, once.
    first, second = sweep(), sweep()
    [incident_id] = first["quarantines_released"]
    assert second["quarantines_released"] == []
    [merged] = DynamoQuarantineStore(table).of_tenant("default")
    assert (merged.status, merged.merged_at) == (QuarantineStatus.MERGED, iso(quarantined_at + timedelta(minutes=5)))
    [request] = [m for m in aws.messages("HealingQueue") if m["incident_id"] == incident_id]
    assert (request["tenant_id"], request["request_id"]) == ("default", "detected")
    stable = DynamoIncidentStore(table).get("default", incident_id)
    assert stable is not None and stable.type is IncidentType.FLAKY_TEST_STABLE
    assert stable.metadata["tests"] == [TEST_ID]

    # 4. The healer's playbook opens the release pull request: the marker comes off.
    release = heal(table, github, incident_id)
    assert (release["status"], release["action"]) == ("done", "release_flaky_tests")
    assert github.file_text(REPO, "tests/test_api.py") == QUARANTINED
    assert github.file_text(REPO, "tests/test_api.py", ref=f"mlops-bot/{incident_id}") == TEST_API
    pulls = github.calls_to("POST", r"/pulls$")
    assert [p.json["head"] for p in pulls] == ["mlops-bot/inc-flaky", f"mlops-bot/{incident_id}"]
    assert "-@pytest.mark.flaky(reruns=3)" in pulls[1].json["body"]

    # 5. Released: later sweeps add nothing.
    assert DynamoQuarantineStore(table).of_tenant("default") == []
    assert sweep()["quarantines_released"] == []
    assert len(github.calls_to("POST", r"/pulls$")) == 2
    assert len(DynamoIncidentStore(table).all("default")) == 2


def test_a_quarantine_pull_request_closed_unmerged_is_dropped_and_nothing_is_released(
    table: StateTable, github: GitHubStandIn
) -> None:
    table.put(incident_item(flaky_incident()))
    quarantine = heal(table, github, "inc-flaky", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)
    number = quarantine["pull_request"]["number"]
    [record] = DynamoQuarantineStore(table).of_tenant("default")
    # A flake window of passing runs since the quarantine pull request opened...
    quarantined_at = utc_now() - WINDOW - timedelta(hours=2)
    DynamoQuarantineStore(table).quarantine(record.model_copy(update={"quarantined_at": iso(quarantined_at)}))
    ci_run(table, quarantined_at - timedelta(minutes=30), sha="a" * 40, failed=[TEST_ID])
    ci_run(table, quarantined_at - timedelta(minutes=20), sha="a" * 40, attempt=2)
    for day in range(1, 15):
        ci_run(table, quarantined_at + timedelta(days=day), sha=f"{day:040d}")

    # ...but the pull request is still open: the marker is not on main, so nothing is released.
    assert sweep()["quarantines_released"] == []
    [waiting] = DynamoQuarantineStore(table).of_tenant("default")
    assert waiting.status is QuarantineStatus.PROPOSED

    # A maintainer closes it without merging: the quarantine is forgotten, no release is ever asked.
    github.close_pull(REPO, number)
    assert sweep()["quarantines_released"] == []
    assert DynamoQuarantineStore(table).of_tenant("default") == []
    assert [i.type for i in DynamoIncidentStore(table).all("default")] == [IncidentType.PIPELINE_FAILURE]
    assert github.file_text(REPO, "tests/test_api.py") == TEST_API
    assert len(github.calls_to("POST", r"/pulls$")) == 1
    assert len(github.calls_to("POST", r"/issues$")) == 1  # the flaky-tests issue only, no "no marker" one
    assert sweep()["quarantines_released"] == []


def test_the_merge_webhook_puts_the_quarantine_in_effect_through_the_ingress_and_the_detector(
    table: StateTable, github: GitHubStandIn, aws: MockState
) -> None:
    table.put(incident_item(flaky_incident()))
    number = heal(table, github, "inc-flaky", MLOPS_BOT_FLAKY_RERUN_BUDGET=0)["pull_request"]["number"]
    github.merge_pull(REPO, number, at="2026-11-20T10:00:00Z")
    pull = httpx.get(f"{github.url}/repos/{REPO}/pulls/{number}", headers={"Authorization": f"token {TOKEN}"}).json()
    assert (pull["state"], pull["merged"], pull["head"]["ref"]) == ("closed", True, "mlops-bot/inc-flaky")
    payload = {
        "action": "closed",
        "number": number,
        "pull_request": pull,  # GitHub's pull request object: merged, merged_at, head.ref
        "repository": {"full_name": REPO, "name": "trainer", "owner": {"login": "acme"}},
        "installation": {"id": 1},
        "sender": {"login": "dana"},
    }

    answer = load_handler("webhook_ingress").handler(webhook(payload, event="pull_request"), lambda_context())
    assert answer["statusCode"] == 202, answer["body"]
    queued = [m for m in aws.messages("EventsQueue") if m["event"] == "pull_request"]
    assert len(queued) == 1
    outcome = load_handler("detector").handler(batch(*queued), lambda_context("detector"))
    assert outcome["batchItemFailures"] == []

    [record] = DynamoQuarantineStore(table).of_tenant("default")
    assert (record.status, record.merged_at) == (QuarantineStatus.MERGED, "2026-11-20T10:00:00Z")
