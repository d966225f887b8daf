"""The dashboard's services and functions against moto: connections, messages, broadcasts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from mlops_bot.access import api_keys
from mlops_bot.access.api_keys import Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.websocket import ConnectionGone, WebSocketConnections
from mlops_bot.dashboard import connections
from mlops_bot.dashboard.broadcast import StreamBatch
from mlops_bot.dashboard.messages import (
    MAX_MESSAGE_BYTES,
    MESSAGE_TYPES,
    MetricsSources,
    StreamChange,
    messages_for,
    system_metrics,
)
from mlops_bot.detection.incidents import Incident, TimelineEntry, incident_item
from mlops_bot.errors import NotFound, RateLimited, Unauthorized
from mlops_bot.storage import keys
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from mlops_bot.stores.incidents import DynamoIncidentStore
from tests.integration.conftest import lambda_context, load_handler
from tests.support.aws import MockState
from tests.support.stores import api_key_stores, broadcast_dependencies

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def principal(tenant: str = "acme", key_id: str = "key-dana") -> Principal:
    return Principal(key_id=key_id, tenant_id=tenant, name=key_id, permissions=["read"])


class RecordingPoster:
    """A stand-in for API Gateway's management API that remembers every post."""

    def __init__(self, gone: set[str] | None = None, broken: set[str] | None = None) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.gone = gone or set()
        self.broken = broken or set()

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.broken:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "PostToConnection")
        self.posts.append((connection_id, json.loads(data)))

    def received(self, connection_id: str) -> list[dict[str, Any]]:
        return [message for target, message in self.posts if target == connection_id]


def incident(tenant: str = "acme", incident_id: str = "inc-1", **changes: Any) -> dict[str, Any]:
    model = Incident(
        id=incident_id,
        tenant_id=tenant,
        repository="acme/model",
        type="pipeline_failure",
        severity="high",
        description="Workflow 'CI' failure on main",
        detected_at="2026-11-25T09:00:00.000000Z",
        metadata={"workflow_name": "CI", "run_id": 42, "head_branch": "main", "installation_id": 7},
        timeline=[TimelineEntry(event="issue_detected", timestamp="2026-11-25T09:00:00.000000Z")],
    )
    return {**incident_item(model), **changes}


def event_item(tenant: str = "acme", conclusion: str = "failure") -> dict[str, Any]:
    return {
        **keys.event_key(tenant, "acme/model", "2026-11-25T09:00:00.000000Z", "d-1"),
        "entity": "event",
        "tenant_id": tenant,
        "repository": "acme/model",
        "delivery_id": "d-1",
        "execution_id": "exec-1",
        "received_at": "2026-11-25T09:00:00.000000Z",
        "summary": {
            "event": "workflow_run",
            "action": "completed",
            "workflow": "CI",
            "run_id": 42,
            "conclusion": conclusion,
            "status": "completed",
            "head_branch": "main",
        },
    }


def change(new: dict[str, Any] | None, old: dict[str, Any] | None = None, sequence: str = "1") -> StreamChange:
    image = new or old or {}
    name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    return StreamChange(
        event_name=name, sequence_number=sequence, keys={"pk": image["pk"], "sk": image["sk"]}, new=new, old=old
    )


@pytest.fixture
def table(aws: MockState) -> StateTable:
    return StateTable(aws.table_name)


def batch_for(
    table: StateTable, poster: RecordingPoster, depths: dict[str, tuple[int, int]] | None = None
) -> StreamBatch:
    return StreamBatch(
        broadcast_dependencies(table, poster, (lambda: depths) if depths is not None else None, now=lambda: T0)
    )


def subscribed(
    table: StateTable, tenant: str, key_id: str, connection_id: str, now: datetime | None = T0, **kwargs: Any
) -> None:
    connections.register(DynamoDashboardConnectionStore(table), principal(tenant, key_id), connection_id, now=now)
    connections.subscribe(DynamoDashboardConnectionStore(table), connection_id, now=now, **kwargs)


