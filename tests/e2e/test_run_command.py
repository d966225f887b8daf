"""`mlops-bot run-local` (what `make run` starts) as a newcomer uses it, with no terminal attached."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mlops_bot.local.stack import free_port
from tests.e2e.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "mlops-bot")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_run_local_serves_replay_and_stops_cleanly(stop_signal: signal.Signals, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MLOPS_BOT_BOOTSTRAP_API_KEY": "mlb_run-test",
        "PYTHONUNBUFFERED": "1",
        "MLOPS_BOT_STATE_DIR": str(tmp_path / "state"),
    }
    env.pop("GITHUB_WEBHOOK_SECRET", None)
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
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                return False

        eventually(ready, timeout=60, interval=0.2)
        replay = subprocess.run(
            [CLI, "replay", "events/workflow_run_failure.json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert replay.returncode == 0, replay.stdout + replay.stderr
        answer = json.loads(replay.stdout)
        assert answer["status_code"] == 202
        assert answer["body"]["status"] == "accepted"
        repositories = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/repositories", headers={"authorization": "Bearer mlb_run-test"}
        ).json()
        names = eventually(
            lambda: [
                r["full_name"]
                for r in httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/repositories", headers={"authorization": "Bearer mlb_run-test"}
                ).json()["repositories"]
                if r["last_event"]
            ]
        )
        assert "acme-ml/churn-model" in names, repositories
    finally:
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}" in output
    assert "webhook secret local-webhook-secret" in output
    assert "mlops-bot replay events/workflow_run_failure.json" in output
    assert output.rstrip().endswith("stopped")
    assert port_is_free(port)
    leftover = subprocess.run(["pgrep", "-s", str(process.pid)], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == "", "processes left behind"


def test_replay_reports_an_unreachable_stack() -> None:
    result = subprocess.run(
        [CLI, "replay", "events/push.json", "--url", f"http://127.0.0.1:{free_port()}/webhooks/github"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "could not reach" in result.stderr
