"""Every code sample in README.md, docs/*.md and the SDKs' READMEs runs as written, against a running local stack.

The fenced blocks are read when the tests are collected (whatever the documents hold then), one
test per block. Runnable languages: `python` (the venv's interpreter, with both SDKs installed),
`bash`/`sh`/`shell`, `console` (the `$ ` lines) and `javascript`/`js` (node, as an ES module
beside the built `@mlops-bot/sdk`, so `import ... from '@mlops-bot/sdk'` resolves). Other
languages (json, yaml, mermaid, text...) are data, not samples.

A block that cannot run here says so, with its reason, in an HTML comment on the line before its
fence: `<!-- not-run: deploys to a real AWS account -->`. A marker without a reason fails.

The samples talk to the local stack as `make run` starts it: `http://127.0.0.1:8080` (or
`localhost:8080`), admin key `mlb_dev` (`MLOPS_BOT_BOOTSTRAP_API_KEY=mlb_dev make run`), the
default webhook secret. The runner's stack listens on a free port instead, so the one rewrite it
makes is that address to its own; it also sets what the documents tell a user to set: `PORT`,
`MLOPS_BOT_TABLE_NAME` and `AWS_ENDPOINT_URL` (the CLI against the local stack), `.venv/bin` on
`PATH`. Before the samples run, the stack has received `events/workflow_run_failure.json` (the
README's first command), so samples may list its incident. Shell samples run with `set -e` and
with `curl` failing on HTTP errors (`--fail-with-body`), so a sample answering 401 fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mlops_bot.local.stack import LocalStack, StackConfig, free_port
from tests.e2e.conftest import ROOT, eventually
from tests.support.node import build_js_sdk, require

SAMPLE_KEY = "mlb_dev"
DOCUMENTED_ADDRESSES = re.compile(r"(?:127\.0\.0\.1|localhost):8080")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
LANGUAGES = {
    "python": "python",
    "py": "python",
    "bash": "shell",
    "sh": "shell",
    "shell": "shell",
    "console": "console",
    "javascript": "javascript",
    "js": "javascript",
}


@dataclass(frozen=True)
class Sample:
    document: str
    line: int
    language: str
    code: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}:{self.language}"


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "sdk").glob("*/README.md"))]


def extract(path: Path) -> Iterator[Sample]:
    """Fenced blocks of a Markdown file (indented fences in list items too), with their marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].strip().split() or [""])[0].lower()
        end = index + 1
        while end < len(lines) and not (lines[end].strip().startswith(fence) and set(lines[end].strip()) == {fence[0]}):
            end += 1
        body = [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end]]
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = NOT_RUN.match(previous)
        if language in LANGUAGES:
            yield Sample(
                document=str(path.relative_to(ROOT)),
                line=index + 1,
                language=LANGUAGES[language],
                code="\n".join(body) + "\n",
                not_run=marker["reason"].strip() if marker else None,
            )
        index = end + 1


SAMPLES = [sample for path in documents() for sample in extract(path)]


@pytest.fixture(scope="module")
def sample_stack() -> Iterator[LocalStack]:
    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        bootstrap_api_key=SAMPLE_KEY,
        visibility_timeout=1,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture(scope="module")
def sample_env(sample_stack: LocalStack) -> dict[str, str]:
    env = {
        **os.environ,
        "PORT": str(sample_stack.config.port),
        "MLOPS_BOT_TABLE_NAME": sample_stack.table_name(),
        "AWS_ENDPOINT_URL": sample_stack.moto_url,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    replayed = subprocess.run(
        [str(Path(sys.executable).parent / "mlops-bot"), "replay", "events/workflow_run_failure.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert replayed.returncode == 0, replayed.stderr
    eventually(
        lambda: httpx.get(
            f"{sample_stack.url}/api/v1/issues", headers={"authorization": f"Bearer {SAMPLE_KEY}"}
        ).json()["issues"]
    )
    return env


def runnable(sample: Sample, port: int) -> str:
    code = DOCUMENTED_ADDRESSES.sub(f"127.0.0.1:{port}", sample.code)
    if sample.language == "console":
        code = "\n".join(line[2:] for line in code.splitlines() if line.startswith("$ ")) + "\n"
    if sample.language in {"shell", "console"}:
        code = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n' + code
    return code


def test_the_documents_have_samples_and_markers_give_reasons() -> None:
    assert {s.language for s in SAMPLES} >= {"python", "shell", "javascript"}
    for path in documents():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip().startswith("<!--") and "not-run" in line:
                match = NOT_RUN.match(line)
                assert match and match["reason"].strip(), (
                    f"{path.name}:{number}: `<!-- not-run: reason -->` needs a reason"
                )


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_the_sample_runs(sample: Sample, sample_stack: LocalStack, sample_env: dict[str, str], tmp_path: Path) -> None:
    if sample.not_run is not None:
        pytest.skip(f"marked not-run: {sample.not_run}")
    code = runnable(sample, sample_stack.config.port)
    if sample.language == "python":
        script = tmp_path / "sample.py"
        script.write_text(code)
        command, cwd = [sys.executable, str(script)], ROOT
    elif sample.language == "javascript":
        package = build_js_sdk()
        (package / ".samples").mkdir(exist_ok=True)
        script = package / ".samples" / f"{sample.id.replace('/', '_').replace(':', '_')}.mjs"
        script.write_text(code)
        command, cwd = [require("node"), str(script)], ROOT
    else:
        script = tmp_path / "sample.sh"
        script.write_text(code)
        command, cwd = ["bash", str(script)], ROOT

    ran = subprocess.run(command, cwd=cwd, env=sample_env, capture_output=True, text=True, timeout=120)

    assert ran.returncode == 0, (
        f"{sample.id} failed ({ran.returncode}).\n--- sample\n{code}\n--- stdout\n{ran.stdout[-3000:]}\n"
        f"--- stderr\n{ran.stderr[-3000:]}"
    )