# ---------------------------------------------------------------- connections
def test_the_eleventh_connection_of_a_user_is_refused_until_one_closes(table: StateTable) -> None:
    dana = principal()
    for n in range(connections.MAX_CONNECTIONS_PER_USER):
        connections.register(DynamoDashboardConnectionStore(table), dana, f"c{n}", now=T0)
    with pytest.raises(RateLimited) as refused:
        connections.register(DynamoDashboardConnectionStore(table), dana, "c10", now=T0)
    assert 0 < refused.value.retry_after <= connections.CONNECTION_TTL_SECONDS
    connections.register(
        DynamoDashboardConnectionStore(table), principal(key_id="key-eli"), "other-user", now=T0
    )  # the limit is per user

    assert connections.disconnect(DynamoDashboardConnectionStore(table), "c3")
    reconnected = connections.register(DynamoDashboardConnectionStore(table), dana, "c10", now=T0)
    assert reconnected.slot == 3
    assert (
        len(
            [
                c
                for c in connections.tenant_connections(DynamoDashboardConnectionStore(table), "acme", now=T0)
                if c.user == "api_key:key-dana"
            ]
        )
        == 10
    )


def test_connections_expire_after_two_hours_and_their_slots_are_reused(table: StateTable) -> None:
    dana = principal()
    first = connections.register(DynamoDashboardConnectionStore(table), dana, "c0", now=T0)
    stored = table.get(keys.dashboard_slot_key("acme", "api_key:key-dana", 0))
    route = table.get(keys.dashboard_connection_route_key("c0"))
    two_hours = int((T0 + timedelta(hours=2)).timestamp())
    assert first.expires_at == stored["expires_at"] == route["expires_at"] == two_hours  # DynamoDB TTL attribute
    for n in range(1, connections.MAX_CONNECTIONS_PER_USER):
        connections.register(DynamoDashboardConnectionStore(table), dana, f"c{n}", now=T0)

    later = T0 + timedelta(hours=2, seconds=1)
    assert (
        connections.tenant_connections(DynamoDashboardConnectionStore(table), "acme", now=later) == []
    )  # expired even before TTL deletes it
    assert connections.lookup(DynamoDashboardConnectionStore(table), "c0", now=later) is None
    assert connections.register(DynamoDashboardConnectionStore(table), dana, "fresh", now=later).slot == 0


def test_connect_takes_the_key_from_the_query_or_the_header_and_refuses_bad_ones(table: StateTable) -> None:
    key, _ = api_keys.generate(api_key_stores(table), "acme", "dashboard", ["read"])

    def authenticate(authorization: str | None) -> Principal:
        return api_keys.authenticate(DynamoApiKeyStore(table), authorization)

    by_query = connections.connect(
        DynamoDashboardConnectionStore(table), authenticate, "q", {"api_key": key}, {}, now=T0
    )
    by_header = connections.connect(
        DynamoDashboardConnectionStore(table), authenticate, "h", None, {"Authorization": f"Bearer {key}"}, now=T0
    )
    assert by_query.tenant_id == by_header.tenant_id == "acme"
    with pytest.raises(Unauthorized):
        connections.connect(
            DynamoDashboardConnectionStore(table), authenticate, "x", {"api_key": "mlb_not-a-key"}, {}, now=T0
        )
    with pytest.raises(Unauthorized):
        connections.connect(DynamoDashboardConnectionStore(table), authenticate, "y", None, None, now=T0)


def test_subscribing_an_unknown_or_expired_connection_is_not_found(table: StateTable) -> None:
    with pytest.raises(NotFound):
        connections.subscribe(DynamoDashboardConnectionStore(table), "never-connected", now=T0)
    connections.register(DynamoDashboardConnectionStore(table), principal(), "c0", now=T0)
    with pytest.raises(NotFound):
        connections.subscribe(DynamoDashboardConnectionStore(table), "c0", now=T0 + timedelta(hours=3))


# ---------------------------------------------------------------- messages
def test_a_new_incident_is_a_failure_alert_with_the_spec_fields() -> None:
    [alert] = messages_for(change(incident()))
    assert alert.type == "failure_alerts"
    assert alert.data["id"] == "inc-1"
    assert {k: alert.data[k] for k in ("repository", "type", "severity", "status")} == {
        "repository": "acme/model",
        "type": "pipeline_failure",
        "severity": "high",
        "status": "open",
    }
    assert alert.data["metadata"] == {"workflow_name": "CI", "run_id": 42, "head_branch": "main"}  # no internals
    assert [e["event"] for e in alert.data["timeline"]] == ["issue_detected"]


