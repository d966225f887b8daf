"""The Python SDK against httpx.MockTransport: spec payloads parsed, errors raised, retries bounded."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from mlops_bot_sdk import (
    DependencyMissing,
    HealingGuardClient,
    InvalidAnswer,
    InvalidRequest,
    MLOpsBotClient,
    MLOpsBotError,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from mlops_bot_sdk.client import default_dashboard_url, parse_message, retry_after_seconds

BASE = "https://mlops-bot.example.com"

# Payloads copied from the specs (mlops-bot-api.md, healing-guard-api.md).
ISSUES = {
    "issues": [
        {
            "id": "issue-123",
            "repository": "owner/repo",
            "type": "data_drift",
            "severity": "medium",
            "status": "resolved",
            "detected_at": "2024-01-15T10:15:00Z",
            "resolved_at": "2024-01-15T10:18:00Z",
            "description": "Data drift detected with score 0.15",
            "actions_taken": [
                {"action": "retrain_model", "status": "completed", "executed_at": "2024-01-15T10:17:00Z"}
            ],
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
}
ISSUE = {
    "id": "issue-123",
    "repository": "owner/repo",
    "type": "pipeline_failure",
    "severity": "high",
    "status": "resolved",
    "detected_at": "2024-01-15T10:15:00Z",
    "resolved_at": "2024-01-15T10:18:00Z",
    "description": "CI pipeline failed due to import error",
    "metadata": {
        "workflow_name": "CI",
        "workflow_run_id": 789,
        "failure_reason": "ModuleNotFoundError: No module named 'numpy'",
        "affected_files": ["src/train.py"],
    },
    "actions_taken": [
        {
            "action": "fix_import_error",
            "status": "completed",
            "executed_at": "2024-01-15T10:17:00Z",
            "details": {
                "changes_made": ["Added numpy to requirements.txt"],
                "pull_request": "https://github.com/owner/repo/pull/42",
            },
        }
    ],
    "timeline": [
        {"timestamp": "2024-01-15T10:15:00Z", "event": "issue_detected", "details": "Pipeline failure detected"},
        {"timestamp": "2024-01-15T10:18:00Z", "event": "issue_resolved", "details": "Pipeline re-run successful"},
    ],
}
RESOLVE = {
    "message": "Issue resolution triggered",
    "execution_id": "550e8400-e29b-41d4-a716-446655440001",
    "estimated_completion": "2024-01-15T10:35:00Z",
}
REPOSITORIES = {
    "repositories": [
        {
            "id": "123",
            "full_name": "owner/repo",
            "status": "active",
            "last_event": "2024-01-15T10:25:00Z",
            "issues_detected": 12,
            "repairs_attempted": 8,
            "success_rate": 0.85,
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
}
REPOSITORY = {
    "id": "123",
    "full_name": "owner/repo",
    "status": "active",
    "configuration": {
        "auto_fix_enabled": True,
        "notification_channels": ["slack", "email"],
        "detection_sensitivity": "medium",
    },
    "statistics": {
        "total_events": 456,
        "issues_detected": 23,
        "repairs_successful": 18,
        "repairs_failed": 3,
        "average_response_time": 2.3,
        "last_activity": "2024-01-15T10:25:00Z",
    },
    "recent_issues": [
        {
            "id": "issue-123",
            "type": "pipeline_failure",
            "severity": "high",
            "detected_at": "2024-01-15T10:20:00Z",
            "resolved": True,
            "resolution_time": 180,
        }
    ],
}
PLAYBOOKS = {
    "playbooks": [
        {
            "name": "pipeline_failure_fix",
            "version": "1.2.0",
            "description": "Automatically fix common pipeline failures",
            "supported_issues": ["pipeline_failure", "test_failure"],
            "success_rate": 0.89,
            "enabled": True,
            "last_updated": "2024-01-10T15:30:00Z",
        },
        {
            "name": "data_drift_response",
            "version": "1.0.0",
            "description": "Handle data drift detection and model retraining",
            "supported_issues": ["data_drift", "model_degradation"],
            "success_rate": 0.76,
            "enabled": True,
            "last_updated": "2024-01-08T09:15:00Z",
        },
    ],
    "total": 2,
}
PLAYBOOK = {
    "name": "pipeline_failure_fix",
    "version": "1.2.0",
    "description": "Automatically fix common pipeline failures",
    "author": "MLOps Team",
    "created_at": "2023-12-01T10:00:00Z",
    "last_updated": "2024-01-10T15:30:00Z",
    "supported_issues": ["pipeline_failure", "test_failure"],
    "configuration": {"timeout": 1800, "retry_count": 3, "rollback_on_failure": True},
    "statistics": {
        "total_executions": 234,
        "successful_executions": 208,
        "failed_executions": 26,
        "success_rate": 0.89,
        "average_execution_time": 145.6,
    },
    "actions": [
        {"type": "code_analysis", "description": "Analyze failure logs and error messages"},
        {"type": "dependency_fix", "description": "Fix missing dependencies"},
        {"type": "create_pull_request", "description": "Create PR with fixes"},
    ],
}
ANALYTICS = {
    "period": "24h",
    "summary": {
        "total_events": 1245,
        "issues_detected": 23,
        "issues_resolved": 19,
        "resolution_rate": 0.83,
        "average_resolution_time": 145.6,
        "most_common_issue_type": "pipeline_failure",
    },
    "timeseries": {
        "events_per_hour": [
            {"timestamp": "2024-01-15T00:00:00Z", "value": 45},
            {"timestamp": "2024-01-15T01:00:00Z", "value": 38},
        ],
        "resolution_times": [
            {"timestamp": "2024-01-15T00:00:00Z", "value": 120},
            {"timestamp": "2024-01-15T01:00:00Z", "value": 156},
        ],
    },
    "breakdown_by_type": {
        "pipeline_failure": {"count": 12, "resolved": 10},
        "data_drift": {"count": 5, "resolved": 5},
        "test_failure": {"count": 6, "resolved": 4},
    },
    "top_repositories": [
        {"repository": "owner/repo1", "events": 234, "issues": 12},
        {"repository": "owner/repo2", "events": 187, "issues": 8},
    ],
}
DETAILED_HEALTH = {
    "status": "healthy",
    "timestamp": "2024-01-15T10:30:00Z",
    "uptime_seconds": 86400,
    "active_executions": 5,
    "components": {
        "database": {
            "status": "healthy",
            "message": "Database connection successful",
            "execution_time": 0.045,
            "details": {"connection_pool": "active", "active_connections": 8},
        },
        "redis": {"status": "healthy", "message": "Redis connection successful", "execution_time": 0.012},
    },
}
PIPELINES = {
    "pipelines": [
        {
            "id": "pipeline-123",
            "name": "Production Deployment",
            "status": "healthy",
            "last_run": "2025-08-27T20:45:00Z",
            "failure_count": 0,
            "tenant_id": "tenant-abc",
        }
    ],
    "total": 25,
    "limit": 50,
    "offset": 0,
}
FAILURES = {
    "failures": [
        {
            "id": "failure-456",
            "pipeline_id": "pipeline-123",
            "type": "build_failure",
            "severity": "high",
            "detected_at": "2025-08-27T20:30:00Z",
            "resolved_at": "2025-08-27T20:32:15Z",
            "healing_actions": [{"action": "retry_build", "result": "success", "duration": 135}],
        }
    ]
}
PATTERNS = {
    "patterns": [
        {
            "pattern_id": "pattern-789",
            "type": "build_timeout",
            "frequency": 15,
            "last_occurrence": "2025-08-27T19:45:00Z",
            "predicted_next": "2025-08-28T08:30:00Z",
            "confidence": 0.87,
        }
    ]
}
PREDICTION = {
    "pipeline_id": "pipeline-123",
    "prediction": {
        "failure_probability": 0.23,
        "most_likely_failure": "dependency_timeout",
        "confidence": 0.91,
        "recommended_actions": ["increase_timeout_limit", "add_dependency_health_check"],
    },
}


def spec_error(code: str, message: str, details: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "request_id": "550e8400-e29b-41d4-a716-446655440002",
            "timestamp": "2024-01-15T10:30:00Z",
            **extra,
        }
    }


class Recorder:
    """A MockTransport that answers from a queue (or a fixed answer) and remembers each request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def ok(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


@pytest.fixture
def slept() -> list[float]:
    return []


def bot(recorder: Recorder, slept: list[float], **options: Any) -> MLOpsBotClient:
    return MLOpsBotClient(BASE, "mlb_key", transport=httpx.MockTransport(recorder), sleep=slept.append, **options)


def guard(recorder: Recorder, slept: list[float], **options: Any) -> HealingGuardClient:
    return HealingGuardClient(BASE, "jwt", transport=httpx.MockTransport(recorder), sleep=slept.append, **options)


# ------------------------------------------------------------------ parsing


def test_issues_list_is_an_iterable_page_and_sends_only_given_filters(slept: list[float]) -> None:
    recorder = Recorder(ok(ISSUES))
    issues = bot(recorder, slept).issues.list(status="resolved", limit=10)

    assert [f"{i.type}: {i.description}" for i in issues] == ["data_drift: Data drift detected with score 0.15"]
    assert (len(issues), issues.total, issues.limit, issues[0].actions_taken[0].action) == (1, 1, 50, "retrain_model")
    request = recorder.requests[0]
    assert request.headers["authorization"] == "Bearer mlb_key"
    assert dict(request.url.params) == {"status": "resolved", "limit": "10", "offset": "0"}


def test_issue_details_and_resolution(slept: list[float]) -> None:
    recorder = Recorder(ok(ISSUE), ok(RESOLVE, 202))
    client = bot(recorder, slept)

    issue = client.issues.get("issue-123")
    result = client.issues.resolve("issue-123", action="retry")

    assert issue.metadata["failure_reason"] == "ModuleNotFoundError: No module named 'numpy'"
    assert [t.event for t in issue.timeline] == ["issue_detected", "issue_resolved"]
    assert issue.actions_taken[0].details == ISSUE["actions_taken"][0]["details"]  # type: ignore[index]
    assert result.execution_id == "550e8400-e29b-41d4-a716-446655440001"
    assert recorder.paths == ["/api/v1/issues/issue-123", "/api/v1/issues/issue-123/resolve"]
    assert recorder.body() == {"action": "retry", "force": False, "parameters": {}}


def test_repositories_list_and_get(slept: list[float]) -> None:
    recorder = Recorder(ok(REPOSITORIES), ok(REPOSITORY))
    client = bot(recorder, slept)

    [listed] = client.repositories.list(status="active")
    repo_stats = client.repositories.get("owner/repo")

    assert listed.success_rate == 0.85
    assert repo_stats.statistics is not None and repo_stats.statistics.repairs_successful == 18
    assert repo_stats.configuration["notification_channels"] == ["slack", "email"]
    assert repo_stats.recent_issues[0].resolution_time == 180
    assert recorder.paths[1] == "/api/v1/repositories/owner/repo"
    with pytest.raises(ValueError, match="owner/repo"):
        client.repositories.get("no-slash")


def test_playbooks_analytics_and_health(slept: list[float]) -> None:
    recorder = Recorder(ok(PLAYBOOKS), ok(PLAYBOOK), ok(ANALYTICS), ok(DETAILED_HEALTH))
    client = bot(recorder, slept)

    playbooks = client.playbooks.list()
    playbook = client.playbooks.get("pipeline_failure_fix")
    analytics = client.analytics.get(period="24h")
    health = client.health.get_detailed()

    assert [p.name for p in playbooks] == ["pipeline_failure_fix", "data_drift_response"]
    assert playbooks.total == 2
    assert playbook.statistics is not None and playbook.statistics.success_rate == 0.89
    assert [a.type for a in playbook.actions] == ["code_analysis", "dependency_fix", "create_pull_request"]
    assert analytics.summary is not None and analytics.summary.issues_resolved == 19
    assert analytics.timeseries["events_per_hour"][1].value == 38
    assert analytics.breakdown_by_type["test_failure"].resolved == 4
    assert health.status == "healthy"
    assert health.components["database"].details == {"connection_pool": "active", "active_connections": 8}
    assert dict(recorder.requests[2].url.params) == {"period": "24h"}


def test_an_unhealthy_report_is_an_answer_not_an_error(slept: list[float]) -> None:
    unhealthy = {**DETAILED_HEALTH, "status": "unhealthy"}
    recorder = Recorder(ok(unhealthy, 503))

    health = bot(recorder, slept).health.get_detailed()

    assert health.status == "unhealthy"
    assert len(recorder.requests) == 1 and slept == []


def test_unknown_fields_are_kept(slept: list[float]) -> None:
    recorder = Recorder(ok({**ISSUE, "occurrences": 3}))
    issue = bot(recorder, slept).issues.get("issue-123")
    assert issue.model_extra == {"occurrences": 3}
    assert issue.to_dict()["occurrences"] == 3 and issue.to_dict()["actions_taken"][0]["action"] == "fix_import_error"


def test_an_answer_without_a_required_field_is_an_invalid_response(slept: list[float]) -> None:
    recorder = Recorder(ok({"repository": "owner/repo"}))
    with pytest.raises(InvalidAnswer, match="lacks id") as raised:
        bot(recorder, slept).issues.get("issue-123")
    assert raised.value.code == "INVALID_RESPONSE"


def test_healing_guard_resources(slept: list[float]) -> None:
    recorder = Recorder(ok(PIPELINES), ok(FAILURES), ok({"execution_id": "exec-1"}, 202), ok(PATTERNS), ok(PREDICTION))
    client = guard(recorder, slept)

    pipelines = client.pipelines.list(status="healthy")
    failures = client.failures.list(pipeline_id="pipeline-123", from_date=datetime(2025, 8, 27, tzinfo=UTC))
    healed = client.failures.heal("failure-456", parameters={"force_rebuild": True})
    patterns = client.patterns(period="7d")
    prediction = client.predict("pipeline-123", prediction_window=24)

    assert (pipelines[0].id, pipelines.total) == ("pipeline-123", 25)
    assert failures[0].healing_actions[0].duration == 135
    assert healed.execution_id == "exec-1"
    # The default action is one the API accepts (the document's `custom_heal` is a 422 there).
    assert recorder.body(2) == {"action": "retry_failed_action", "force": False, "parameters": {"force_rebuild": True}}
    assert (patterns[0].pattern_id, patterns[0].confidence) == ("pattern-789", 0.87)
    assert prediction.prediction.failure_probability == 0.23
    assert prediction.prediction.recommended_actions == ["increase_timeout_limit", "add_dependency_health_check"]
    assert recorder.body(4) == {"prediction_window": 24, "pipeline_id": "pipeline-123"}
    assert dict(recorder.requests[1].url.params)["from_date"] == "2025-08-27T00:00:00+00:00"
    assert recorder.requests[0].headers["authorization"] == "Bearer jwt"
    with pytest.raises(ValueError, match="pipeline_id or repository"):
        client.predict()


# ------------------------------------------------------------------ errors


def test_a_spec_error_becomes_the_matching_exception(slept: list[float]) -> None:
    recorder = Recorder(ok(spec_error("NOT_FOUND", "Issue not found", "No issue 'nope' in this tenant"), 404))

    with pytest.raises(NotFound) as raised:
        bot(recorder, slept).issues.get("nope")

    error = raised.value
    assert (error.code, error.status_code, error.message) == ("NOT_FOUND", 404, "Issue not found")
    assert error.request_id == "550e8400-e29b-41d4-a716-446655440002"
    assert error.details == "No issue 'nope' in this tenant"
    assert "NOT_FOUND: Issue not found (HTTP 404" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (400, spec_error("INVALID_REQUEST", "The request is invalid"), InvalidRequest, "INVALID_REQUEST"),
        (401, spec_error("UNAUTHORIZED", "Authentication required"), Unauthorized, "UNAUTHORIZED"),
        (422, spec_error("VALIDATION_FAILED", "Request validation failed"), ValidationFailed, "VALIDATION_FAILED"),
        (
            404,
            spec_error(
                "PIPELINE_NOT_FOUND",
                "Pipeline with ID 'pipeline-123' not found",
                {"resource_type": "pipeline", "resource_id": "pipeline-123"},
            ),
            NotFound,
            "PIPELINE_NOT_FOUND",
        ),
        (418, {"error": {"code": "TEAPOT", "message": "short and stout"}}, MLOpsBotError, "TEAPOT"),
    ],
)
def test_errors_by_code_then_by_status(
    slept: list[float], status: int, body: dict[str, Any], expected: type[MLOpsBotError], code: str
) -> None:
    recorder = Recorder(ok(body, status))
    with pytest.raises(expected) as raised:
        guard(recorder, slept).pipelines.get("pipeline-123")
    assert (type(raised.value), raised.value.code, raised.value.status_code) == (expected, code, status)


