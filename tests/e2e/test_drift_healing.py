"""A scheduled drift check on the local stack: data drifts -> incident -> retrain workflow dispatched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import DynamoRepositoryStore
from mlops_bot.tenancy.service import enroll_repository
from tests.e2e.conftest import eventually
from tests.support.github_standin import GitHubStandIn

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghs_drift-token"


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(tokens=(TOKEN,)) as standin:
        yield standin


def write(path: Path, shift: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "tenure": rng.normal(24 + shift, 6, 5000),
            "monthly_fee": rng.gamma(2, 20 + shift, 5000),
            "plan": rng.choice(["basic", "pro", "team"], 5000, p=[0.5, 0.3, 0.2]),
        }
    )
    pq.write_table(table, path)
    return str(path)


def test_scheduled_drift_check_dispatches_the_retrain_workflow(github: GitHubStandIn, tmp_path: Path) -> None:
    github.add_repo("acme/churn", files={"requirements.txt": "numpy\n"})
    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        github_api_url=github.url,
        github_token=TOKEN,
        dry_run=False,
    )
    with LocalStack(config) as stack:
        table = StateTable(stack.table_name())
        enroll_repository(DynamoRepositoryStore(table), "default", "acme/churn", source="test")
        drift = {
            "reference": write(tmp_path / "ref.parquet", 0, 1),
            "current": write(tmp_path / "cur.parquet", 9, 2),
            "retrain_workflow": "retrain.yml",
        }
        table.set_fields(
            keys.repository_key("default", "acme/churn"), {"configuration": {"auto_fix_enabled": True, "drift": drift}}
        )
        assert stack.functions.invoke("SchedulerFunction", {"source": "aws.scheduler"})["queued"] == 1
        incidents = eventually(
            lambda: [
                i for i in table.query(keys.incidents_index("default"), by_index=True) if i["type"] == "data_drift"
            ]
        )
        assert "drift score" in incidents[0]["description"]
        [dispatch] = eventually(lambda: github.calls_to("POST", r"/actions/workflows/retrain.yml/dispatches$"))
        assert float(dispatch.json["inputs"]["drift_share"]) > 0.5