def test_a_timeline_step_or_status_change_is_healing_progress() -> None:
    before = incident()
    after = {
        **before,
        "status": "healing",
        "timeline": [*before["timeline"], {"event": "action_executed", "timestamp": "2026-11-25T09:01:00Z"}],
        "actions_taken": [{"action": "open_issue", "status": "planned"}],
    }
    [progress] = messages_for(change(after, before))
    assert progress.type == "healing_progress"
    assert progress.data["incident_id"] == "inc-1"
    assert (progress.data["status"], progress.data["previous_status"]) == ("healing", "open")
    assert [e["event"] for e in progress.data["new_entries"]] == ["action_executed"]
    assert progress.data["latest_action"] == {"action": "open_issue", "status": "planned"}

    resolved = {**after, "status": "resolved", "resolved_at": "2026-11-25T09:05:00Z", "resolution_time": 300}
    [done] = messages_for(change(resolved, after))
    assert (done.data["status"], done.data["resolution_time"]) == ("resolved", 300)

    assert messages_for(change({**after, "description": "refined"}, after)) == []  # nothing a watcher follows


def test_a_recorded_ci_event_is_a_pipeline_update_and_other_items_are_silent() -> None:
    [update] = messages_for(change(event_item()))
    assert update.type == "pipeline_updates"
    assert {k: update.data[k] for k in ("repository", "workflow", "run_id", "conclusion")} == {
        "repository": "acme/model",
        "workflow": "CI",
        "run_id": 42,
        "conclusion": "failure",
    }
    push = {**event_item(), "summary": {"event": "push", "action": None, "ref": "refs/heads/x"}}
    assert messages_for(change(push)) == []
    key_item = {**keys.api_key_key("acme", "k"), "entity": "api_key", "tenant_id": "acme"}
    assert messages_for(change(key_item)) == []
    assert messages_for(change(None, incident())) == []  # a removal (TTL) says nothing


def test_system_metrics_count_the_tenants_open_incidents_and_the_queues(table: StateTable) -> None:
    for n, status in enumerate(["open", "healing", "resolved", "failed", "verifying"]):
        table.put(incident(incident_id=f"inc-{n}", status=status))
    table.put(incident(tenant="globex", incident_id="inc-g"))
    sources = MetricsSources(DynamoIncidentStore(table), lambda: {"events": (3, 1), "healing": (0, 2)})
    metrics = system_metrics(sources, "acme")
    assert metrics.type == "system_metrics"
    assert metrics.data == {
        "open_incidents": 3,
        "queues": {"events": {"waiting": 3, "in_flight": 1}, "healing": {"waiting": 0, "in_flight": 2}},
    }

    def unreadable() -> dict[str, tuple[int, int]]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetQueueAttributes")

    assert system_metrics(MetricsSources(DynamoIncidentStore(table), unreadable), "acme").data == {"open_incidents": 3}


def test_messages_stay_under_api_gateways_frame_limit() -> None:
    huge = incident(
        timeline=[{"event": "failure_repeated", "timestamp": f"t{n}", "details": "x" * 500} for n in range(600)]
    )
    [alert] = messages_for(change(huge))
    encoded = alert.encode()
    assert len(encoded) <= MAX_MESSAGE_BYTES
    assert json.loads(encoded)["data"]["id"] == "inc-1"


# ---------------------------------------------------------------- broadcasts
def test_a_change_reaches_every_connection_of_its_tenant_and_no_other(table: StateTable) -> None:
    subscribed(table, "acme", "key-a", "acme-1")
    subscribed(table, "acme", "key-b", "acme-2")
    connections.register(
        DynamoDashboardConnectionStore(table), principal("acme", "key-c"), "acme-connected-only", now=T0
    )
    subscribed(table, "acme", "key-d", "acme-metrics-only", types=["system_metrics"])
    subscribed(table, "globex", "key-g", "globex-1")
    poster = RecordingPoster()

    batch = batch_for(table, poster)
    batch.deliver(change(incident("acme")))
    batch.finish()

    assert [m["type"] for m in poster.received("acme-1")] == ["failure_alerts", "system_metrics"]
    assert [m["type"] for m in poster.received("acme-2")] == ["failure_alerts", "system_metrics"]
    assert [m["type"] for m in poster.received("acme-metrics-only")] == ["system_metrics"]
    # No subscribe step needed: a connection receives the documented types as soon as it is open.
    assert [m["type"] for m in poster.received("acme-connected-only")] == ["failure_alerts", "system_metrics"]
    assert poster.received("globex-1") == []

    poster.posts.clear()
    other = batch_for(table, poster)
    other.deliver(change(event_item("globex")))
    other.finish()
    assert {target for target, _ in poster.posts} == {"globex-1"}


