"""`mlops-bot run-local` as `make run` starts it, stopped by a signal and started again.

SIGTERM with a delivery in flight: after the start it is processed, once. SIGKILL: what the
periodic snapshot held comes back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.local.stack import free_port
from tests.e2e.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "mlops-bot")


def environment(port: int, state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLOPS_BOT_", "AWS_"))}
    env.update(
        PORT=str(port),
        MLOPS_BOT_STATE_DIR=str(state_dir),
        MLOPS_BOT_LOCAL_SNAPSHOT_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def run_local(env: dict[str, str], stop: signal.Signals = signal.SIGTERM) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [CLI, "run-local"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    port = env["PORT"]

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            return False

    try:
        eventually(ready, timeout=120, interval=0.3)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, stop)
        process.communicate(timeout=60)


def replay(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [CLI, "replay", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def activity(env: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"http://127.0.0.1:{env['PORT']}/sandbox/api/activity").json()
    return document


@pytest.mark.slow
def test_sigterm_with_a_delivery_in_flight_then_start_processes_it_once(tmp_path: Path) -> None:
    env = environment(free_port(), tmp_path / "state")
    with run_local(env, signal.SIGTERM):
        answer = replay(env, "events/workflow_run_failure.json", "--wait", "0")  # 202, then stop at once
        assert answer["status_code"] == 202
    with run_local(env, signal.SIGTERM):
        pulls = eventually(lambda: activity(env)["pull_requests"], timeout=90)
        assert len(pulls) == 1 and "+scikit-learn" in pulls[0]["diff"]
        again = replay(env, "events/workflow_run_failure.json", "--delivery", answer["delivery_id"], "--wait", "0")
        assert again["status_code"] == 200  # the delivery is remembered across the restart
        assert again["body"]["execution_id"] == answer["body"]["execution_id"]
        assert len(activity(env)["pull_requests"]) == 1


@pytest.mark.slow
def test_sigkill_keeps_what_the_periodic_snapshot_held(tmp_path: Path) -> None:
    env = environment(free_port(), tmp_path / "state")
    with run_local(env, signal.SIGKILL):
        answer = replay(env, "events/workflow_run_network_failure.json")
        assert answer["outcome"]["sandbox"]["reruns"]
        snapshot = tmp_path / "state" / "github-sandbox.pickle"
        written = snapshot.stat().st_mtime if snapshot.exists() else 0.0
        eventually(lambda: snapshot.exists() and snapshot.stat().st_mtime > written, timeout=30)
    with run_local(env, signal.SIGTERM):
        assert activity(env)["reruns"] == [{"repository": "acme-ml/feature-store", "run_id": 9187350412}]
        key = (tmp_path / "state" / "api-key").read_text().strip()
        issues = httpx.get(
            f"http://127.0.0.1:{env['PORT']}/api/v1/issues", headers={"authorization": f"Bearer {key}"}
        ).json()
        assert [i["repository"] for i in issues["issues"]] == ["acme-ml/feature-store"]
        follow_up = replay(env, "--follow-up")  # the re-run, green: the restored incident resolves
        assert follow_up["outcome"]["incident"]["status"] == "resolved"