def test_a_gateway_page_without_json_still_raises_with_the_request_id(slept: list[float]) -> None:
    page = httpx.Response(502, text="<html>Bad Gateway</html>", headers={"apigw-requestid": "gw-1"})
    recorder = Recorder(page)

    with pytest.raises(ServiceUnavailable) as raised:
        bot(recorder, slept).issues.resolve("issue-123")

    assert (raised.value.request_id, raised.value.message) == ("gw-1", "<html>Bad Gateway</html>")
    assert len(recorder.requests) == 1  # a resolution is not retried on 502: it may have been triggered


# ------------------------------------------------------------------ retries


def limited(header: str | None = "2", **extra: Any) -> httpx.Response:
    headers = {"retry-after": header} if header is not None else {}
    return httpx.Response(429, json=spec_error("RATE_LIMITED", "Rate limit exceeded", **extra), headers=headers)


def test_429_waits_as_told_then_succeeds(slept: list[float]) -> None:
    recorder = Recorder(limited("2"), limited("1"), ok(ISSUES))
    issues = bot(recorder, slept).issues.list()
    assert len(issues) == 1
    assert slept == [2.0, 1.0]


def test_429_retries_are_bounded_and_the_last_refusal_is_raised(slept: list[float]) -> None:
    recorder = Recorder(limited("1"))
    with pytest.raises(RateLimited) as raised:
        bot(recorder, slept, max_retries=3).issues.list()
    assert len(recorder.requests) == 4
    assert slept == [1.0, 1.0, 1.0]
    assert raised.value.retry_after == 1.0


