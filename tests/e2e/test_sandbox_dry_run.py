"""Dry run keeps its meaning on top of the GitHub sandbox: logs are read and diagnosed, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from mlops_bot.local.stack import LocalStack, StackConfig, free_port

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "mlops-bot")


def test_a_dry_run_on_the_sandbox_diagnoses_and_plans_without_writing(tmp_path: Path) -> None:
    config = StackConfig(
        template_path=ROOT / "template.yaml", port=free_port(), sandbox=True, dry_run=True, visibility_timeout=1
    )
    with LocalStack(config) as stack:
        assert stack.sandbox is not None
        replay = subprocess.run(
            [CLI, "replay", "events/workflow_run_failure.json", "--url", stack.webhook_url, "--wait", "60"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"PATH": "/usr/bin:/bin", "MLOPS_BOT_STATE_DIR": str(tmp_path)},
        )
        assert replay.returncode == 0, replay.stdout + replay.stderr
        outcome = json.loads(replay.stdout)["outcome"]
        assert outcome["logs_read"] is True
        assert outcome["incident"]["diagnosis"]["category"] == "dependency_missing"
        assert outcome["incident"]["status"] == "planned"
        [action] = outcome["incident"]["actions_taken"]
        assert action["action"] == "open_fix_pr" and action["status"] == "planned"
        assert stack.sandbox.writes() == []
        assert outcome["sandbox"]["pull_requests"] == []


def test_without_the_sandbox_there_is_no_sandbox_page() -> None:
    config = StackConfig(template_path=ROOT / "template.yaml", port=free_port())
    with LocalStack(config) as stack:
        assert stack.sandbox is None
        assert httpx.get(f"{stack.url}/sandbox").status_code == 404
        assert httpx.post(f"{stack.url}/sandbox/api/follow-up").status_code in (404, 405)
