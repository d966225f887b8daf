"""The playbooks the bot ships, as the management API shows them (the spec's playbook objects).

One list: the API, the statistics and the tenant switches (`PLAYBOOK#<name>`, read by the healer)
all use these names.
"""

from __future__ import annotations

from pydantic import BaseModel

RELEASED_AT = "2025-01-15T00:00:00Z"


class PlaybookAction(BaseModel):
    type: str
    description: str


class PlaybookConfiguration(BaseModel):
    timeout: int
    retry_count: int
    rollback_on_failure: bool


class Playbook(BaseModel):
    name: str
    version: str
    description: str
    author: str = "mlops-bot"
    created_at: str = RELEASED_AT
    last_updated: str = RELEASED_AT
    supported_issues: list[str]
    configuration: PlaybookConfiguration
    actions: list[PlaybookAction]


def _actions(*pairs: tuple[str, str]) -> list[PlaybookAction]:
    return [PlaybookAction(type=t, description=d) for t, d in pairs]


VERIFY = ("verify_with_next_run", "Prove the repair: the next run of the workflow must pass")
OPEN_ISSUE = ("open_issue", "Open (or update) one GitHub issue with the diagnosis when no safe repair exists")

PLAYBOOKS: tuple[Playbook, ...] = (
    Playbook(
        name="pipeline_failure_fix",
        version="1.0.0",
        description="Automatically fix common pipeline failures: add a missing dependency by pull request, "
        "re-run a transient failure once, or open an issue with the diagnosis",
        supported_issues=["pipeline_failure", "test_failure", "dependency_error"],
        configuration=PlaybookConfiguration(timeout=21600, retry_count=3, rollback_on_failure=False),
        actions=_actions(
            ("code_analysis", "Analyze failure logs and error messages"),
            ("dependency_fix", "Fix missing dependencies on a bot branch, in the file's pinning style"),
            ("fix_version_pin", "Move a pin to a version that exists for the runner's Python (log or PyPI)"),
            ("raise_job_timeout", "Double a job's own timeout-minutes (never past GitHub's 360)"),
            ("create_pull_request", "Create PR with fixes (never pushed to a default branch, never merged)"),
            ("rerun_failed_jobs", "Re-run the failed jobs of a transient failure once"),
            OPEN_ISSUE,
            VERIFY,
        ),
    ),
    Playbook(
        name="flaky_test_response",
        version="1.0.0",
        description="Re-run flaky tests within a budget, then open one issue listing the flaky tests and a "
        "pull request quarantining them (reruns) until they are stable again",
        supported_issues=["flaky_test"],
        configuration=PlaybookConfiguration(timeout=21600, retry_count=2, rollback_on_failure=False),
        actions=_actions(
            ("rerun_failed_jobs", "Re-run the failed jobs while the flaky-rerun budget lasts"),
            OPEN_ISSUE,
            ("quarantine_flaky_tests", "Mark the flaky tests @pytest.mark.flaky(reruns=N) by pull request"),
            ("release_flaky_tests", "Remove the marker once the tests are stable for the flake window"),
            VERIFY,
        ),
    ),
    Playbook(
        name="data_drift_response",
        version="1.0.0",
        description="Handle data drift detection and model retraining",
        supported_issues=["data_drift", "model_degradation"],
        configuration=PlaybookConfiguration(timeout=21600, retry_count=1, rollback_on_failure=False),
        actions=_actions(
            ("drift_analysis", "Compare the current data with the reference distribution"),
            ("retrain_model", "Dispatch the repository's retrain workflow with the drift report"),
            OPEN_ISSUE,
        ),
    ),
    Playbook(
        name="model_degradation_response",
        version="1.0.0",
        description="Roll back to the last good model deployment when quality slips, or open an issue",
        supported_issues=["model_degradation"],
        configuration=PlaybookConfiguration(timeout=21600, retry_count=1, rollback_on_failure=True),
        actions=_actions(
            ("rollback_deployment", "Deploy the last good ref again"),
            OPEN_ISSUE,
            VERIFY,
        ),
    ),
    Playbook(
        name="deployment_failure_response",
        version="1.0.0",
        description="Roll back a failed deployment to the last good ref, or open an issue",
        supported_issues=["deployment_failure"],
        configuration=PlaybookConfiguration(timeout=21600, retry_count=1, rollback_on_failure=True),
        actions=_actions(
            ("rollback_deployment", "Deploy the last good ref again"),
            OPEN_ISSUE,
            VERIFY,
        ),
    ),
)

NAMES: tuple[str, ...] = tuple(p.name for p in PLAYBOOKS)
_BY_NAME = {p.name: p for p in PLAYBOOKS}
_FOR_TYPE = {
    "pipeline_failure": "pipeline_failure_fix",
    "test_failure": "pipeline_failure_fix",
    "dependency_error": "pipeline_failure_fix",
    "flaky_test": "flaky_test_response",
    "flaky_test_stable": "flaky_test_response",
    "data_drift": "data_drift_response",
    "model_degradation": "model_degradation_response",
    "deployment_failure": "deployment_failure_response",
}


def get(name: str) -> Playbook | None:
    return _BY_NAME.get(name)


def for_issue_type(issue_type: str) -> Playbook:
    """The playbook that handles an incident type (pipeline_failure_fix for anything unknown)."""
    return _BY_NAME[_FOR_TYPE.get(issue_type, "pipeline_failure_fix")]