def test_a_wait_longer_than_allowed_is_left_to_the_caller(slept: list[float]) -> None:
    recorder = Recorder(limited("600"))
    with pytest.raises(RateLimited) as raised:
        bot(recorder, slept, max_retry_after=60).issues.list()
    assert (len(recorder.requests), slept, raised.value.retry_after) == (1, [], 600.0)


def test_retry_after_may_be_an_http_date_or_only_in_the_body(slept: list[float]) -> None:
    now = datetime(2025, 8, 27, 21, 0, tzinfo=UTC)
    dated = httpx.Response(429, headers={"retry-after": format_datetime(now + timedelta(seconds=30), usegmt=True)})
    assert retry_after_seconds(dated, now) == 30.0

    recorder = Recorder(limited(None, retry_after=60))
    with pytest.raises(RateLimited) as raised:
        bot(recorder, slept, max_retries=0).issues.list()
    assert raised.value.retry_after == 60.0


def test_503_backs_off_exponentially(slept: list[float]) -> None:
    unavailable = ok(spec_error("SERVICE_UNAVAILABLE", "Service temporarily unavailable"), 503)
    recorder = Recorder(unavailable, unavailable, ok(RESOLVE, 202))
    result = bot(recorder, slept).issues.resolve("issue-123")  # 503: nothing was done, so even a POST retries
    assert result.execution_id == RESOLVE["execution_id"]
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_retried_for_reads_only(slept: list[float], status: int) -> None:
    gateway = httpx.Response(status, text="gateway")
    reads = Recorder(gateway, ok(ISSUE))
    assert bot(reads, slept).issues.get("issue-123").id == "issue-123"
    assert len(reads.requests) == 2

    prediction = Recorder(gateway, ok(PREDICTION))  # a prediction is a POST that only reads
    assert guard(prediction, slept).predict("pipeline-123").pipeline_id == "pipeline-123"
    assert len(prediction.requests) == 2

    heal = Recorder(gateway)
    with pytest.raises(ServiceUnavailable):
        guard(heal, slept).failures.heal("failure-456")
    assert len(heal.requests) == 1


