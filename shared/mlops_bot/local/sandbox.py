"""The embedded GitHub sandbox: the stand-in GitHub, seeded with demo repositories, for `make run`.

When no GitHub credentials are set, the local stack serves this on loopback and points
`GITHUB_API_URL` at it, the way moto gives the stack an embedded AWS. Each demo repository holds real
files (requirements, pyproject, workflows, tests) and a real run-logs zip (`N_job.txt` plus
`job/N_step.txt`, every line ISO-timestamped as GitHub writes them) for one playbook:

- `acme-ml/churn-model`: a missing dependency (`sklearn`) -> a fix pull request;
- `acme-ml/feature-store`: a transient network failure while installing -> a re-run;
- `acme-ml/fraud-detector`: a flaky test -> a re-run, the flaky test tracked;
- `acme-ml/demand-forecast`: a data drift report -> the retrain workflow dispatched;
- `acme-ml/recommender-api`: a failed deployment -> a rollback deployment.

The sandbox also plays GitHub Actions for what the bot starts: `finish_pending_runs` completes the
re-runs the bot asked for and runs CI on the head of every `mlops-bot/*` branch (green), returning the
`workflow_run` payloads GitHub would deliver — what `mlops-bot replay --follow-up` sends.
"""

from __future__ import annotations

import difflib
import hashlib
import pickle
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlops_bot.local.github_sandbox import BOT_LOGIN, GitHubStandIn, _Commit, _Repo, make_zip
from mlops_bot.local.state import write_atomically
from mlops_bot.messages import BOT_BRANCH_PREFIX

OWNER = "acme-ml"
INSTALLATION_ID = 48211007
SENDER = {"login": "dana-ml", "id": 5123, "type": "User"}
LOG_EPOCH = datetime(2026, 11, 25, 9, 12, 3, tzinfo=UTC)
CI_WORKFLOW_ID = 61234987
CI_PATH = ".github/workflows/ci.yml"
SNAPSHOT_VERSION = 1

CI_WORKFLOW = """name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - name: Install dependencies
        run: pip install -r requirements.txt
      - name: Run tests
        run: pytest -q
"""

RETRAIN_WORKFLOW = """name: Retrain
on:
  workflow_dispatch:
    inputs:
      drift_share: {description: "share of drifted columns", required: false}
      drifted_columns: {description: "columns that drifted", required: false}
      current: {description: "dataset that drifted", required: false}
jobs:
  retrain:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt && python -m forecast.train --data "${{ inputs.current }}"
"""


