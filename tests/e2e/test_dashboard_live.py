"""The dashboard WebSocket on the running local stack, as the page (or any client) uses it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mlops_bot.access import api_keys
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.websocket import ConnectionGone, WebSocketConnections
from mlops_bot.dashboard import connections
from mlops_bot.detection.incidents import Incident, incident_item
from mlops_bot.local.stack import LocalStack
from mlops_bot.storage import keys
from mlops_bot.stores.dashboard_connections import DynamoDashboardConnectionStore
from tests.e2e.conftest import ADMIN_KEY, eventually
from tests.e2e.test_webhook_slice import failed_run, post_webhook
from tests.support.stores import api_key_stores

Message = dict[str, Any]


@contextmanager
def dashboard(stack: LocalStack, credential: str, subscribe: bool = True) -> Iterator[ClientConnection]:
    with connect(f"{stack.websocket_url}?api_key={credential}", open_timeout=10) as socket:
        if subscribe:
            socket.send(json.dumps({"action": "subscribe"}))
        yield socket


def next_message(socket: ClientConnection, wanted: Callable[[Message], bool], timeout: float = 20.0) -> Message:
    """The first message `wanted` accepts, reading until a deadline (earlier ones are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no wanted message within {timeout}s")
        try:
            message: Message = json.loads(socket.recv(timeout=remaining))
        except TimeoutError as exc:
            raise AssertionError(f"no wanted message within {timeout}s") from exc
        if wanted(message):
            return message


def messages_until(socket: ClientConnection, last: Callable[[Message], bool], timeout: float = 20.0) -> list[Message]:
    """Every message up to and including the first `last` accepts."""
    seen: list[Message] = []

    def record(message: Message) -> bool:
        seen.append(message)
        return last(message)

    next_message(socket, record, timeout)
    return seen


def is_type(kind: str, **data: Any) -> Callable[[Message], bool]:
    return lambda m: m.get("type") == kind and all(m["data"].get(k) == v for k, v in data.items())


@pytest.fixture(scope="module")
def other_tenant_key(stack: LocalStack) -> str:
    key, _ = api_keys.generate(api_key_stores(StateTable(stack.table_name())), "globex", "e2e-dashboard", ["read"])
    return key


def test_subscribing_answers_with_system_metrics(stack: LocalStack) -> None:
    with dashboard(stack, ADMIN_KEY) as socket:
        metrics = next_message(socket, is_type("system_metrics"))
    assert isinstance(metrics["data"]["open_incidents"], int)
    assert set(metrics["data"]["queues"]) == {"events", "healing"}
    assert metrics["timestamp"].endswith("Z")


def test_a_failed_run_reaches_its_tenants_dashboard_and_no_other(stack: LocalStack, other_tenant_key: str) -> None:
    incident_id = keys.incident_id_for_run("acme/live-dashboard", 7001)
    with dashboard(stack, ADMIN_KEY) as mine, dashboard(stack, other_tenant_key) as theirs:
        next_message(mine, is_type("system_metrics"))
        next_message(theirs, is_type("system_metrics"))
        assert post_webhook(stack, failed_run(7001, "acme/live-dashboard")).status_code == 202

        alert = next_message(mine, is_type("failure_alerts", id=incident_id))
        assert alert["data"]["repository"] == "acme/live-dashboard"
        assert alert["data"]["severity"] == "high"
        progress = next_message(mine, is_type("healing_progress", incident_id=incident_id))
        assert progress["data"]["timeline"][0]["event"] == "issue_detected"

        # A barrier: a change of the other tenant, written after ours. The stream keeps order, so
        # anything about our incident would have reached the other dashboard before it.
        barrier = Incident(
            id="inc-barrier",
            tenant_id="globex",
            repository="globex/model",
            type="pipeline_failure",
            severity="low",
            description="barrier",
            detected_at="2026-11-25T09:00:00.000000Z",
        )
        StateTable(stack.table_name()).put(incident_item(barrier))
        seen = messages_until(theirs, is_type("failure_alerts", id="inc-barrier"))
    leaked = [m for m in seen if "live-dashboard" in json.dumps(m) or incident_id in json.dumps(m)]
    assert leaked == []


def test_a_connection_with_an_invalid_key_is_refused(stack: LocalStack) -> None:
    for query in ("?api_key=mlb_not-a-key", ""):
        with (
            connect(f"{stack.websocket_url}{query}", open_timeout=10) as socket,
            pytest.raises(ConnectionClosed) as closed,
        ):
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008  # policy violation
        assert closed.value.rcvd.reason.startswith("UNAUTHORIZED")


def test_the_eleventh_connection_of_one_key_is_refused(stack: LocalStack) -> None:
    key, _ = api_keys.generate(api_key_stores(StateTable(stack.table_name())), "initech", "tabs", ["read"])
    with ExitStack() as tabs:
        for _ in range(connections.MAX_CONNECTIONS_PER_USER):
            next_message(tabs.enter_context(dashboard(stack, key)), is_type("system_metrics"))
        with dashboard(stack, key, subscribe=False) as eleventh, pytest.raises(ConnectionClosed) as closed:
            eleventh.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason.startswith("RATE_LIMITED")


def test_closing_the_socket_frees_its_slot_and_unknown_ids_are_gone(stack: LocalStack) -> None:
    key, _ = api_keys.generate(api_key_stores(StateTable(stack.table_name())), "umbrella", "one-tab", ["read"])
    table = StateTable(stack.table_name())
    with dashboard(stack, key) as socket:
        next_message(socket, is_type("system_metrics"))
        [live] = connections.tenant_connections(DynamoDashboardConnectionStore(table), "umbrella")
        WebSocketConnections(stack.websocket_endpoint).post(live.connection_id, b'{"type": "ping"}')
        assert json.loads(socket.recv(timeout=10)) == {"type": "ping"}
    eventually(
        lambda: connections.tenant_connections(DynamoDashboardConnectionStore(table), "umbrella") == []
    )  # $disconnect ran
    with pytest.raises(ConnectionGone):
        WebSocketConnections(stack.websocket_endpoint).post(live.connection_id, b"{}")


def test_revoking_the_key_closes_its_open_socket_within_a_minute(stack: LocalStack) -> None:
    table = StateTable(stack.table_name())
    key, principal = api_keys.generate(api_key_stores(table), "initech", "wallboard", ["read"])
    with dashboard(stack, key) as socket:
        next_message(socket, is_type("system_metrics"))
        api_keys.revoke(api_key_stores(table), principal.key_id, "initech")
        deadline = time.monotonic() + 60
        with pytest.raises(ConnectionClosed):  # the server closes it: the broadcaster saw the revocation
            while time.monotonic() < deadline:
                socket.recv(timeout=max(0.1, deadline - time.monotonic()))
    eventually(lambda: connections.tenant_connections(DynamoDashboardConnectionStore(table), "initech") == [])