def test_a_connection_that_never_opens_is_retried_then_reported(slept: list[float]) -> None:
    refused = httpx.ConnectError("connection refused")
    recorder = Recorder(refused, ok(ISSUES))
    assert len(bot(recorder, slept).issues.list()) == 1

    always = Recorder(refused)
    with pytest.raises(TransportError) as raised:
        bot(always, slept, max_retries=2).issues.list()
    assert (len(always.requests), raised.value.status_code) == (3, None)


# ------------------------------------------------------------------ dashboard


def test_dashboard_url_follows_the_base_url_unless_given() -> None:
    assert (
        default_dashboard_url("https://api.healingguard.example.com")
        == "wss://api.healingguard.example.com/ws/dashboard"
    )
    assert default_dashboard_url("http://localhost:8000/prefix/") == "ws://localhost:8000/prefix/ws/dashboard"
    with pytest.raises(ValueError, match="http"):
        default_dashboard_url("ftp://example.com")
    elsewhere = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    assert HealingGuardClient(BASE, "jwt", dashboard_url=elsewhere).dashboard.url == elsewhere


def test_dashboard_frames_become_messages() -> None:
    alert = parse_message(json.dumps({"type": "failure_alerts", "data": {"id": "failure-456"}, "severity": "high"}))
    assert (alert.type, alert.data, alert.model_extra) == (
        "failure_alerts",
        {"id": "failure-456"},
        {"severity": "high"},
    )
    assert parse_message("not json").type == "unknown"
    assert parse_message(b"[1, 2]").data == [1, 2]