def _pyproject(name: str, package: str) -> str:
    return f"""[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.3.0"
requires-python = ">=3.11"
dynamic = ["dependencies"]

[tool.setuptools.dynamic]
dependencies = {{file = ["requirements.txt"]}}

[tool.setuptools.packages.find]
where = ["src"]
include = ["{package}*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["src"]
"""


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo job: its name and the lines it printed (timestamps are added)."""

    name: str
    lines: tuple[str, ...] = ()
    failed: bool = False


@dataclass(frozen=True)
class DemoRepository:
    """A demo repository and the failure it shows; `run_id` is None when the signal is not a run."""

    full_name: str
    playbook: str
    problem: str
    files: dict[str, str]
    run_id: int | None = None
    steps: tuple[DemoStep, ...] = ()
    deployments: tuple[tuple[int, str, str], ...] = ()  # (id, ref, final state)
    extra: dict[str, Any] = field(default_factory=dict)


def _setup_steps() -> tuple[DemoStep, ...]:
    return (
        DemoStep(
            "Set up job",
            (
                "Current runner version: '2.320.0'",
                "Operating System",
                "Ubuntu 24.04.1 LTS",
                "Runner Image: ubuntu-24.04 Version: 20261117.1.0",
                "Complete job name: test",
            ),
        ),
        DemoStep(
            "Run actions/checkout@v4",
            ("Syncing repository: {repo}", "Checking out the ref", "HEAD is now at 3f1c2a9 Latest change"),
        ),
        DemoStep("Run actions/setup-python@v5", ("Successfully set up CPython (3.11.10)",)),
    )


def _pytest_session(results: tuple[tuple[str, str], ...], failing: str) -> list[str]:
    lines = [
        "============================= test session starts ==============================",
        "platform linux -- Python 3.11.10, pytest-8.3.3, pluggy-1.5.0",
        "collecting ... collected 3 items",
        "",
    ]
    for number, (test, result) in enumerate(results, start=1):
        lines.append(f"tests/test_score.py::{test} {result:<40} [{100 * number // len(results):>3}%]")
    lines += [
        "",
        "=================================== FAILURES ===================================",
        f"_________________________ {failing} __________________________",
        "        started = time.perf_counter()",
        "        score(250.0)",
        ">       assert time.perf_counter() - started < 0.001  # depends on the runner's load",
        "E       assert 0.0023 < 0.001",
        "tests/test_score.py:9: AssertionError",
        "=========================== short test summary info ============================",
        f"FAILED tests/test_score.py::{failing} - assert 0.0023 < 0.001",
        "========================= 1 failed, 2 passed in 0.12s ==========================",
    ]
    return lines


def _flaky_session_lines() -> tuple[str, ...]:
    """The same suite twice on one commit: a latency test fails, passes, and its twin fails."""
    first = _pytest_session(
        (
            ("test_scoring_latency_budget", "FAILED"),
            ("test_batch_latency_budget", "PASSED"),
            ("test_large_amounts_score_high", "PASSED"),
        ),
        "test_scoring_latency_budget",
    )
    second = _pytest_session(
        (
            ("test_scoring_latency_budget", "PASSED"),
            ("test_batch_latency_budget", "FAILED"),
            ("test_large_amounts_score_high", "PASSED"),
        ),
        "test_batch_latency_budget",
    )
    header = ["##[group]Run for attempt in 1 2; do pytest -v && break; done", "##[endgroup]"]
    return (*header, *first, *second, "##[error]Process completed with exit code 1.")


def _pip_ok(*packages: str) -> DemoStep:
    lines = ["##[group]Run pip install -r requirements.txt", "##[endgroup]"]
    lines += [f"Collecting {p}" for p in packages]
    lines.append("Successfully installed " + " ".join(packages))
    return DemoStep("Install dependencies", tuple(lines))


DEMO_REPOSITORIES: tuple[DemoRepository, ...] = (
    DemoRepository(
        full_name=f"{OWNER}/churn-model",
        playbook="pipeline_failure_fix",
        problem="a missing dependency: the code imports scikit-learn, requirements.txt lacks it",
        run_id=9187349201,
        files={
            "README.md": "# churn-model\n\nPredicts customer churn from account activity.\n",
            "requirements.txt": "# runtime\nnumpy==1.26.4\npandas==2.2.2\npytest==8.3.3\n",
            "pyproject.toml": _pyproject("churn-model", "churn"),
            CI_PATH: CI_WORKFLOW,
            "src/churn/__init__.py": "",
            "src/churn/train.py": (
                "import pandas as pd\n"
                "from sklearn.ensemble import HistGradientBoostingClassifier\n\n\n"
                "def train(frame: pd.DataFrame) -> HistGradientBoostingClassifier:\n"
                "    model = HistGradientBoostingClassifier(max_iter=200)\n"
                '    return model.fit(frame.drop(columns=["churned"]), frame["churned"])\n'
            ),
            "tests/test_train.py": (
                "import pandas as pd\n\nfrom churn.train import train\n\n\n"
                "def test_train_fits_a_model() -> None:\n"
                '    frame = pd.DataFrame({"tenure": [1, 30, 2, 40], "churned": [1, 0, 1, 0]})\n'
                '    assert hasattr(train(frame), "predict")\n'
            ),
        },
        steps=(
            *_setup_steps(),
            _pip_ok("numpy==1.26.4", "pandas==2.2.2", "pytest==8.3.3"),
            DemoStep(
                "Run tests",
                (
                    "##[group]Run pytest -q",
                    "pytest -q",
                    "##[endgroup]",
                    "==================================== ERRORS ====================================",
                    "____________________ ERROR collecting tests/test_train.py _____________________",
                    "ImportError while importing test module '/home/runner/work/churn-model/tests/test_train.py'.",
                    "Hint: make sure your test modules/packages have valid Python names.",
                    "Traceback:",
                    "tests/test_train.py:3: in <module>",
                    "    from churn.train import train",
                    "src/churn/train.py:2: in <module>",
                    "    from sklearn.ensemble import HistGradientBoostingClassifier",
                    "E   ModuleNotFoundError: No module named 'sklearn'",
                    "=========================== short test summary info ============================",
                    "ERROR tests/test_train.py",
                    "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
                    "1 error in 0.41s",
                    "##[error]Process completed with exit code 2.",
                ),
                failed=True,
            ),
        ),
    ),
    DemoRepository(
        full_name=f"{OWNER}/feature-store",
        playbook="pipeline_failure_fix",
        problem="a transient network failure: the package index reset the connection during install",
        run_id=9187350412,
        files={
            "README.md": "# feature-store\n\nFeature pipelines for the ML platform.\n",
            "requirements.txt": "pyarrow==17.0.0\nduckdb==1.1.3\npytest==8.3.3\n",
            "pyproject.toml": _pyproject("feature-store", "features"),
            CI_PATH: CI_WORKFLOW,
            "src/features/__init__.py": "",
            "src/features/build.py": (
                "import duckdb\n\n\ndef build() -> int:\n    return duckdb.sql('select 1').fetchone()[0]\n"
            ),
            "tests/test_build.py": (
                "from features.build import build\n\n\ndef test_build() -> None:\n    assert build() == 1\n"
            ),
        },
        steps=(
            *_setup_steps(),
            DemoStep(
                "Install dependencies",
                (
                    "##[group]Run pip install -r requirements.txt",
                    "pip install -r requirements.txt",
                    "##[endgroup]",
                    "Collecting pyarrow==17.0.0 (from -r requirements.txt (line 1))",
                    "  Downloading pyarrow-17.0.0-cp311-cp311-manylinux_2_28_x86_64.whl.metadata (3.3 kB)",
                    "Collecting duckdb==1.1.3 (from -r requirements.txt (line 2))",
                    "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
                    "connection broken by 'ProtocolError('Connection aborted.', ConnectionResetError(104, "
                    "'Connection reset by peer'))': /simple/duckdb/",
                    "ERROR: Could not install packages due to an OSError: "
                    "HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Max retries exceeded with url: "
                    "/packages/duckdb-1.1.3-cp311-cp311-manylinux_2_17_x86_64.whl (Caused by "
                    "ProtocolError('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer')))",
                    "##[error]Process completed with exit code 1.",
                ),
                failed=True,
            ),
        ),
    ),
    DemoRepository(
        full_name=f"{OWNER}/fraud-detector",
        playbook="flaky_test_response",
        problem="a flaky test: it failed, passed on a retry, failed again",
        run_id=9187351733,
        files={
            "README.md": "# fraud-detector\n\nScores card transactions in real time.\n",
            "requirements.txt": "numpy==1.26.4\npytest==8.3.3\npytest-rerunfailures==14.0\n",
            "pyproject.toml": _pyproject("fraud-detector", "fraud"),
            CI_PATH: CI_WORKFLOW.replace("run: pytest -q", "run: for attempt in 1 2; do pytest -v && break; done"),
            "src/fraud/__init__.py": "",
            "src/fraud/score.py": (
                "import time\n\n\ndef score(amount: float) -> float:\n    return min(1.0, amount / 10_000)\n"
            ),
            "tests/test_score.py": (
                "import time\n\nfrom fraud.score import score\n\n\n"
                "def test_scoring_latency_budget() -> None:\n"
                "    started = time.perf_counter()\n    score(250.0)\n"
                "    assert time.perf_counter() - started < 0.001  # depends on the runner's load\n\n\n"
                "def test_batch_latency_budget() -> None:\n"
                "    started = time.perf_counter()\n    [score(a) for a in range(100)]\n"
                "    assert time.perf_counter() - started < 0.001\n\n\n"
                "def test_large_amounts_score_high() -> None:\n    assert score(50_000) == 1.0\n"
            ),
        },
        steps=(
            *_setup_steps(),
            _pip_ok("numpy==1.26.4", "pytest==8.3.3", "pytest-timeout==2.3.1"),
            DemoStep("Run tests", _flaky_session_lines(), failed=True),
        ),
    ),
    DemoRepository(
        full_name=f"{OWNER}/demand-forecast",
        playbook="data_drift_response",
        problem="data drift: the current week's features drifted from the training data",
        files={
            "README.md": "# demand-forecast\n\nWeekly demand forecasts per store.\n",
            "requirements.txt": "pandas==2.2.2\nlightgbm==4.5.0\npytest==8.3.3\n",
            "pyproject.toml": _pyproject("demand-forecast", "forecast"),
            CI_PATH: CI_WORKFLOW,
            ".github/workflows/retrain.yml": RETRAIN_WORKFLOW,
            ".github/mlops-bot.yml": (
                "auto_fix_enabled: true\n"
                "drift:\n"
                "  reference: s3://acme-ml-data/demand/reference.parquet\n"
                "  current: s3://acme-ml-data/demand/current.parquet\n"
                "  retrain_workflow: retrain.yml\n"
            ),
            "src/forecast/__init__.py": "",
            "src/forecast/train.py": "def train(path: str) -> None:\n    print(f'training on {path}')\n",
            "tests/test_train.py": "from forecast.train import train\n\n\ndef test_train() -> None:\n    train('x')\n",
        },
    ),
    DemoRepository(
        full_name=f"{OWNER}/recommender-api",
        playbook="deployment_failure_response",
        problem="a failed deployment: v1.5.0 failed its health checks in production",
        files={
            "README.md": "# recommender-api\n\nServes recommendations behind the storefront.\n",
            "requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.6\npytest==8.3.3\n",
            "pyproject.toml": _pyproject("recommender-api", "recommender"),
            CI_PATH: CI_WORKFLOW,
            ".github/workflows/deploy.yml": "name: Deploy\non: [deployment]\njobs:\n  deploy:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: ./deploy.sh ${{ github.event.deployment.ref }}\n",
            "src/recommender/__init__.py": "",
            "src/recommender/app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "tests/test_app.py": "from recommender.app import app\n\n\ndef test_app() -> None:\n    assert app\n",
        },
        deployments=((1841200771, "v1.4.2", "success"), (1841200982, "v1.5.0", "failure")),
    ),
)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}0Z"


def run_logs_zip(job: str, steps: tuple[DemoStep, ...], repository: str, start: datetime = LOG_EPOCH) -> bytes:
    """A run-logs zip in GitHub's layout: `1_<job>.txt` (the whole job) and `<job>/<n>_<step>.txt`."""
    members: dict[str, str] = {}
    whole: list[str] = []
    at = start
    for number, step in enumerate(steps, start=1):
        lines = []
        for line in step.lines:
            at += timedelta(milliseconds=137)
            lines.append(f"{_stamp(at)} {line.replace('{repo}', repository)}")
        members[f"{job}/{number}_{step.name.replace('/', '_')}.txt"] = "\n".join(lines) + "\n"
        whole.extend(lines)
    at += timedelta(milliseconds=50)
    whole.append(f"{_stamp(at)} Cleaning up orphan processes")
    return make_zip({f"1_{job}.txt": "\n".join(whole) + "\n", **members})


