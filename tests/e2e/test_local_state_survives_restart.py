"""The local stack keeps its state in a directory: a stop with events in flight loses nothing.

Tenants, API keys, users, the JWT signing key, incidents and deliveries come back after a restart;
deliveries answered 202 before the stop are processed after the start, each exactly once; a
redelivery after the restart is still recognised as one.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.access import api_keys
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.management.accounts import tenants
from mlops_bot.storage import keys
from tests.e2e.conftest import eventually
from tests.support.stores import api_key_stores, tenant_stores
from tests.support.webhooks import post_webhook, workflow_run

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "acme-ml/churn-model"  # a sandbox repository, enrolled in `default` at start
PASSWORD = "correct-horse-battery"  # a test user's password


def config(state_dir: Path) -> StackConfig:
    return StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        webhook_secret="restart-secret",
        sandbox=True,
        state_dir=state_dir,
        snapshot_interval=0.5,
        visibility_timeout=1,
    )


def green_run(run_id: int) -> dict[str, Any]:
    return workflow_run(run_id, REPOSITORY, "success", installation_id=48211007)


def repository(stack: LocalStack) -> dict[str, Any]:
    return StateTable(stack.table_name()).get(keys.repository_key("default", REPOSITORY)) or {}


def recorded_deliveries(stack: LocalStack) -> list[str]:
    items = StateTable(stack.table_name()).query(keys.events_index("default"), by_index=True)
    return [str(item["delivery_id"]) for item in items if item.get("repository") == REPOSITORY]


def test_a_stop_with_events_in_flight_loses_and_repeats_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = config(state_dir)
    deliveries = [str(uuid.uuid4()) for _ in range(24)]
    with LocalStack(first) as stack:
        table = StateTable(stack.table_name())
        issued = api_keys.issue(api_key_stores(table), "default", "monitoring", "read")
        tenants.add_user(tenant_stores(table), "default", "ops@example.com", PASSWORD, "admin")
        login = httpx.post(f"{stack.url}/auth/login", json={"username": "ops@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text
        access_token = login.json()["access_token"]
        # Half the deliveries are processed while the detector runs; then it stops, and the rest
        # are accepted (202) and left in the queue when the stack stops.
        answers = [post_webhook(stack, green_run(9000 + i), delivery=d) for i, d in enumerate(deliveries[:12])]
        eventually(lambda: len(recorded_deliveries(stack)) == 12)
        for poller in stack.pollers:
            poller.stop()
        for poller in stack.pollers:
            poller.join(timeout=10)
        with ThreadPoolExecutor(4) as pool:
            answers += list(
                pool.map(
                    lambda pair: post_webhook(stack, green_run(9100 + pair[0]), delivery=pair[1]),
                    enumerate(deliveries[12:]),
                )
            )
        assert [a.status_code for a in answers] == [202] * 24
        first_execution = answers[0].json()["execution_id"]
        assert len(recorded_deliveries(stack)) == 12  # the rest is in flight

    second = config(state_dir)
    with LocalStack(second) as stack:
        assert stack.restored is not None and stack.restored["messages"] >= 12
        found = eventually(lambda: (ids := recorded_deliveries(stack)) and len(ids) >= 24 and ids, timeout=60)
        assert sorted(found) == sorted(deliveries)  # every delivery, each once
        assert eventually(lambda: repository(stack).get("total_events") == 24)
        # A redelivery of a delivery answered before the stop is still a duplicate, same execution.
        again = post_webhook(stack, green_run(9000), delivery=deliveries[0])
        assert again.status_code == 200
        assert again.json()["execution_id"] == first_execution
        # Keys, users and the JWT signing key came back: the old key and the old token still work.
        by_key = httpx.get(f"{stack.url}/api/v1/issues", headers={"authorization": f"Bearer {issued.key}"})
        assert by_key.status_code == 200, by_key.text
        by_token = httpx.get(f"{stack.url}/api/v1/issues", headers={"authorization": f"Bearer {access_token}"})
        assert by_token.status_code == 200, by_token.text
        relogin = httpx.post(f"{stack.url}/auth/login", json={"username": "ops@example.com", "password": PASSWORD})
        assert relogin.status_code == 200
        assert repository(stack).get("total_events") == 24  # nothing processed twice meanwhile


def test_a_stop_while_the_playbook_runs_keeps_one_fix_and_its_incident(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    incident_id = keys.incident_id_for_run(REPOSITORY, 9187349201)
    with LocalStack(config(state_dir)) as stack:
        payload = workflow_run(9187349201, REPOSITORY, installation_id=48211007)
        assert post_webhook(stack, payload).status_code == 202
        eventually(lambda: stack.read_incident(REPOSITORY, incident_id))  # detected; the playbook is starting
    with LocalStack(config(state_dir)) as stack:  # the stop let the running playbook reach its wait
        assert stack.sandbox is not None
        eventually(lambda: (stack.read_incident(REPOSITORY, incident_id) or {}).get("status") == "verifying")
        [pull] = stack.sandbox.activity()["pull_requests"]
        # The playbook waits for the proving run again: the fix branch's green CI resolves it.
        [follow_up] = stack.sandbox.finish_pending_runs()
        assert follow_up["workflow_run"]["head_branch"] == f"mlops-bot/{incident_id}"
        assert post_webhook(stack, follow_up).status_code == 202
        eventually(lambda: (stack.read_incident(REPOSITORY, incident_id) or {}).get("status") == "resolved")
        assert "+scikit-learn" in pull["diff"]
        incident = stack.read_incident(REPOSITORY, incident_id) or {}
        assert incident["diagnosis"]["category"] == "dependency_missing"
        page = httpx.get(f"{stack.url}/sandbox")
        assert page.status_code == 200 and "+scikit-learn" in page.text


def test_the_state_directory_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_STATE_DIR", str(tmp_path / "elsewhere"))
    assert StackConfig.from_environment().state_dir == tmp_path / "elsewhere"
    monkeypatch.setenv("MLOPS_BOT_STATE_DIR", "")  # empty: in memory only
    assert StackConfig.from_environment().state_dir is None
    monkeypatch.delenv("MLOPS_BOT_STATE_DIR")
    assert StackConfig.from_environment().state_dir == Path(".local/state")