def test_subscribe_without_websockets_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "websockets", None)
    client = HealingGuardClient(BASE, "jwt")
    with pytest.raises(DependencyMissing, match="pip install websockets"):
        client.dashboard.subscribe()


FRAMES = [
    {"type": "system_metrics", "data": {"cpu_usage": 45.2}, "timestamp": "2025-08-27T21:01:56Z"},
    {"type": "failure_alerts", "data": {"id": "failure-456", "severity": "high"}},
    {"type": "healing_progress", "data": {"failure_id": "failure-456", "step": "retry_build"}},
    {"type": "failure_alerts", "data": {"id": "failure-457", "severity": "low"}},
]


@pytest.fixture
def dashboard_server() -> Iterator[tuple[str, list[Any]]]:
    """A real WebSocket server: records the Authorization header and the subscribe request, sends FRAMES.

    Like the deployed dashboard, it answers a subscribe naming an unknown type with an `error` frame.
    """
    from websockets.sync.server import ServerConnection, serve

    seen: list[Any] = []

    def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        seen.append(connection.request.headers.get("authorization", ""))
        request = json.loads(connection.recv())
        seen.append(request)
        if "gossip" in request.get("types", []):
            connection.send(json.dumps({"type": "error", **spec_error("INVALID_REQUEST", "Invalid subscribe message")}))
        else:
            for frame in FRAMES:
                connection.send(json.dumps(frame))
        connection.close()

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        yield f"http://127.0.0.1:{port}", seen
        server.shutdown()
        thread.join(timeout=10)


