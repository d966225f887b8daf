"""What `replay` asks the sandbox after a delivery, how it shows the answer, and when it stays quiet."""

from __future__ import annotations

import io
import json
from pathlib import Path

from mlops_bot.cli.progress import Progress
from mlops_bot.cli.replay import load_document, outcome_query, report

ROOT = Path(__file__).resolve().parents[3]


def sample(name: str) -> tuple[str, bytes, str]:
    return load_document(ROOT / "events" / name, None)


def test_a_failed_run_is_followed_until_the_bot_has_acted() -> None:
    event, body, _ = sample("workflow_run_failure.json")
    assert outcome_query(event, body, {}) == (
        {"repository": "acme-ml/churn-model", "run_id": "9187349201"},
        False,
    )


def test_a_green_run_on_the_fix_branch_is_followed_until_the_incident_ends() -> None:
    payload = json.loads(sample("workflow_run_failure.json")[1])
    payload["workflow_run"].update(conclusion="success", head_branch="mlops-bot/inc-0123456789abcdef")
    query = outcome_query("workflow_run", json.dumps(payload).encode(), {})
    assert query == ({"repository": "acme-ml/churn-model", "incident_id": "inc-0123456789abcdef"}, True)


def test_events_that_open_nothing_are_not_waited_for() -> None:
    for name in ("push.json", "ping.json", "deployment_status_success.json"):
        event, body, _ = sample(name)
        assert outcome_query(event, body, {}) is None, name


def test_a_failed_deployment_and_a_drift_report_are_followed() -> None:
    event, body, _ = sample("deployment_status_failure.json")
    assert outcome_query(event, body, {}) == (
        {"repository": "acme-ml/recommender-api", "deployment_id": "1841200982"},
        False,
    )
    event, body, path = sample("drift_report.json")
    assert (event, path) == ("", "/api/v1/repositories/acme-ml/demand-forecast/drift")
    assert outcome_query(event, body, {"incident_id": "inc-drift-1"}) == ({"incident_id": "inc-drift-1"}, False)


def test_the_report_shows_diagnosis_evidence_and_the_diff() -> None:
    text = report(
        {
            "logs_read": True,
            "incident": {
                "id": "inc-1",
                "status": "verifying",
                "description": "CI failed",
                "diagnosis": {
                    "category": "dependency_missing",
                    "kind": "missing-python-module",
                    "confidence": 0.95,
                    "details": {"package": "scikit-learn"},
                    "evidence": [{"line": 13, "text": "ModuleNotFoundError: No module named 'sklearn'"}],
                },
                "actions_taken": [{"action": "open_fix_pr", "status": "done", "rule": "dependency_missing:x"}],
            },
            "sandbox": {
                "pull_requests": [
                    {"number": 1, "title": "Add scikit-learn", "head": "mlops-bot/inc-1", "base": "main", "diff": "+x"}
                ]
            },
        }
    )
    for expected in ("dependency_missing", "No module named 'sklearn'", "open_fix_pr", "#1", "+x", "--follow-up"):
        assert expected in text


def test_progress_stays_quiet_off_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(stream=stream) as progress:
        progress.update("working", force=True)
    assert stream.getvalue() == ""