def green_steps(repository: str) -> tuple[DemoStep, ...]:
    return (
        *_setup_steps(),
        _pip_ok("-r requirements.txt"),
        DemoStep(
            "Run tests",
            (
                "##[group]Run pytest -q",
                "##[endgroup]",
                "........                                   [100%]",
                "8 passed in 1.02s",
            ),
        ),
    )


def _jobs(steps: tuple[DemoStep, ...], conclusion: str) -> list[dict[str, Any]]:
    failed_seen = False
    rendered = []
    for number, step in enumerate(steps, start=1):
        if failed_seen:
            step_conclusion = "skipped"
        else:
            step_conclusion = "failure" if step.failed and conclusion == "failure" else "success"
        failed_seen = failed_seen or step_conclusion == "failure"
        rendered.append({"name": step.name, "number": number, "status": "completed", "conclusion": step_conclusion})
    return [{"name": "test", "conclusion": conclusion, "steps": rendered}]


class GitHubSandbox(GitHubStandIn):
    """The stand-in with demo repositories, deterministic commit shas and GitHub Actions played back."""

    def __init__(self, token: str) -> None:
        super().__init__(tokens=(token,))
        self.token = token
        self._run_ids = iter(range(9187400000, 9187499999))
        self._finish_lock = threading.Lock()

    # ------------------------------------------------------------ deterministic, git-like commits
    def _commit(self, repo: _Repo, parent: str | None, files: dict[str, bytes], message: str) -> str:
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(f"{parent}\x00{message}\x00".encode())
        for path in sorted(files):
            digest.update(path.encode() + b"\x00" + hashlib.sha1(files[path], usedforsecurity=False).digest())
        sha = digest.hexdigest()
        repo.commits[sha] = _Commit(sha, parent, files, message)
        return sha

    # ------------------------------------------------------------ seeding
    def seed(self) -> GitHubSandbox:
        """Create every demo repository (idempotent: an existing one is left as it is)."""
        for demo in DEMO_REPOSITORIES:
            if demo.full_name in self._repos:
                continue
            self.add_repo(demo.full_name, files=demo.files, private=True, installation_id=INSTALLATION_ID)
            if demo.run_id is not None:
                self.set_run(
                    demo.full_name,
                    demo.run_id,
                    conclusion="failure",
                    workflow_id=CI_WORKFLOW_ID,
                    path=CI_PATH,
                    jobs=_jobs(demo.steps, "failure"),
                )
                self.set_run_logs(demo.full_name, demo.run_id, run_logs_zip("test", demo.steps, demo.full_name))
                with self._lock:  # the demo failure happened at a fixed time, as its logs say
                    self._repos[demo.full_name].runs[demo.run_id].update(
                        created_at=LOG_EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ"), updated_at="2026-11-25T09:15:41Z"
                    )
            repo = self._repos[demo.full_name]
            for deployment_id, ref, state in demo.deployments:
                self._seed_deployment(repo, deployment_id, ref, state)
        return self

    def _seed_deployment(self, repo: _Repo, deployment_id: int, ref: str, state: str) -> None:
        sha = repo.branches[repo.default_branch]
        repo.deployments[deployment_id] = {
            "id": deployment_id,
            "ref": ref,
            "sha": sha,
            "task": "deploy",
            "environment": "production",
            "description": f"Deploy {ref}",
            "payload": {},
            "creator": SENDER,
            "created_at": "2026-11-25T09:30:00Z",
            "updated_at": "2026-11-25T09:34:00Z",
            "url": f"{self.url}/repos/{repo.full_name}/deployments/{deployment_id}",
        }
        repo.deployment_statuses[deployment_id] = [
            {
                "id": deployment_id + 1,
                "state": state,
                "description": "Health checks passed" if state == "success" else "Health checks failed: 5xx rate 23%",
                "environment": "production",
                "creator": SENDER,
                "created_at": "2026-11-25T09:34:00Z",
            }
        ]

    def run(self, full_name: str, run_id: int) -> dict[str, Any]:
        return dict(self._repo(full_name).runs[run_id])

    def deployment(self, full_name: str, deployment_id: int) -> dict[str, Any]:
        return dict(self._repo(full_name).deployments[deployment_id])

    def repository_json(self, full_name: str) -> dict[str, Any]:
        """The repository object of a webhook payload."""
        repo = self._repo(full_name)
        return {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": {"login": repo.owner, "id": 9919, "type": "Organization"},
            "html_url": f"https://github.example/{repo.full_name}",
            "default_branch": repo.default_branch,
        }

    # ------------------------------------------------------------ webhook payloads
    def workflow_run_payload(self, full_name: str, run_id: int, api_url: str | None = None) -> dict[str, Any]:
        run = self.run(full_name, run_id)
        api = api_url or self.url
        return {
            "action": "completed",
            "workflow_run": {
                "id": run["id"],
                "name": run["name"],
                "head_branch": run["head_branch"],
                "head_sha": run["head_sha"],
                "path": run["path"],
                "run_number": run["run_number"],
                "run_attempt": run["run_attempt"],
                "event": run["event"],
                "status": run["status"],
                "conclusion": run["conclusion"],
                "workflow_id": run["workflow_id"],
                "html_url": run["html_url"],
                "logs_url": f"{api}/repos/{full_name}/actions/runs/{run_id}/logs",
                "created_at": run["created_at"],
                "updated_at": run["updated_at"],
                "actor": SENDER,
                "triggering_actor": SENDER,
            },
            "workflow": {"id": run["workflow_id"], "name": run["name"], "path": run["path"], "state": "active"},
            "repository": self.repository_json(full_name),
            "organization": {"login": OWNER, "id": 9919},
            "sender": SENDER,
            "installation": {"id": INSTALLATION_ID},
        }

    def deployment_status_payload(self, full_name: str, deployment_id: int) -> dict[str, Any]:
        deployment = self.deployment(full_name, deployment_id)
        status = self._repo(full_name).deployment_statuses[deployment_id][0]
        return {
            "action": "created",
            "deployment_status": {
                "id": status["id"],
                "state": status["state"],
                "description": status["description"],
                "environment": status["environment"],
                "creator": SENDER,
                "created_at": status["created_at"],
            },
            "deployment": {k: deployment[k] for k in ("id", "ref", "sha", "task", "environment", "description")},
            "repository": self.repository_json(full_name),
            "sender": SENDER,
            "installation": {"id": INSTALLATION_ID},
        }

    # ------------------------------------------------------------ GitHub Actions, played back
    def finish_pending_runs(self) -> list[dict[str, Any]]:
        """Complete queued re-runs and run CI on new `mlops-bot/*` heads, all green; their payloads."""
        payloads: list[dict[str, Any]] = []
        with self._finish_lock:
            for full_name in sorted(self._repos):
                repo = self._repos[full_name]
                with self._lock:
                    queued = [run_id for run_id, run in repo.runs.items() if run["status"] != "completed"]
                    tested = {(run["head_branch"], run["head_sha"]) for run in repo.runs.values()}
                    fresh = [
                        (branch, sha)
                        for branch, sha in sorted(repo.branches.items())
                        if branch.startswith(BOT_BRANCH_PREFIX) and (branch, sha) not in tested
                    ]
                for run_id in queued:
                    self._complete(repo, run_id)
                    payloads.append(self.workflow_run_payload(full_name, run_id))
                for branch, sha in fresh:
                    run_id = next(self._run_ids)
                    self.set_run(
                        full_name,
                        run_id,
                        conclusion="success",
                        head_branch=branch,
                        head_sha=sha,
                        workflow_id=CI_WORKFLOW_ID,
                        path=CI_PATH,
                        jobs=_jobs(green_steps(full_name), "success"),
                    )
                    self.set_run_logs(full_name, run_id, run_logs_zip("test", green_steps(full_name), full_name))
                    payloads.append(self.workflow_run_payload(full_name, run_id))
        return payloads

    def finish_pending_deployments(self) -> list[dict[str, Any]]:
        """Deploy what the bot asked for (its rollbacks), successfully; the `deployment_status` payloads."""
        payloads: list[dict[str, Any]] = []
        with self._finish_lock:
            for full_name in sorted(self._repos):
                repo = self._repos[full_name]
                with self._lock:
                    pending = [
                        deployment_id
                        for deployment_id, deployment in sorted(repo.deployments.items())
                        if deployment["creator"].get("login") == BOT_LOGIN
                        and not repo.deployment_statuses.get(deployment_id)
                    ]
                    for deployment_id in pending:
                        repo.deployment_statuses[deployment_id] = [
                            {
                                "id": next(self._ids),
                                "state": "success",
                                "description": "Deployed by the Deploy workflow; health checks passed",
                                "environment": repo.deployments[deployment_id]["environment"],
                                "creator": SENDER,
                                "created_at": _now_iso(),
                            }
                        ]
                payloads.extend(self.deployment_status_payload(full_name, d) for d in pending)
        return payloads

    def _complete(self, repo: _Repo, run_id: int) -> None:
        with self._lock:
            run = repo.runs[run_id]
            run.update(status="completed", conclusion="success", updated_at=_now_iso())
            for job in repo.jobs.get(run_id, []):
                job.update(status="completed", conclusion="success")
                for step in job.get("steps", []):
                    step.update(status="completed", conclusion="success")
        steps = green_steps(repo.full_name)
        self.set_run_logs(repo.full_name, run_id, run_logs_zip("test", steps, repo.full_name))

    # ------------------------------------------------------------ what the bot did
    def activity(self) -> dict[str, list[dict[str, Any]]]:
        """Every write the bot made on the sandbox, for the sandbox page and `replay`'s outcome."""
        pulls: list[dict[str, Any]] = []
        issues: list[dict[str, Any]] = []
        dispatches: list[dict[str, Any]] = []
        deployments: list[dict[str, Any]] = []
        with self._lock:
            for full_name in sorted(self._repos):
                repo = self._repos[full_name]
                for pull in sorted(repo.pulls.values(), key=lambda p: p["number"]):
                    pulls.append(
                        {
                            "repository": full_name,
                            "number": pull["number"],
                            "title": pull["title"],
                            "body": pull["body"],
                            "state": pull["state"],
                            "head": pull["head_ref"],
                            "base": pull["base"],
                            "html_url": f"https://github.example/{full_name}/pull/{pull['number']}",
                            "diff": self.branch_diff(repo, pull["base"], pull["head_ref"]),
                        }
                    )
                for issue in sorted(repo.issues.values(), key=lambda i: i["number"]):
                    issues.append(
                        {
                            "repository": full_name,
                            "number": issue["number"],
                            "title": issue["title"],
                            "body": issue["body"],
                            "state": issue["state"],
                            "labels": list(issue["labels"]),
                            "comments": [c["body"] for c in repo.comments.get(issue["number"], [])],
                        }
                    )
                dispatches.extend({"repository": full_name, **dispatch} for dispatch in repo.dispatches)
                for deployment in sorted(repo.deployments.values(), key=lambda d: d["id"]):
                    if deployment["creator"].get("login") != BOT_LOGIN:
                        continue
                    statuses = repo.deployment_statuses.get(deployment["id"], [])
                    deployments.append(
                        {
                            "repository": full_name,
                            "id": deployment["id"],
                            "ref": deployment["ref"],
                            "sha": deployment["sha"],
                            "environment": deployment["environment"],
                            "description": deployment["description"],
                            "state": statuses[0]["state"] if statuses else None,
                        }
                    )
            reruns = [{"repository": name, "run_id": run_id} for name, run_id in self.reruns]
        return {
            "pull_requests": pulls,
            "issues": issues,
            "reruns": reruns,
            "dispatches": dispatches,
            "deployments": deployments,
        }

    def branch_diff(self, repo: _Repo, base: str, head: str) -> str:
        """A unified diff of `head` against `base`, as GitHub's `.diff` view of a pull request."""
        if base not in repo.branches or head not in repo.branches:
            return ""
        before = repo.commits[repo.branches[base]].files
        after = repo.commits[repo.branches[head]].files
        chunks: list[str] = []
        for path in sorted(set(before) | set(after)):
            old, new = before.get(path), after.get(path)
            if old == new:
                continue
            old_lines = (old or b"").decode(errors="replace").splitlines(keepends=True)
            new_lines = (new or b"").decode(errors="replace").splitlines(keepends=True)
            header = f"diff --git a/{path} b/{path}\n"
            body = difflib.unified_diff(
                old_lines,
                new_lines,
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
            )
            chunks.append(header + "".join(body))
        return "".join(chunks)

    def logs_downloaded(self, full_name: str, run_id: int) -> bool:
        """True when the bot asked for the run's logs and followed the redirect to the zip."""
        path = f"/repos/{full_name}/actions/runs/{run_id}/logs"
        with self._lock:
            asked = any(c.path == path and c.status == 302 for c in self.calls)
            fetched = any(c.path.startswith("/_blobs/") and c.status == 200 for c in self.calls)
        return asked and fetched

    # ------------------------------------------------------------ surviving a restart
    def save(self, path: Path) -> None:
        """Write the repositories (files, branches, pulls, issues, runs, deployments) to `path`."""
        with self._lock:
            state = {
                "version": SNAPSHOT_VERSION,
                "repos": self._repos,
                "reruns": self.reruns,
                "ids": next(self._ids),
                "run_ids": next(self._run_ids),
            }
            data = pickle.dumps(state)
        write_atomically(path, data)

    def load(self, path: Path) -> bool:
        """Restore what `save` wrote; False (and nothing changed) when there is no usable snapshot."""
        if not path.is_file():
            return False
        try:
            # Our own file, written by `save` into the local state directory.
            state = pickle.loads(path.read_bytes())  # noqa: S301
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return False
        if not isinstance(state, dict) or state.get("version") != SNAPSHOT_VERSION:
            return False
        import itertools

        with self._lock:
            self._repos = state["repos"]
            self.reruns = list(state["reruns"])
            self._ids = itertools.count(int(state["ids"]))
            self._run_ids = iter(range(int(state["run_ids"]), 9187499999))
        return True


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