def test_subscribe_iterates_typed_messages(dashboard_server: tuple[str, list[Any]]) -> None:
    base_url, seen = dashboard_server
    client = HealingGuardClient(base_url, "jwt-token")

    messages = list(client.dashboard.subscribe())
    alerts = list(client.dashboard.subscribe(types=["failure_alerts"]))

    assert [m.type for m in messages] == [f["type"] for f in FRAMES]
    assert messages[0].data == {"cpu_usage": 45.2} and messages[0].timestamp == "2025-08-27T21:01:56Z"
    assert [a.data["id"] for a in alerts] == ["failure-456", "failure-457"]
    assert seen == [
        "Bearer jwt-token",
        {"action": "subscribe"},
        "Bearer jwt-token",
        {"action": "subscribe", "types": ["failure_alerts"]},
    ]


def test_an_error_frame_is_raised(dashboard_server: tuple[str, list[Any]]) -> None:
    base_url, _ = dashboard_server
    with pytest.raises(InvalidRequest, match="Invalid subscribe message") as raised:
        list(HealingGuardClient(base_url, "jwt").dashboard.subscribe(types=["gossip"]))
    assert raised.value.request_id == "550e8400-e29b-41d4-a716-446655440002"


def test_subscribe_with_a_callback_consumes_the_stream_in_the_background(
    dashboard_server: tuple[str, list[Any]],
) -> None:
    base_url, _ = dashboard_server
    received: list[str] = []
    handle = HealingGuardClient(base_url, "jwt").dashboard.subscribe(callback=lambda m: received.append(m.type))
    assert handle.join(timeout=30)
    assert received == [f["type"] for f in FRAMES]
    assert handle.error is None and not handle.running