def test_an_item_claiming_another_tenant_than_its_key_is_never_broadcast(table: StateTable) -> None:
    subscribed(table, "acme", "key-a", "acme-1")
    subscribed(table, "globex", "key-g", "globex-1")
    forged = {**incident("acme"), "tenant_id": "globex"}
    system = {**incident("acme"), "pk": f"{keys.tenant_pk(keys.SYSTEM_TENANT)}#INCIDENT#x", "tenant_id": "_system"}
    poster = RecordingPoster()
    batch = batch_for(table, poster)
    assert batch.deliver(change(forged)) == 0
    assert batch.deliver(change(system)) == 0
    batch.finish()
    assert poster.posts == []


def test_system_metrics_go_out_once_per_tenant_per_batch(table: StateTable) -> None:
    subscribed(table, "acme", "key-a", "acme-1")
    poster = RecordingPoster()
    batch = batch_for(table, poster, depths={"events": (0, 0), "healing": (0, 0)})
    for n in range(3):
        batch.deliver(change(incident(incident_id=f"inc-{n}"), sequence=str(n)))
    batch.deliver(change(event_item()))
    batch.finish()
    assert [m["type"] for m in poster.received("acme-1")].count("system_metrics") == 1
    assert batch.stats.metrics_sent == 1


def test_gone_connections_are_forgotten_and_the_others_still_receive(table: StateTable) -> None:
    for n in range(3):
        subscribed(table, "acme", f"key-{n}", f"c{n}", now=T0 - timedelta(minutes=5))
    poster = RecordingPoster(gone={"c1"}, broken={"c2"})
    batch = batch_for(table, poster)
    assert batch.deliver(change(incident())) == 1
    batch.deliver(change(event_item()))
    batch.finish()

    assert [m["type"] for m in poster.received("c0")] == ["failure_alerts", "pipeline_updates", "system_metrics"]
    assert (batch.stats.gone, batch.stats.failed) == (1, 3)  # c1 once (then forgotten); c2 every time
    live = {
        c.connection_id for c in connections.tenant_connections(DynamoDashboardConnectionStore(table), "acme", now=T0)
    }
    assert live == {"c0", "c2"}
    assert table.get(keys.dashboard_connection_route_key("c1")) is None


def test_a_connection_still_opening_is_not_forgotten_when_api_gateway_answers_410(table: StateTable) -> None:
    # API Gateway opens a connection only once `$connect` has answered; a broadcast that reads the
    # slot in between is told 410. That connection is about to open: forgetting it would refuse
    # its own `subscribe` (404) and drop every broadcast until it reconnects.
    store = DynamoDashboardConnectionStore(table)
    connections.register(store, principal("acme", "key-new"), "opening", now=T0 - timedelta(seconds=2))
    connections.register(store, principal("acme", "key-old"), "left", now=T0 - timedelta(minutes=5))
    poster = RecordingPoster(gone={"opening", "left"})
    batch = batch_for(table, poster)
    batch.deliver(change(incident()))
    batch.finish()

    assert {c.connection_id for c in connections.tenant_connections(store, "acme", now=T0)} == {"opening"}
    assert connections.subscribe(store, "opening", now=T0).connection_id == "opening"
    assert table.get(keys.dashboard_connection_route_key("left")) is None


# ---------------------------------------------------------------- the adapter
def test_the_management_client_turns_410_into_connection_gone() -> None:
    client = boto3.client(
        "apigatewaymanagementapi", endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/prod"
    )
    with Stubber(client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "ok=", "Data": b"{}"})
        stub.add_client_error("post_to_connection", service_error_code="GoneException", http_status_code=410)
        stub.add_client_error("post_to_connection", service_error_code="LimitExceededException", http_status_code=429)
        connections_api = WebSocketConnections("", client=client)
        connections_api.post("ok=", b"{}")
        with pytest.raises(ConnectionGone):
            connections_api.post("left=", b"{}")
        with pytest.raises(ClientError):
            connections_api.post("busy=", b"{}")


