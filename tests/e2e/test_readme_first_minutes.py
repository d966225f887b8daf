"""The README's first five minutes, run as written: `make run`, replay, follow-up, the sandbox.

The commands come from the README itself (the section "The first five minutes"): if the README
changes them, this test runs the new ones, and fails on a command it has no expectation for.
The only change made to them is the port (a free one instead of 8080) and the state directory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.local.stack import free_port
from tests.e2e.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def first_bash_block(text: str) -> list[str]:
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block, "no bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


@dataclass
class Running:
    port: int
    env: dict[str, str]
    state_dir: Path

    def sh(self, command: str) -> subprocess.CompletedProcess[str]:
        command = command.replace("localhost:8080", f"localhost:{self.port}")
        return subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=180, check=False
        )


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    assert "make run" in first_bash_block(section("Two commands"))[0]
    port = free_port()
    state_dir = tmp_path_factory.mktemp("readme") / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLOPS_BOT_", "AWS_"))}
    env.update(PORT=str(port), MLOPS_BOT_STATE_DIR=str(state_dir), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            return False

    try:
        eventually(ready, timeout=120, interval=0.3)
        yield Running(port, env, state_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        eventually(lambda: port_is_free(port), timeout=30)
    assert "GitHub sandbox".upper() in output.upper(), output
    assert "/sandbox" in output


def documents(stdout: str) -> list[dict[str, Any]]:
    """Every JSON document replay printed (one indented, or one per line), skipping the report."""
    decoder, found, index = json.JSONDecoder(), [], 0
    while (start := stdout.find("{", index)) != -1:
        document, index = decoder.raw_decode(stdout, start)
        found.append(document)
    return found


def replay_document(stdout: str) -> dict[str, Any]:
    [document] = documents(stdout)
    return document


def check_replay_of_the_failed_run(result: subprocess.CompletedProcess[str]) -> None:
    answer = replay_document(result.stdout)
    assert answer["status_code"] == 202 and answer["body"]["status"] == "accepted"
    outcome = answer["outcome"]
    assert outcome["logs_read"] is True
    incident = outcome["incident"]
    assert incident["status"] == "verifying"
    diagnosis = incident["diagnosis"]
    assert (diagnosis["category"], diagnosis["kind"]) == ("dependency_missing", "missing-python-module")
    assert diagnosis["details"]["module"] == "sklearn" and diagnosis["details"]["package"] == "scikit-learn"
    assert any("No module named 'sklearn'" in e["text"] for e in diagnosis["evidence"])
    [pull] = outcome["sandbox"]["pull_requests"]
    assert pull["head"] == f"mlops-bot/{incident['id']}" and pull["base"] == "main"
    assert "+scikit-learn" in pull["diff"] and "requirements.txt" in pull["diff"]


def check_follow_up(result: subprocess.CompletedProcess[str]) -> None:
    answer = replay_document(result.stdout)
    assert answer["status_code"] == 202
    assert answer["outcome"]["incident"]["status"] == "resolved"


def check_activity(result: subprocess.CompletedProcess[str]) -> None:
    activity = json.loads(result.stdout)
    [pull] = activity["pull_requests"]
    assert pull["repository"] == "acme-ml/churn-model" and "+scikit-learn" in pull["diff"]


EXPECTATIONS: dict[str, Callable[[subprocess.CompletedProcess[str]], None]] = {
    ".venv/bin/mlops-bot replay events/workflow_run_failure.json": check_replay_of_the_failed_run,
    ".venv/bin/mlops-bot replay --follow-up": check_follow_up,
    "curl -s localhost:8080/sandbox/api/activity": check_activity,
}


@pytest.mark.slow
def test_the_first_five_minutes_as_written(make_run: Running) -> None:
    commands = first_bash_block(section("The first five minutes"))
    assert commands, "the README lost its first five minutes"
    for command in commands:
        assert command in EXPECTATIONS, f"README command without an expectation here: {command}"
        result = make_run.sh(command)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        EXPECTATIONS[command](result)
    page = httpx.get(f"http://127.0.0.1:{make_run.port}/sandbox")
    assert page.status_code == 200 and "+scikit-learn" in page.text
    dashboard = httpx.get(f"http://127.0.0.1:{make_run.port}/dashboard")
    assert 'href="/sandbox"' in dashboard.text


def sample_rows() -> list[tuple[list[str], str]]:
    """(sample files, what the bot does) from the README's table of samples."""
    rows = []
    for line in section("The first five minutes").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`events/"):
            rows.append((shlex.split(cells[0].strip("`")), cells[2]))
    return rows


def outcome_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    outcome: dict[str, Any] = documents(result.stdout)[-1]["outcome"]
    return outcome


@pytest.mark.slow
def test_every_sample_in_the_readme_shows_its_playbook(make_run: Running) -> None:
    rows = sample_rows()
    assert len(rows) == 5
    seen: dict[str, dict[str, Any]] = {}
    for files, _what in rows[1:]:  # the first is the five minutes' own sample
        result = make_run.sh(".venv/bin/mlops-bot replay " + " ".join(files))
        assert result.returncode == 0, result.stdout + result.stderr
        seen[files[-1]] = outcome_of(result)
    network = seen["events/workflow_run_network_failure.json"]
    assert network["incident"]["diagnosis"]["category"] == "network_transient"
    assert network["sandbox"]["reruns"] == [{"repository": "acme-ml/feature-store", "run_id": 9187350412}]
    flaky = seen["events/workflow_run_flaky_test.json"]
    assert flaky["incident"]["diagnosis"]["category"] == "flaky_test"
    assert flaky["sandbox"]["reruns"] == [{"repository": "acme-ml/fraud-detector", "run_id": 9187351733}]
    drift = seen["events/drift_report.json"]
    [dispatch] = drift["sandbox"]["dispatches"]
    assert dispatch["workflow_id"] == "retrain.yml" and dispatch["inputs"]["drift_share"] == "0.7500"
    rollback = seen["events/deployment_status_failure.json"]
    [deployment] = rollback["sandbox"]["deployments"]
    assert deployment["environment"] == "production" and "rollback" in deployment["description"]
    follow_up = make_run.sh(".venv/bin/mlops-bot replay --follow-up")
    assert follow_up.returncode == 0, follow_up.stdout + follow_up.stderr
    answers = documents(follow_up.stdout)
    assert [answer["status_code"] for answer in answers] == [202, 202, 202]  # two green re-runs, one deployment
    statuses = {
        answer["outcome"]["incident"]["repository"]: answer["outcome"]["incident"]["status"]
        for answer in answers
        if "outcome" in answer
    }
    assert statuses == {"acme-ml/feature-store": "resolved", "acme-ml/fraud-detector": "resolved"}
    [deployed] = [d for d in activity_of(make_run)["deployments"] if d["repository"] == "acme-ml/recommender-api"]
    assert deployed["state"] == "success"


def activity_of(running: Running) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"http://127.0.0.1:{running.port}/sandbox/api/activity").json()
    return document
