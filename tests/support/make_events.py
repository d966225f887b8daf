"""Regenerates `events/`: realistic, correctly signed samples for every function and route.

Run `.venv/bin/python tests/support/make_events.py` after changing a payload; webhook requests are
signed with the local stack's default secret, so `sam local invoke -e` shaped files pass the check.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlops_bot.local.sandbox import GitHubSandbox
from mlops_bot.local.stack import DEFAULT_WEBHOOK_SECRET
from mlops_bot.webhooks.signature import sign

EVENTS = Path(__file__).resolve().parents[2] / "events"
REPOSITORY = {
    "id": 708411234,
    "name": "churn-model",
    "full_name": "acme-ml/churn-model",
    "private": True,
    "owner": {"login": "acme-ml", "id": 9919, "type": "Organization"},
    "html_url": "https://github.com/acme-ml/churn-model",
    "default_branch": "main",
}
SENDER = {"login": "dana-ml", "id": 5123, "type": "User"}
INSTALLATION = {"id": 48211007, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDgyMTEwMDc="}

# The webhook samples are the sandbox's own runs and deployments (`mlops_bot.local.sandbox`), so a
# replay against `make run` reads real logs and acts on real files.
SANDBOX = GitHubSandbox("make-events")
SANDBOX.start()  # runs carry the API's URL, so the sandbox must be listening while it is seeded
SANDBOX.seed()
GITHUB_API = "https://api.github.com"
WORKFLOW_RUN_FAILURE = SANDBOX.workflow_run_payload("acme-ml/churn-model", 9187349201, GITHUB_API)
WORKFLOW_RUN_NETWORK_FAILURE = SANDBOX.workflow_run_payload("acme-ml/feature-store", 9187350412, GITHUB_API)
WORKFLOW_RUN_FLAKY_TEST = SANDBOX.workflow_run_payload("acme-ml/fraud-detector", 9187351733, GITHUB_API)
DEPLOYMENT_SUCCESS = SANDBOX.deployment_status_payload("acme-ml/recommender-api", 1841200771)
DEPLOYMENT_FAILURE = SANDBOX.deployment_status_payload("acme-ml/recommender-api", 1841200982)
DRIFT_REPORT = {
    "columns": {
        "units_sold": {"test": "wasserstein", "statistic": 0.231, "p_value": None, "threshold": 0.1, "drifted": True},
        "unit_price": {"test": "psi", "statistic": 0.318, "p_value": None, "threshold": 0.1, "drifted": True},
        "promo_share": {"test": "ks", "statistic": 0.021, "p_value": 0.412, "threshold": 0.05, "drifted": False},
        "store_type": {"test": "chisquare", "statistic": 48.2, "p_value": 0.0001, "threshold": 0.05, "drifted": True},
    },
    "drift_share": 0.75,
    "dataset_drift": True,
    "reference": "s3://acme-ml-data/demand/reference.parquet",
    "current": "s3://acme-ml-data/demand/current.parquet",
    "ref": "main",
}
PUSH = {
    "ref": "refs/heads/main",
    "before": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
    "after": "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
    "created": False,
    "deleted": False,
    "forced": False,
    "commits": [
        {
            "id": "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
            "message": "Use scikit-learn's HistGradientBoosting for the churn model",
            "timestamp": "2026-11-25T09:11:58Z",
            "author": {"name": "Dana", "email": "dana@example.com", "username": "dana-ml"},
            "added": [],
            "removed": [],
            "modified": ["src/churn/train.py"],
        }
    ],
    "head_commit": {"id": "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39", "message": "Use HistGradientBoosting"},
    "pusher": {"name": "dana-ml", "email": "dana@example.com"},
    "repository": REPOSITORY,
    "sender": SENDER,
    "installation": INSTALLATION,
}
PING = {
    "zen": "Keep it logically awesome.",
    "hook_id": 501234567,
    "hook": {"type": "App", "id": 501234567, "active": True, "events": ["workflow_run", "push"]},
    "repository": REPOSITORY,
    "sender": SENDER,
}


def api_gateway_request(
    event: str, delivery: str, payload: dict[str, object], path: str = "/webhooks/github"
) -> dict[str, object]:
    body = json.dumps(payload, indent=None, separators=(",", ":"))
    now = 1795597200000
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/7a8b9c1",
            "x-github-event": event,
            "x-github-delivery": delivery,
            "x-github-hook-id": "501234567",
            "x-github-hook-installation-target-type": "integration",
            "x-hub-signature-256": sign(DEFAULT_WEBHOOK_SECRET, body.encode()),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "140.82.115.10",
                "userAgent": "GitHub-Hookshot/7a8b9c1",
            },
            "requestId": f"req-{delivery[:8]}",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "timeEpoch": now,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def api_request(path: str, payload: dict[str, object]) -> dict[str, object]:
    """A management API request as API Gateway passes it; `replay` adds the local stack's API key."""
    request = api_gateway_request("", "", payload, path)
    request["headers"] = {"accept": "application/json", "content-type": "application/json", "user-agent": "curl/8.5.0"}
    request["routeKey"] = "ANY /{proxy+}"
    context = request["requestContext"]
    assert isinstance(context, dict)
    context.update(requestId="req-drift-report", routeKey="ANY /{proxy+}")
    request["pathParameters"] = {"proxy": path.lstrip("/")}
    context["http"]["sourceIp"] = "203.0.113.7"
    context["http"]["userAgent"] = "curl/8.5.0"
    return request


