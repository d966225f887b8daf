"""A full run's logs (every function, the local stack, moto) never contain a secret."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import httpx
import pytest

from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.webhooks.signature import sign
from tests.e2e.conftest import eventually
from tests.support.github_standin import GitHubStandIn
from tests.support.logs import service_logs

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec-4f9b1c2e-never-log-me"
GITHUB_TOKEN = "ghs_7Zq1neverLogThisToken0000"
API_KEY = "mlb_never-log-this-api-key-1234567890"


def test_no_secret_reaches_the_logs(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the deployed level (POWERTOOLS_LOG_LEVEL=INFO)
    with GitHubStandIn(tokens=(GITHUB_TOKEN,)) as github:
        github.add_repo("acme/secretive", files={"requirements.txt": "numpy\n"})
        github.set_run("acme/secretive", 31)
        github.set_run_logs(
            "acme/secretive", 31, {"0_test.txt": (ROOT / "tests/data/logs/pip_index_unreachable.log").read_text()}
        )
        config = StackConfig(
            template_path=ROOT / "template.yaml",
            port=free_port(),
            webhook_secret=WEBHOOK_SECRET,
            bootstrap_api_key=API_KEY,
            github_api_url=github.url,
            github_token=GITHUB_TOKEN,
            dry_run=False,
        )
        with LocalStack(config) as stack, service_logs() as logs:
            payload = {
                "action": "completed",
                "repository": {"full_name": "acme/secretive"},
                "workflow_run": {"id": 31, "name": "CI", "conclusion": "failure", "head_branch": "main"},
            }
            body = json.dumps(payload).encode()
            headers = {
                "x-github-event": "workflow_run",
                "x-github-delivery": str(uuid.uuid4()),
                "content-type": "application/json",
                "x-hub-signature-256": sign(WEBHOOK_SECRET, body),
            }
            assert httpx.post(stack.webhook_url, content=body, headers=headers).status_code == 202
            bad = {**headers, "x-hub-signature-256": sign("wrong", body), "x-github-delivery": str(uuid.uuid4())}
            assert httpx.post(stack.webhook_url, content=body, headers=bad).status_code == 401
            auth = {"authorization": f"Bearer {API_KEY}"}
            assert httpx.get(f"{stack.url}/api/v1/issues", headers=auth).status_code == 200
            assert (
                httpx.get(f"{stack.url}/api/v1/issues", headers={"authorization": "Bearer mlb_wrong"}).status_code
                == 401
            )
            eventually(lambda: github.calls_to("POST", r"/rerun-failed-jobs$"), timeout=60)
    out, err = capfd.readouterr()
    everything = out + err + logs.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook answered" in everything  # the logs were captured at all
    for secret in (WEBHOOK_SECRET, GITHUB_TOKEN, API_KEY):
        assert secret not in everything