# ---------------------------------------------------------------- the functions
def stream_event(*records: tuple[str, dict[str, Any] | None, dict[str, Any] | None]) -> dict[str, Any]:
    serializer = TypeSerializer()

    def typed(item: dict[str, Any]) -> dict[str, Any]:
        return {k: serializer.serialize(v) for k, v in item.items()}

    events = []
    for n, (name, new, old) in enumerate(records):
        image = new or old or {}
        body: dict[str, Any] = {
            "Keys": typed({"pk": image["pk"], "sk": image["sk"]}),
            "SequenceNumber": str(100 + n),
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            body["NewImage"] = typed(new)
        if old is not None:
            body["OldImage"] = typed(old)
        events.append(
            {
                "eventID": f"e{n}",
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": body,
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
            }
        )
    return {"Records": events}


def test_the_broadcaster_reports_only_the_records_it_could_not_process(aws: MockState, table: StateTable) -> None:
    subscribed(table, "acme", "key-a", "acme-1", now=None)  # the handler reads the clock
    module = load_handler("broadcaster")
    poster = RecordingPoster()
    module._dependencies = broadcast_dependencies(table, poster)
    poison = incident(incident_id="inc-poison", occurrences="many")
    event = stream_event(("INSERT", incident(), None), ("INSERT", poison, None), ("INSERT", event_item(), None))
    assert module.handler(event, lambda_context("broadcaster")) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert [m["type"] for m in poster.received("acme-1")] == ["failure_alerts", "pipeline_updates", "system_metrics"]

    missing = StateTable("no-such-table")  # nothing can be read: the whole batch fails, Lambda bisects it
    module._dependencies = broadcast_dependencies(missing, poster)
    with pytest.raises(BatchProcessingError):
        module.handler(stream_event(("INSERT", incident(), None)), lambda_context("broadcaster"))


def websocket_event(route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    return {
        "requestContext": {"routeKey": route, "eventType": event_type, "connectionId": connection_id, "stage": "prod"},
        "isBase64Encoded": False,
        **extra,
    }


def test_the_dashboard_function_connects_subscribes_and_disconnects(aws: MockState, table: StateTable) -> None:
    key, _ = api_keys.generate(api_key_stores(table), "acme", "dashboard", ["read"])
    module = load_handler("dashboard")
    context = lambda_context("dashboard")

    refused = module.handler(websocket_event("$connect", "c1", queryStringParameters={"api_key": "mlb_x"}), context)
    assert refused["statusCode"] == 401
    assert json.loads(refused["body"])["error"]["code"] == "UNAUTHORIZED"

    accepted = module.handler(websocket_event("$connect", "c1", queryStringParameters={"api_key": key}), context)
    assert accepted == {"statusCode": 200}
    answer = module.handler(websocket_event("subscribe", "c1", body=json.dumps({"action": "subscribe"})), context)
    assert answer["statusCode"] == 200
    metrics = json.loads(answer["body"])
    assert metrics["type"] == "system_metrics"
    assert metrics["data"]["open_incidents"] == 0
    assert set(metrics["data"]["queues"]) == {"events", "healing"}
    [connection] = connections.tenant_connections(DynamoDashboardConnectionStore(table), "acme")
    assert connection.subscribed and connection.types == list(MESSAGE_TYPES)

    bad = module.handler(websocket_event("subscribe", "c1", body=json.dumps({"types": ["gossip"]})), context)
    assert bad["statusCode"] == 400
    # A misspelt key is refused, not dropped (which would subscribe to every type).
    typo = json.dumps({"action": "subscribe", "type": ["failure_alerts"]})
    assert module.handler(websocket_event("subscribe", "c1", body=typo), context)["statusCode"] == 400
    assert module.handler(websocket_event("$disconnect", "c1"), context) == {"statusCode": 200}
    assert connections.tenant_connections(DynamoDashboardConnectionStore(table), "acme") == []
    gone = module.handler(websocket_event("subscribe", "c1", body="{}"), context)
    assert gone["statusCode"] == 404