def get_request(path: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "GET /health",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "application/json", "host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "req-health",
            "routeKey": "GET /health",
            "stage": "$default",
            "timeEpoch": 1795597200000,
        },
        "isBase64Encoded": False,
    }


def sqs_batch(queue: str, bodies: list[dict[str, object]]) -> dict[str, object]:
    return {
        "Records": [
            {
                "messageId": f"0c4b7d3e-1f2a-4b5c-8d9e-{i:012d}",
                "receiptHandle": f"AQEB{i}sample",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795597200000",
                    "SenderId": "AROAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795597200100",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def main() -> None:
    from mlops_bot.storage.keys import incident_id_for_run

    run = WORKFLOW_RUN_FAILURE["workflow_run"]
    assert isinstance(run, dict)
    incident_id = incident_id_for_run(REPOSITORY["full_name"], int(run["id"]))  # type: ignore[arg-type]
    queued_failure = {
        "schema_version": 1,
        "tenant_id": "default",
        "delivery_id": "6f1e2d3c-4b5a-11ef-9a8b-0242ac120002",
        "execution_id": "2b7f6e5d-4c3b-4a29-8f1e-0d9c8b7a6f5e",
        "event": "workflow_run",
        "action": "completed",
        "received_at": "2026-11-25T09:15:42.120000Z",
        "repository": "acme-ml/churn-model",
        "installation_id": 48211007,
        "sender": "dana-ml",
        "workflow_run": {
            k: run[k]
            for k in (
                "id",
                "name",
                "head_branch",
                "head_sha",
                "status",
                "conclusion",
                "run_attempt",
                "run_number",
                "event",
                "workflow_id",
                "path",
                "html_url",
                "created_at",
                "updated_at",
            )
        },
    }
    queued_push = {
        "schema_version": 1,
        "tenant_id": "default",
        "delivery_id": "7a2e3d4c-4b5a-11ef-9a8b-0242ac120002",
        "execution_id": "3c8f7e6d-5c4b-4a39-9f2e-1e0d9c8b7a6f",
        "event": "push",
        "received_at": "2026-11-25T09:12:00.010000Z",
        "repository": "acme-ml/churn-model",
        "sender": "dana-ml",
        "ref": "refs/heads/main",
        "head_commit": PUSH["after"],
    }
    files: dict[str, object] = {
        "workflow_run_failure.json": api_gateway_request(
            "workflow_run", "6f1e2d3c-4b5a-11ef-9a8b-0242ac120002", WORKFLOW_RUN_FAILURE
        ),
        "push.json": api_gateway_request("push", "7a2e3d4c-4b5a-11ef-9a8b-0242ac120002", PUSH),
        "ping.json": api_gateway_request("ping", "8b3f4e5d-4b5a-11ef-9a8b-0242ac120002", PING),
        "workflow_run_network_failure.json": api_gateway_request(
            "workflow_run", "9c4e5f6a-4b5a-11ef-9a8b-0242ac120002", WORKFLOW_RUN_NETWORK_FAILURE
        ),
        "workflow_run_flaky_test.json": api_gateway_request(
            "workflow_run", "ad5f6a7b-4b5a-11ef-9a8b-0242ac120002", WORKFLOW_RUN_FLAKY_TEST
        ),
        "deployment_status_success.json": api_gateway_request(
            "deployment_status", "be6a7b8c-4b5a-11ef-9a8b-0242ac120002", DEPLOYMENT_SUCCESS
        ),
        "deployment_status_failure.json": api_gateway_request(
            "deployment_status", "cf7b8c9d-4b5a-11ef-9a8b-0242ac120002", DEPLOYMENT_FAILURE
        ),
        "drift_report.json": api_request("/api/v1/repositories/acme-ml/demand-forecast/drift", DRIFT_REPORT),
        "management_health.json": get_request("/health"),
        "detector_sqs_batch.json": sqs_batch("mlops-bot-EventsQueue", [queued_failure, queued_push]),
        "healer_sqs_batch.json": sqs_batch(
            "mlops-bot-HealingQueue",
            [{"tenant_id": "default", "incident_id": incident_id, "reason": "detected"}],
        ),
        "playbook_task_plan.json": {
            "action": "plan",
            "state": {
                "tenant_id": "default",
                "incident_id": incident_id,
                "playbook": "pipeline_failure_fix",
                "reason": "detected",
                "dry_run": True,
            },
        },
        "scheduled_reconcile.json": {"task": "reconcile"},
        "scheduled_event.json": {
            "version": "0",
            "id": "5e9c1b2a-7d3f-4e8a-9b6c-1a2b3c4d5e6f",
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": "123456789012",
            "time": "2026-11-25T10:00:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/mlops-bot-Hourly"],
            "detail": {},
        },
    }
    EVENTS.mkdir(exist_ok=True)
    for name, document in files.items():
        (EVENTS / name).write_text(json.dumps(document, indent=2) + "\n")
    SANDBOX.stop()


if __name__ == "__main__":
    main()
