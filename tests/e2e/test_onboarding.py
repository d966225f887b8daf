"""Onboarding as the template deploys it (auto-enrolment off): a fresh tenant to a healed failure.

An operator creates a tenant; its admin logs in, asks for a setup state with the SDK and installs
the App (GitHub's `installation` event, then its redirect to the setup URL); the failed run of one of
the installation's repositories is then healed on the stand-in GitHub: one fix PR, and the green run
on the fix branch resolves the incident, all in the new tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.storage import keys
from mlops_bot_sdk import MLOpsBotClient
from tests.e2e.conftest import eventually
from tests.support.github_standin import GitHubStandIn
from tests.support.pypi_standin import PyPIStandIn
from tests.support.webhooks import post_webhook, workflow_run

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
TOKEN = "ghs_e2e-onboarding-token"
OPERATOR_KEY = "mlb_e2e-onboarding-operator"
REQUIREMENTS = "numpy==1.26.4\n"
INSTALLATION = 8800
REPO = "northwind/forecaster"


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


@pytest.fixture(scope="module")
def stack(github: GitHubStandIn) -> Iterator[LocalStack]:
    with PyPIStandIn() as pypi:
        pypi.add_project("scikit-learn", {"1.6.1": ">=3.9"})
        config = StackConfig(
            extra_environment={"MLOPS_BOT_PYPI_URL": pypi.url},
            template_path=ROOT / "template.yaml",
            port=free_port(),
            webhook_secret="onboarding-secret",
            bootstrap_api_key=OPERATOR_KEY,
            auto_enroll=False,
            github_api_url=github.url,
            github_token=TOKEN,
            dry_run=False,
            visibility_timeout=1,
        )
        with LocalStack(config) as running:
            yield running


def installation_created(repositories: list[str]) -> dict[str, Any]:
    return {
        "action": "created",
        "installation": {"id": INSTALLATION, "account": {"login": "northwind", "type": "Organization"}},
        "repositories": [{"id": i, "full_name": r} for i, r in enumerate(repositories, start=1)],
        "sender": {"login": "ada"},
    }


def tenant_admin_token(stack: LocalStack) -> tuple[str, str]:
    """An operator creates the tenant; its first admin logs in. Returns (tenant id, access token)."""
    created = httpx.post(
        f"{stack.url}/api/tenants",
        headers={"authorization": f"Bearer {OPERATOR_KEY}"},
        json={"name": "Northwind", "admin_email": "ada@northwind.example"},
    )
    assert created.status_code == 201, created.text
    tenant = created.json()
    login = httpx.post(
        f"{stack.url}/auth/login",
        json={
            "username": tenant["admin_user"]["username"],
            "password": tenant["admin_user"]["initial_password"],
            "tenant_id": tenant["id"],
        },
    )
    assert login.status_code == 200, login.text
    return str(tenant["id"]), str(login.json()["access_token"])


def test_a_fresh_tenant_claims_its_installation_and_gets_a_failure_healed(
    stack: LocalStack, github: GitHubStandIn
) -> None:
    github.add_repo(REPO, installation_id=INSTALLATION, files={"requirements.txt": REQUIREMENTS})
    github.set_run(REPO, 4401)
    github.set_run_logs(REPO, 4401, {"0_test.txt": (LOGS / "py_missing_module_sklearn.log").read_text()})

    # GitHub announces the installation before anyone claimed it: recorded, and its runs wait.
    assert post_webhook(stack, installation_created([REPO]), event="installation").status_code == 202
    early = post_webhook(stack, workflow_run(4401, REPO, installation_id=INSTALLATION))
    assert early.status_code == 202 and early.json()["status"] == "ignored"
    assert "not claimed" in early.json()["message"]

    tenant_id, token = tenant_admin_token(stack)
    with MLOpsBotClient(stack.url, token) as client:
        state = client.installations.claim_state().state
        # GitHub redirects the browser to the App's setup URL with the installation and the state.
        redirect = httpx.get(
            f"{stack.url}/api/v1/installations/setup",
            params={"installation_id": INSTALLATION, "setup_action": "install", "state": state},
        )
        assert redirect.status_code == 200, redirect.text
        assert redirect.json()["enrolled"] == [REPO]
        [installation] = client.installations.list()
        assert (installation.id, installation.status, installation.tenant_id) == (INSTALLATION, "active", tenant_id)
        assert installation.model_extra and installation.model_extra["ignored_events"] == 1  # the run before the claim
        assert [r.full_name for r in client.repositories.list()] == [REPO]

    accepted = post_webhook(stack, workflow_run(4401, REPO, installation_id=INSTALLATION))
    assert accepted.status_code == 202 and accepted.json()["status"] == "accepted"
    table = StateTable(stack.table_name())
    incident_key = keys.incident_key(tenant_id, keys.incident_id_for_run(REPO, 4401))

    def status_is(*statuses: str) -> dict[str, Any] | None:
        found = table.get(incident_key)
        return found if found and found.get("status") in statuses else None

    verifying = eventually(lambda: status_is("verifying"), timeout=60)
    branch = f"mlops-bot/{verifying['id']}"
    [pull] = github.calls_to("POST", rf"^/repos/{REPO}/pulls$")
    assert pull.json["head"] == branch
    assert "scikit-learn" in (github.file_text(REPO, "requirements.txt", ref=branch) or "")

    github.set_run(REPO, 4402, conclusion="success", head_branch=branch)
    green = post_webhook(stack, workflow_run(4402, REPO, "success", branch=branch, installation_id=INSTALLATION))
    assert green.status_code == 202
    resolved = eventually(lambda: status_is("resolved"), timeout=60)
    assert resolved["timeline"][-1]["event"] == "issue_resolved"
    assert table.get(keys.incident_key("default", keys.incident_id_for_run(REPO, 4401))) is None
