"""Health, status, the serverless "cluster" (fleet status, DLQ redrive), Prometheus metrics, analytics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from mlops_bot.adapters.fleet import CopyResult, Fleet, MoveTask, MoveTasksUnsupported, QueueState
from mlops_bot.clock import iso, utc_now
from mlops_bot.config import reset_settings
from mlops_bot.errors import Conflict
from mlops_bot.management.platform import cluster
from tests.integration.api.conftest import Api
from tests.support.github_standin import DEFAULT_TOKEN, GitHubStandIn

# ------------------------------------------------------------------------------ health


def test_liveness_readiness_and_health_need_no_credentials(api: Api) -> None:
    assert api.client.get("/health/live").json()["status"] == "alive"
    ready = api.client.get("/health/ready")
    assert ready.status_code == 200
    assert {c["status"] for c in ready.json()["components"].values()} == {"healthy"}
    health = api.client.get("/health").json()
    assert health["status"] in {"healthy", "degraded"} and health["version"]
    assert api.client.get("/api/health").json()["services"] == {"database": "healthy", "queue": "healthy"}


def test_readiness_fails_when_a_queue_is_gone(api: Api) -> None:
    boto3.client("sqs").delete_queue(QueueUrl=api.state.queues["HealingQueue"])
    response = api.client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["healing_queue"]["status"] == "unhealthy"


def test_detailed_health_reports_each_component_with_the_github_quota(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubStandIn() as github:
        github.rate_limit_remaining = 4850
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
        reset_settings()
        response = api.client.get("/health/detailed")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    components = body["components"]
    assert set(components) == {"database", "queue", "github_api"}
    assert components["github_api"]["details"]["rate_limit_remaining"] == 4850
    assert all(c["execution_time"] >= 0 and c["message"] for c in components.values())
    assert components["queue"]["details"]["events"] == {"depth": 0, "in_flight": 0, "dead_letter_depth": 0}
    assert body["active_executions"] == 0


def test_detailed_health_is_degraded_when_github_is_unreachable(api: Api) -> None:
    body = api.client.get("/health/detailed").json()
    assert body["status"] == "degraded"
    assert body["components"]["github_api"]["status"] == "unhealthy"


def test_status_counts_healers_alerts_and_queues(api: Api) -> None:
    boto3.client("stepfunctions").start_execution(stateMachineArn=api.state_machine_arn, name="heal-1")
    boto3.client("sqs").send_message(QueueUrl=api.state.queues["EventsQueue"], MessageBody="{}")
    api.incident(status="awaiting_human")
    api.incident(status="resolved")
    api.incident(tenant="tenant-b", status="open")
    response = api.client.get("/api/status", headers=api.key("read"))
    assert response.status_code == 200
    body = response.json()
    assert body["system_status"] == "operational"
    assert body["active_healers"] == 1
    assert body["pending_alerts"] == 1
    assert body["queues"]["events"]["depth"] == 1
    assert set(body["metrics"]) == {"cpu_usage", "memory_usage", "disk_usage"}
    assert "x-ratelimit-limit" not in response.headers
    assert api.client.get("/api/status").status_code == 401


# ------------------------------------------------------------------------------ cluster


def test_cluster_status_reports_the_fleet_that_exists(api: Api) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=api.state.queues["HealingDeadLetterQueue"], MessageBody="{}")
    boto3.client("stepfunctions").start_execution(stateMachineArn=api.state_machine_arn, name="heal-2")
    response = api.client.get("/api/cluster/status", headers=api.key())
    assert response.status_code == 200
    body = response.json()
    assert body["leader_node"] is None
    assert body["total_nodes"] == body["healthy_nodes"] == 3
    assert {n["id"] for n in body["nodes"]} == set(api.function_names)
    assert {n["role"] for n in body["nodes"]} == {"ingress", "queue_consumer"}
    queues = {q["role"]: q for q in body["queues"]}
    assert queues["healing"]["dead_letter_queue"]["depth"] == 1
    assert queues["events"]["dead_letter_queue"]["depth"] == 0
    assert body["running_executions"] == {"pipeline_failure_fix": 1}


def test_a_deleted_function_shows_as_missing(api: Api) -> None:
    boto3.client("lambda").delete_function(FunctionName=api.function_names[0])
    body = api.client.get("/api/cluster/status", headers=api.key()).json()
    assert body["healthy_nodes"] == 2
    assert [n["status"] for n in body["nodes"] if n["id"] == api.function_names[0]] == ["missing"]


def test_rebalance_redrives_dead_letters_to_their_source_queues(api: Api) -> None:
    sqs = boto3.client("sqs")
    for index in range(3):
        sqs.send_message(
            QueueUrl=api.state.queues["EventsDeadLetterQueue"],
            MessageBody=json.dumps({"n": index}),
            MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": "default"}},
        )
    response = api.client.post("/api/cluster/rebalance", headers=api.key(), json={"strategy": "redrive_dead_letters"})
    assert response.status_code == 202
    body = response.json()
    assert body["total_moved"] == 3
    reports = {r["destination"]: r for r in body["redrives"]}
    events = next(r for name, r in reports.items() if "EventsQueue" in name)
    assert events["method"] == "copy"  # moto has no message move tasks
    assert events["messages_before"] == 3 and events["moved"] == 3
    moved = sqs.receive_message(
        QueueUrl=api.state.queues["EventsQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert sorted(json.loads(m["Body"])["n"] for m in moved) == [0, 1, 2]
    assert {m["MessageAttributes"]["tenant_id"]["StringValue"] for m in moved} == {"default"}
    dlq = sqs.get_queue_attributes(
        QueueUrl=api.state.queues["EventsDeadLetterQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dlq["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_only_operators_see_and_rebalance_the_cluster(api: Api) -> None:
    tenant_admin = api.key("admin", tenant="tenant-b")
    assert api.client.get("/api/cluster/status", headers=tenant_admin).status_code == 403
    assert api.client.post("/api/cluster/rebalance", headers=tenant_admin, json={}).status_code == 403
    assert api.client.post("/api/cluster/rebalance", headers=api.key(), json={"strategy": "chaos"}).status_code == 422


@dataclass
class FakeFleet:
    """A fleet whose SQS has message move tasks (moto's has not)."""

    dead_letters: int = 2
    running: list[MoveTask] = field(default_factory=list)
    started: list[tuple[str, str]] = field(default_factory=list)

    def queue(self, url: str) -> QueueState:
        dead = url.endswith("-dlq")
        return QueueState(
            url=url,
            name=url.rsplit("/", 1)[-1],
            arn=f"arn:aws:sqs:us-east-1:1:{url.rsplit('/', 1)[-1]}",
            visible=self.dead_letters if dead else 0,
            in_flight=0,
            delayed=0,
            oldest_message_age_seconds=None,
            dead_letter_arn=None,
        )

    def move_tasks(self, source_arn: str) -> list[MoveTask]:
        return [t for t in self.running if t.source_arn == source_arn]

    def start_move_task(self, source_arn: str, destination_arn: str) -> str:
        self.started.append((source_arn, destination_arn))
        return "handle-1"

    def copy_messages(self, source_url: str, destination_url: str, limit: int) -> CopyResult:
        raise AssertionError("a fleet with move tasks must not copy")


LAYOUT = cluster.FleetLayout(
    cluster_id="c", functions=[], queues=[cluster.QueuePair("events", "https://q/events", "https://q/events-dlq")]
)


def test_rebalance_uses_a_message_move_task_where_sqs_has_them() -> None:
    fake = FakeFleet()
    result = cluster.rebalance(fake, LAYOUT, cluster.RebalanceRequest(), "auto")  # type: ignore[arg-type]
    [report] = result.redrives
    assert (report.method, report.status, report.task_handle, report.messages_before) == (
        "move_task",
        "RUNNING",
        "handle-1",
        2,
    )
    assert fake.started == [("arn:aws:sqs:us-east-1:1:events-dlq", "arn:aws:sqs:us-east-1:1:events")]


def test_rebalance_refuses_while_a_move_task_runs_unless_forced() -> None:
    fake = FakeFleet(running=[MoveTask(source_arn="arn:aws:sqs:us-east-1:1:events-dlq", status="RUNNING")])
    with pytest.raises(Conflict):
        cluster.rebalance(fake, LAYOUT, cluster.RebalanceRequest(), "auto")  # type: ignore[arg-type]
    forced = cluster.rebalance(fake, LAYOUT, cluster.RebalanceRequest(force=True), "auto")  # type: ignore[arg-type]
    assert forced.redrives[0].method == "move_task"


def test_the_fleet_adapter_starts_move_tasks_and_recognises_endpoints_without_them() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    fleet = Fleet(sqs_client=sqs, lambda_client=object(), stepfunctions_client=object(), cloudwatch_client=object())
    with Stubber(sqs) as stub:
        stub.add_response(
            "start_message_move_task",
            {"TaskHandle": "h-1"},
            {"SourceArn": "arn:dlq", "DestinationArn": "arn:src"},
        )
        stub.add_client_error("start_message_move_task", "UnsupportedOperation", http_status_code=400)
        stub.add_client_error("start_message_move_task", "AccessDenied", http_status_code=403)
        assert fleet.start_move_task("arn:dlq", "arn:src") == "h-1"
        with pytest.raises(MoveTasksUnsupported):
            fleet.start_move_task("arn:dlq", "arn:src")
        with pytest.raises(Exception, match="AccessDenied"):
            fleet.start_move_task("arn:dlq", "arn:src")


# ------------------------------------------------------------------------------ metrics and analytics


def test_metrics_expose_real_counters_in_prometheus_text(api: Api) -> None:
    received = utc_now() - timedelta(minutes=5)
    for seconds in (0.3, 3):
        event = api.event(received_at=received)
        processed = iso(received + timedelta(seconds=seconds))
        api.table.set_fields({"pk": event["pk"], "sk": event["sk"]}, {"processed_at": processed})
    api.event(repository="acme/other")
    api.incident(
        type="pipeline_failure",
        severity="high",
        status="resolved",
        actions_taken=[{"action": "add_dependency", "status": "done"}],
    )
    api.incident(type="data_drift", severity="medium", status="open")
    api.incident(tenant="tenant-b", repository="tenant-b/secret-model", type="model_degradation", severity="low")
    response = api.client.get("/metrics", headers=api.key("read"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert "# TYPE bot_events_processed_total counter" in lines
    assert 'bot_events_processed_total{event_type="workflow_run",repo="acme/model",status="success"} 2' in lines
    assert (
        'bot_event_processing_duration_seconds_bucket{event_type="workflow_run",repo="acme/model",le="0.5"} 1' in lines
    )
    assert (
        'bot_event_processing_duration_seconds_bucket{event_type="workflow_run",repo="acme/model",le="+Inf"} 2' in lines
    )
    assert 'bot_event_processing_duration_seconds_count{event_type="workflow_run",repo="acme/model"} 2' in lines
    assert 'bot_issues_detected_total{type="pipeline_failure",severity="high",repo="acme/model"} 1' in lines
    assert 'bot_issues_resolved_total{type="pipeline_failure",repo="acme/model"} 1' in lines
    assert 'bot_actions_total{action="add_dependency",result="done",repo="acme/model"} 1' in lines
    assert "secret-model" not in response.text and "model_degradation" not in response.text  # another tenant's


def test_metrics_need_credentials(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 401


def test_analytics_summarise_the_period(api: Api) -> None:
    now = utc_now()
    for minutes in (10, 20, 70):
        api.event(received_at=now - timedelta(minutes=minutes))
    api.event(repository="acme/other", received_at=now - timedelta(minutes=5))
    api.event(received_at=now - timedelta(days=3))  # outside 24h
    api.incident(
        detected_at=iso(now - timedelta(minutes=30)),
        status="resolved",
        resolution_time=120,
        resolved_at=iso(now - timedelta(minutes=28)),
    )
    api.incident(detected_at=iso(now - timedelta(minutes=40)), type="data_drift", repository="acme/other")
    api.incident(detected_at=iso(now - timedelta(minutes=50)), type="data_drift", repository="acme/other")
    api.incident(detected_at=iso(now - timedelta(days=2)))
    response = api.client.get("/api/v1/analytics", headers=api.key("read"), params={"period": "24h"})
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {
        "total_events": 4,
        "issues_detected": 3,
        "issues_resolved": 1,
        "resolution_rate": 0.3333,
        "average_resolution_time": 120.0,
        "most_common_issue_type": "data_drift",
    }
    series = body["timeseries"]["events_per_hour"]
    assert len(series) in (24, 25)
    assert sum(p["value"] for p in series) == 4
    assert body["breakdown_by_type"] == {
        "pipeline_failure": {"count": 1, "resolved": 1},
        "data_drift": {"count": 2, "resolved": 0},
    }
    assert body["top_repositories"] == [
        {"repository": "acme/model", "events": 3, "issues": 1},
        {"repository": "acme/other", "events": 1, "issues": 2},
    ]
    resolved_at = [p for p in body["timeseries"]["resolution_times"] if p["value"] is not None]
    assert [p["value"] for p in resolved_at] == [120.0]
    narrowed = api.client.get(
        "/api/v1/analytics",
        headers=api.key("read"),
        params={"period": "1h", "repository": "acme/other", "metric_type": "events"},
    ).json()
    assert narrowed["summary"]["total_events"] == 1
    assert list(narrowed["timeseries"]) == ["events_per_hour"]
    assert api.client.get("/api/v1/analytics", headers=api.key("read"), params={"period": "2y"}).status_code == 422