@pytest.fixture
def held_server() -> Iterator[tuple[str, threading.Event]]:
    """A dashboard that sends one frame only once the test releases it, then keeps the connection open."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.server import ServerConnection, serve

    release = threading.Event()

    def handler(connection: ServerConnection) -> None:
        connection.recv()
        release.wait(timeout=30)
        connection.send(json.dumps(FRAMES[0]))
        try:
            for _ in connection:  # open until the client goes
                pass
        except ConnectionClosed:
            pass

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}", release
        release.set()
        server.shutdown()
        thread.join(timeout=10)


def test_subscribe_with_a_callback_returns_before_any_message_and_stops_on_request(
    held_server: tuple[str, threading.Event],
) -> None:
    base_url, release = held_server
    received = threading.Event()

    handle = HealingGuardClient(base_url, "jwt").dashboard.subscribe(callback=lambda m: received.set())
    assert handle.running and not received.is_set()  # returned while the server still holds its frame
    release.set()
    assert received.wait(timeout=30)
    assert handle.running  # the server keeps the stream open
    handle.stop()
    assert not handle.running and handle.error is None


def test_a_background_stream_that_fails_keeps_the_error() -> None:
    errors: list[BaseException] = []
    handle = HealingGuardClient("http://127.0.0.1:9", "jwt", timeout=5).dashboard.subscribe(
        callback=lambda m: None, on_error=errors.append
    )
    assert handle.join(timeout=30)
    assert isinstance(handle.error, TransportError) and errors == [handle.error]


def test_subscribe_is_an_async_iterator_too(dashboard_server: tuple[str, list[Any]]) -> None:
    base_url, _ = dashboard_server

    async def collect() -> list[str]:
        subscription = HealingGuardClient(base_url, "jwt").dashboard.subscribe(types=["healing_progress"])
        return [m.data["step"] async for m in subscription]

    assert asyncio.run(collect()) == ["retry_build"]


def test_a_refused_dashboard_connection_is_a_transport_error() -> None:
    client = HealingGuardClient("http://127.0.0.1:9", "jwt", timeout=5)
    with pytest.raises(TransportError, match="dashboard"):
        list(client.dashboard.subscribe())
