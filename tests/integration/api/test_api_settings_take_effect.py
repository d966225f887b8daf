"""No setting accepted and then ignored: each one takes effect, or is refused with a 422 (docs/settings-audit.md).

The table in docs/settings-audit.md names, for every settable field, where it takes effect and the
test that fails when it stops; these are the tests the audit added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlops_bot.adapters.fleet import CopyResult, MoveTask, QueueState
from mlops_bot.clock import iso, utc_now
from mlops_bot.management.platform import cluster
from mlops_bot.stores.repositories import DynamoRepositoryStore
from tests.integration.api.conftest import Api


def _refused(response: Any, *locations: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert {f["loc"] for f in error["fields"]} >= set(locations), error


# ------------------------------------------------------------------------------ query parameters


def test_unknown_query_parameters_are_refused_not_ignored(api: Api) -> None:
    headers = api.key("admin")
    api.incident(status="healing")
    sort = api.client.get("/api/v1/issues", headers=headers, params={"sort": "-detected_at", "status": "open"})
    _refused(sort, "query.sort")
    assert "repository" in sort.json()["error"]["details"]  # names what the route does accept
    # A pagination parameter where the route has no pagination, a filter the route does not have:
    _refused(api.client.get("/api/compliance/audits", headers=headers, params={"limit": 5}), "query.limit")
    _refused(api.client.get("/api/v1/issues", headers=headers, params={"since": "2026-01-01"}), "query.since")
    _refused(api.client.get("/api/v1/playbooks", headers=headers, params={"enabled": "true"}), "query.enabled")
    # The declared ones still work, including those a dependency declares.
    listed = api.client.get("/api/v1/issues", headers=headers, params={"status": "open", "limit": 1, "offset": 0})
    assert listed.status_code == 200 and listed.json()["limit"] == 1


def test_githubs_setup_redirect_may_carry_what_github_adds(api: Api) -> None:
    # GitHub adds `setup_action`, and `code` when the App asks for user authorization: the state
    # decides (401 for this made-up one), never the extra parameter.
    response = api.client.get(
        "/api/v1/installations/setup",
        params={"installation_id": 5, "state": "made-up", "setup_action": "install", "code": "abc"},
    )
    assert response.status_code == 401


def test_the_dashboard_pages_query_string_belongs_to_the_page(api: Api) -> None:
    """`/dashboard?api_key=` (the README's address): the page's script reads it, not the server."""
    assert api.client.get("/dashboard", params={"api_key": "mlb_dev"}).status_code == 200


def test_filters_refuse_values_no_record_can_have(api: Api) -> None:
    headers = api.key("admin")
    healing = api.incident(status="healing", severity="high", type="pipeline_failure")
    api.incident(status="resolved", severity="low", type="data_drift", resolved_at=iso(utc_now()))
    for path, params, location in (
        ("/api/v1/issues", {"severity": "urgent"}, "query.severity"),
        ("/api/v1/issues", {"type": "build_failure"}, "query.type"),
        ("/api/failures", {"severity": "urgent"}, "query.severity"),
        ("/api/compliance/audits", {"status": "passed"}, "query.status"),
        ("/api/pipelines", {"status": "green"}, "query.status"),
    ):
        _refused(api.client.get(path, headers=headers, params=params), location)
    unknown = api.client.get("/api/failures", headers=headers, params={"pipeline_id": "pipeline-missing"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "PIPELINE_NOT_FOUND"
    closed = api.client.get("/api/failures", headers=headers, params={"status": "closed"})
    assert closed.status_code == 422 and "status" in closed.json()["error"]["details"]["reason"]

    def ids(path: str, key: str, **params: str) -> set[str]:
        response = api.client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()[key]}

    assert ids("/api/v1/issues", "issues", severity="high", type="pipeline_failure") == {healing["id"]}
    # Failures filter like issues: `open` is every unfinished state, a precise state narrows.
    assert ids("/api/failures", "failures", status="open") == {healing["id"]}
    assert ids("/api/failures", "failures", status="healing", severity="high") == {healing["id"]}


# ------------------------------------------------------------------------------ bodies


def test_boolean_strings_mean_what_they_say(api: Api) -> None:
    """JSON `"false"`, `"no"`, `0` are false (never truthy strings); anything not a boolean word is a 422."""
    headers = api.key("admin")
    api.repository("acme/model")
    for value in ("false", "no", 0):
        answer = api.client.put(
            "/api/v1/repositories/acme/model/config", headers=headers, json={"auto_fix_enabled": value}
        )
        assert answer.status_code == 200, answer.text
        stored = DynamoRepositoryStore(api.table).get("default", "acme/model")
        assert stored is not None and stored.configuration.auto_fix_enabled is False
    _refused(
        api.client.put("/api/v1/repositories/acme/model/config", headers=headers, json={"auto_fix_enabled": "nope"}),
        "body.auto_fix_enabled",
    )
    switched = api.client.patch("/api/v1/playbooks/pipeline_failure_fix", headers=headers, json={"enabled": "false"})
    assert switched.status_code == 200 and switched.json()["enabled"] is False


# ------------------------------------------------------------------------------ pipelines


def test_pipeline_settings_the_bot_cannot_honour_are_refused(api: Api) -> None:
    headers = api.key("write")
    api.repository("acme/model")
    for extra, location in (
        ({"webhook_url": "https://ci.example.com/webhook"}, "body.webhook_url"),
        ({"config": {"timeout": 300}}, "body.config.timeout"),
        ({"config": {"notification_channels": ["slack", "email"]}}, "body.config.notification_channels"),
        ({"config": {"retry_attempts": 3}}, "body.config.retry_attempts"),  # the deployment's limit is 2
    ):
        body = {"name": "CI", "repository": "acme/model", **extra}
        response = api.client.post("/api/pipelines", headers=headers, json=body)
        _refused(response, location)
    assert api.client.get("/api/pipelines", headers=headers).json()["total"] == 0  # nothing was stored
    # The value that applies is accepted, like the system configuration's descriptive keys.
    same = {"name": "CI", "repository": "acme/model", "config": {"retry_attempts": 2, "notification_channels": []}}
    assert api.client.post("/api/pipelines", headers=headers, json=same).status_code == 201


def test_a_pipelines_config_shows_what_applies_to_it(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_MAX_ATTEMPTS_PER_INCIDENT", "4")
    headers = api.key("write")
    api.repository("acme/model")
    api.client.put(
        "/api/v1/repositories/acme/model/config",
        headers=headers,
        json={"notification_channels": ["slack"], "slack_webhook_url": "https://hooks.slack.com/services/T/B/x"},
    )
    created = api.client.post("/api/pipelines", headers=headers, json={"name": "CI", "repository": "acme/model"})
    assert created.status_code == 201, created.text
    shown = api.client.get(f"/api/pipelines/{created.json()['id']}", headers=headers).json()
    assert shown["config"] == {"retry_attempts": 4, "timeout": None, "notification_channels": ["slack"]}
    assert shown["webhook_url"] is None
    unattached = api.client.post("/api/pipelines", headers=headers, json={"name": "Nightly"}).json()
    assert unattached["config"] == {"retry_attempts": 4, "timeout": None, "notification_channels": []}


# ------------------------------------------------------------------------------ playbooks


def test_a_playbooks_disable_reason_is_shown_with_its_switch(api: Api) -> None:
    headers = api.key("admin")
    reason = "Temporarily disabled for testing"
    switch = {"enabled": False, "reason": reason}
    api.client.patch("/api/v1/playbooks/pipeline_failure_fix", headers=headers, json=switch)
    details = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=headers).json()
    assert (details["enabled"], details["reason"]) == (False, reason)
    listed = api.client.get("/api/v1/playbooks", headers=headers).json()["playbooks"]
    assert next(p for p in listed if p["name"] == "pipeline_failure_fix")["reason"] == reason
    api.client.patch("/api/v1/playbooks/pipeline_failure_fix", headers=headers, json={"enabled": True})
    again = api.client.get("/api/v1/playbooks/pipeline_failure_fix", headers=headers).json()
    assert (again["enabled"], again["reason"]) == (True, None)


# ------------------------------------------------------------------------------ cluster


@dataclass
class MoveTaskFleet:
    """A fleet whose SQS has message move tasks (moto's has not), with messages to copy."""

    dead_letters: int = 5
    started: list[tuple[str, str]] = field(default_factory=list)
    copied: list[int] = field(default_factory=list)

    def queue(self, url: str) -> QueueState:
        name = url.rsplit("/", 1)[-1]
        return QueueState(
            url=url,
            name=name,
            arn=f"arn:aws:sqs:us-east-1:1:{name}",
            visible=self.dead_letters if url.endswith("-dlq") else 0,
            in_flight=0,
            delayed=0,
            oldest_message_age_seconds=None,
            dead_letter_arn=None,
        )

    def move_tasks(self, source_arn: str) -> list[MoveTask]:
        return []

    def start_move_task(self, source_arn: str, destination_arn: str) -> str:
        self.started.append((source_arn, destination_arn))
        return "handle-1"

    def copy_messages(self, source_url: str, destination_url: str, limit: int) -> CopyResult:
        self.copied.append(limit)
        return CopyResult(moved=min(limit, self.dead_letters))


LAYOUT = cluster.FleetLayout(
    cluster_id="c", functions=[], queues=[cluster.QueuePair("events", "https://q/events", "https://q/events-dlq")]
)


def test_rebalance_max_messages_bounds_the_redrive_even_where_sqs_has_move_tasks() -> None:
    fleet = MoveTaskFleet()
    bounded = cluster.rebalance(fleet, LAYOUT, cluster.RebalanceRequest(max_messages=2), "auto")  # type: ignore[arg-type]
    # A move task moves everything: with a bound given, the messages are copied, at most that many.
    assert fleet.started == [] and fleet.copied == [2]
    assert (bounded.redrives[0].method, bounded.total_moved) == ("copy", 2)
    unbounded = cluster.rebalance(fleet, LAYOUT, cluster.RebalanceRequest(), "auto")  # type: ignore[arg-type]
    assert unbounded.redrives[0].method == "move_task"


def test_rebalance_refuses_a_bound_a_forced_move_task_cannot_keep() -> None:
    from mlops_bot.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        cluster.rebalance(MoveTaskFleet(), LAYOUT, cluster.RebalanceRequest(max_messages=2), "move_task")  # type: ignore[arg-type]
    assert "max_messages" in str(refused.value.details)


# ------------------------------------------------------------------------------ environment


def test_the_deployments_management_limit_and_window_apply(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLOPS_BOT_MANAGEMENT_RATE_LIMIT (while no system configuration sets one), MLOPS_BOT_API_RATE_WINDOW_SECONDS."""
    monkeypatch.setenv("MLOPS_BOT_MANAGEMENT_RATE_LIMIT", "2")
    monkeypatch.setenv("MLOPS_BOT_API_RATE_WINDOW_SECONDS", "120")
    reader = api.key("read", tenant="tenant-env")
    answers = [api.client.get("/api/v1/playbooks", headers=reader) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert (answers[0].headers["X-RateLimit-Limit"], answers[0].headers["X-RateLimit-Window"]) == ("2", "120")


def test_token_lifetimes_follow_the_environment(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_ACCESS_TOKEN_SECONDS", "600")
    monkeypatch.setenv("MLOPS_BOT_REFRESH_TOKEN_SECONDS", "7200")
    created = api.client.post(
        "/api/users", headers=api.key("admin"), json={"username": "env@example.com", "password": "x" * 16}
    )
    assert created.status_code == 201, created.text
    login = api.client.post("/auth/login", json={"username": "env@example.com", "password": "x" * 16})
    assert login.status_code == 200, login.text
    assert (login.json()["expires_in"], login.json()["refresh_expires_in"]) == (600, 7200)


def test_the_environment_name_is_the_one_deployed(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_ENVIRONMENT", "staging")
    assert api.client.get("/health").json()["environment"] == "staging"
    assert api.client.get("/api/v1/config", headers=api.key("read")).json()["environment"] == "staging"


def test_the_webhook_body_limit_is_the_configurations_max_file_size(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_MAX_WEBHOOK_BYTES", str(3 * 1024 * 1024))
    shown = api.client.get("/api/v1/config", headers=api.key("read")).json()
    assert shown["limits"]["max_file_size_mb"] == 3


# ------------------------------------------------------------------------------ drift


def _drift_report(**extra: Any) -> dict[str, Any]:
    column = {"test": "ks", "statistic": 0.4, "p_value": 0.001, "threshold": 0.05, "drifted": True}
    return {"columns": {"age": column}, "drift_share": 1.0, "dataset_drift": True, **extra}


def test_a_drift_report_with_keys_the_bot_does_not_read_is_refused(api: Api) -> None:
    headers = api.key("write")
    api.repository("acme/churn")
    path = "/api/v1/repositories/acme/churn/drift"
    _refused(api.client.post(path, headers=headers, json=_drift_report(drift_threshold=0.1)), "body.drift_threshold")
    typo = _drift_report()
    typo["columns"]["age"]["p-value"] = 0.001
    _refused(api.client.post(path, headers=headers, json=typo), "body.columns.age.p-value")
    # Exactly what `mlops-bot drift --json` prints, plus where it came from, is accepted.
    assert api.client.post(path, headers=headers, json=_drift_report(ref="main")).status_code == 201


def _csv(path: Path, shift: float) -> str:
    rows = ["age,income"] + [f"{(i % 50) + shift},{1000 + (i % 40)}" for i in range(400)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_the_repositorys_drift_settings_decide_the_scheduled_check(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`drift.reference/current/test/drift_share` set through the API drive the bot's own check:
    one of two columns drifts (score 0.5), a dataset drift only under a drift_share below it."""
    from mlops_bot.adapters.sqs import Queue
    from mlops_bot.monitoring.scheduled import DriftCheckStores, run_drift_check
    from mlops_bot.monitoring.service import SignalStores
    from mlops_bot.stores.audit import DynamoAuditLog
    from mlops_bot.stores.budgets import DynamoRepairBudgetStore
    from mlops_bot.stores.events import DynamoEventStore
    from mlops_bot.stores.incidents import DynamoIncidentStore

    api.repository("acme/churn")
    stores = DriftCheckStores(
        SignalStores(DynamoRepositoryStore(api.table), DynamoIncidentStore(api.table), DynamoEventStore(api.table)),
        DynamoAuditLog(api.table),
        DynamoRepairBudgetStore(api.table),
    )
    monkeypatch.chdir(tmp_path)  # locations are relative paths inside the repository (or s3://)
    _csv(tmp_path / "ref.csv", 0)
    _csv(tmp_path / "cur.csv", 40)
    locations = {"reference": "ref.csv", "current": "cur.csv"}

    def check(**drift: Any) -> Any:
        body = {"drift": {**locations, **drift}}
        answer = api.client.put("/api/v1/repositories/acme/churn/config", headers=api.key("write"), json=body)
        assert answer.status_code == 200, answer.text
        return run_drift_check(stores, Queue(api.state.queues["HealingQueue"]), "default", "acme/churn")

    lenient = check(test="wasserstein", drift_share=0.9)
    assert lenient.incident_id is None and lenient.details["tests"] == ["wasserstein"]
    strict = check(test="ks", drift_share=0.4)
    assert strict.new_incident and strict.details["drifted_columns"] == ["age"]
    assert strict.details["tests"] == ["ks"]


# ------------------------------------------------------------------------------ repository configuration


def test_null_hands_a_repository_setting_back_to_the_file_and_the_default(api: Api) -> None:
    """`null` is not silently dropped: it clears the API's value, so `.github/mlops-bot.yml` (or the
    bot's default) decides again; a clear that would leave a channel without its destination is a 422."""
    headers = api.key("write")
    api.repository("acme/model")
    path = "/api/v1/repositories/acme/model/config"
    slack = {"notification_channels": ["slack"], "slack_webhook_url": "https://hooks.slack.com/services/T/B/x"}
    assert api.client.put(path, headers=headers, json={"detection_sensitivity": "high", **slack}).status_code == 200
    cleared = api.client.put(path, headers=headers, json={"detection_sensitivity": None})
    assert cleared.status_code == 200, cleared.text
    stored = DynamoRepositoryStore(api.table).get("default", "acme/model")
    assert stored is not None and stored.configuration.detection_sensitivity is None
    shown = api.client.get("/api/v1/repositories/acme/model", headers=headers).json()["configuration"]
    assert shown["detection_sensitivity"] == "medium" and shown["notification_channels"] == ["slack"]
    _refused(api.client.put(path, headers=headers, json={"slack_webhook_url": None}), "body.notification_channels")
    # Only the drift keys given are the API's: defaults it never set do not override the file's.
    drift = {"reference": "s3://data/ref.parquet", "current": "s3://data/cur.parquet", "check_workflow": None}
    assert api.client.put(path, headers=headers, json={"drift": drift}).status_code == 200
    stored = DynamoRepositoryStore(api.table).get("default", "acme/model")
    assert stored is not None
    assert stored.configuration.model_dump()["drift"] == {"reference": drift["reference"], "current": drift["current"]}


def test_null_in_the_system_configuration_is_refused_not_dropped(api: Api) -> None:
    operator = api.key("admin")
    both = {"features": {"advanced_analytics": None}, "limits": {"rate_limit_per_minute": 500}}
    _refused(api.client.put("/api/v1/config", headers=operator, json=both), "body.features.advanced_analytics")
    assert api.client.get("/api/v1/config", headers=operator).json()["limits"]["rate_limit_per_minute"] == 1000
    _refused(
        api.client.put("/api/v1/config", headers=operator, json={"integrations": {"slack": None}}),
        "body.integrations.slack",
    )


def test_the_deployments_redrive_strategy_is_followed(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLOPS_BOT_REDRIVE_STRATEGY=move_task: no copying behind the operator's back where SQS (moto) has none."""
    import boto3

    boto3.client("sqs").send_message(QueueUrl=api.state.queues["EventsDeadLetterQueue"], MessageBody="{}")
    monkeypatch.setenv("MLOPS_BOT_REDRIVE_STRATEGY", "move_task")
    forced = api.client.post("/api/cluster/rebalance", headers=api.key("admin"), json={})
    assert forced.status_code == 503, forced.text
    monkeypatch.setenv("MLOPS_BOT_REDRIVE_STRATEGY", "copy")
    from mlops_bot.management.platform.settings import reset_management_settings

    reset_management_settings()
    copied = api.client.post("/api/cluster/rebalance", headers=api.key("admin"), json={})
    assert copied.status_code == 202 and copied.json()["total_moved"] == 1


def test_a_reported_deployment_sha_is_the_rollback_target(api: Api) -> None:
    api.repository("acme/churn")
    body = {"deployment": {"ref": "main", "sha": "3f2c1a9b8e7d", "environment": "staging"}, "metrics": {"auc": 0.9}}
    answer = api.client.post("/api/v1/repositories/acme/churn/model-metrics", headers=api.key("write"), json=body)
    assert answer.status_code == 200, answer.text
    assert DynamoRepositoryStore(api.table).last_good_ref("default", "acme/churn") == "3f2c1a9b8e7d"


def test_email_is_refused_where_the_deployment_sends_none(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without MLOPS_BOT_NOTIFICATION_SENDER (the template's NotificationSender) no e-mail goes out:
    choosing the email channel is a 422 rather than a setting that never sends."""
    monkeypatch.delenv("MLOPS_BOT_NOTIFICATION_SENDER", raising=False)
    headers = api.key("write")
    api.repository("acme/model")
    email = {"notification_channels": ["email"], "email_recipients": ["ops@example.com"]}
    refused = api.client.put("/api/v1/repositories/acme/model/config", headers=headers, json=email)
    _refused(refused, "body.notification_channels")
    assert "MLOPS_BOT_NOTIFICATION_SENDER" in refused.json()["error"]["details"]
    monkeypatch.setenv("MLOPS_BOT_NOTIFICATION_SENDER", "bot@example.com")
    from mlops_bot.config import reset_settings

    reset_settings()
    assert api.client.put("/api/v1/repositories/acme/model/config", headers=headers, json=email).status_code == 200


def test_pagination_is_honoured_on_every_paginated_list(api: Api) -> None:
    headers = api.key("admin")
    for name in ("a", "b", "c"):
        api.repository(f"acme/{name}")
        api.client.post("/api/pipelines", headers=headers, json={"name": name, "repository": f"acme/{name}"})
        api.incident(repository=f"acme/{name}")
    for path, key in (
        ("/api/v1/repositories", "repositories"),
        ("/api/v1/issues", "issues"),
        ("/api/pipelines", "pipelines"),
        ("/api/failures", "failures"),
    ):
        every = api.client.get(path, headers=headers, params={"limit": 500}).json()
        page = api.client.get(path, headers=headers, params={"limit": 2, "offset": 1}).json()
        assert every["total"] == page["total"] >= 3, path
        assert (page["limit"], page["offset"]) == (2, 1), path
        assert page[key] == every[key][1:3], path
        _refused(api.client.get(path, headers=headers, params={"limit": 0}), "query.limit")


# ------------------------------------------------------------------------------ manual healing parameters


def test_heal_parameters_no_action_reads_are_refused(api: Api) -> None:
    """The documents' examples (`custom_parameter`, `force_rebuild`) would travel and be read by nothing."""
    incident = api.incident(status="failed")
    headers = api.key("write")
    for path, body in (
        (f"/api/v1/issues/{incident['id']}/resolve", {"action": "retry_failed_action", "parameters": {"x": "v"}}),
        (
            f"/api/failures/{incident['id']}/heal",
            {"action": "rerun_failed_jobs", "parameters": {"force_rebuild": True}},
        ),
    ):
        refused = api.client.post(path, headers=headers, json=body)
        _refused(refused, f"body.parameters.{next(iter(body['parameters']))}")
    assert api.healing_messages() == []  # nothing was queued


def test_a_rollbacks_parameters_choose_its_target(api: Api) -> None:
    incident = api.incident(status="failed", type="deployment_failure", metadata={"environment": "production"})
    headers = api.key("write")
    wrong = {"action": "rollback_deployment", "parameters": {"branch": "main"}}
    refused = api.client.post(f"/api/v1/issues/{incident['id']}/resolve", headers=headers, json=wrong)
    _refused(refused, "body.parameters.branch")
    assert "environment, ref" in refused.json()["error"]["details"]
    chosen = {"action": "rollback_deployment", "parameters": {"ref": "v1.4.2", "environment": "staging"}}
    accepted = api.client.post(f"/api/v1/issues/{incident['id']}/resolve", headers=headers, json=chosen)
    assert accepted.status_code == 202, accepted.text
    [message] = api.healing_messages()
    assert message["body"]["parameters"] == {"ref": "v1.4.2", "environment": "staging"}


@pytest.mark.parametrize(
    ("action", "parameters", "refused_field"),
    [
        ("dispatch_retrain", {"workflow": "../../../../user/repos"}, "workflow"),
        ("dispatch_retrain", {"workflow": "retrain.yml/../x"}, "workflow"),
        ("dispatch_retrain", {"workflow": "retrain.yml", "ref": "main/../../x"}, "ref"),
        ("rollback_deployment", {"ref": "v1.4.2\nHost: evil"}, "ref"),
        ("rollback_deployment", {"ref": "refs/heads/.hidden"}, "ref"),
    ],
)
def test_heal_parameters_that_would_become_other_github_urls_are_refused(
    api: Api, action: str, parameters: dict[str, str], refused_field: str
) -> None:
    """A workflow becomes a URL segment of GitHub's API and a ref a git name: `../` or a newline is a 422."""
    kind = "data_drift" if action == "dispatch_retrain" else "deployment_failure"
    incident = api.incident(status="failed", type=kind)
    answer = api.client.post(
        f"/api/v1/issues/{incident['id']}/resolve",
        headers=api.key("write"),
        json={"action": action, "parameters": parameters},
    )
    _refused(answer, f"body.parameters.{refused_field}")
    assert api.healing_messages() == []


def test_a_retrain_dispatch_takes_a_workflow_file_and_a_ref(api: Api) -> None:
    incident = api.incident(status="failed", type="data_drift")
    body = {"action": "dispatch_retrain", "parameters": {"workflow": "retrain.yml", "ref": "release/2026.11"}}
    answer = api.client.post(f"/api/v1/issues/{incident['id']}/resolve", headers=api.key("write"), json=body)
    assert answer.status_code == 202, answer.text
