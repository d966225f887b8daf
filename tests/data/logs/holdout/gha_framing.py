# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""GitHub Actions framing for the toolchain corpora (shared by ``holdout/`` and ``toolchain/``).

Every tool line in those corpora is real output captured by running the tool here; this module only
adds what GitHub adds around a step (ISO timestamps, ``##[group]Run``, the echoed script in cyan,
``##[error]Process completed with exit code N.``), a long successful set-up step run for real, and
per-case transport quirks (BOM, CRLF). It holds no case and no label.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCRATCH = Path(os.environ.get("DIAG_CORPUS_SCRATCH", "/tmp/diagb"))
TOOLS_VENV = SCRATCH / "venv"
NODE_PROJECT = SCRATCH / "node"  # holds node_modules with jest, vitest and mocha
RUNNER_VERSION = "2.320.0"


@dataclass
class Case:
    """One failing job: files for the workspace, a failing step, and the label."""

    name: str
    family: str
    script: str
    label: dict[str, object]
    files: dict[str, str] = field(default_factory=dict)
    setup: str = "python -m pip list --format=columns"  # a long step that succeeds
    env: dict[str, str] = field(default_factory=dict)
    crlf: bool = False
    bom: bool = True
    tail: list[str] = field(default_factory=list)  # runner or action messages after the tool output
    link_node_modules: bool = False
    timeout: float = 240.0


def workspace_for(case: Case) -> Path:
    workspace = SCRATCH / "runner" / "work" / "mlproj" / "mlproj"
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(workspace)], check=True)
    for relative, content in case.files.items():
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    if case.link_node_modules:
        (workspace / "node_modules").symlink_to(NODE_PROJECT / "node_modules")
    return workspace


def run_script(script: str, workspace: Path, env: dict[str, str], timeout: float) -> tuple[list[str], int, float]:
    temp = SCRATCH / "runner" / "work" / "_temp"
    temp.mkdir(parents=True, exist_ok=True)
    path = temp / "step.sh"
    path.write_text(script + "\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PIP_FIND_LINKS"))}
    full_env.update(
        PATH=f"{TOOLS_VENV / 'bin'}:{NODE_PROJECT / 'node_modules' / '.bin'}:/usr/local/bin:/usr/bin:/bin:/usr/lib/go/bin",
        HOME=str(SCRATCH / "home"),
        CI="true",
        GITHUB_ACTIONS="true",
        PYTHONDONTWRITEBYTECODE="1",
        npm_config_cache=str(SCRATCH / "npm-cache"),
        npm_config_update_notifier="false",
        GOPATH=str(SCRATCH / "gopath"),
        GOCACHE=str(SCRATCH / "gocache"),
    )
    full_env.update(env)
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(path)],
            cwd=workspace,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        out, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as expired:
        out, code = expired.stdout or b"", 124
    return out.decode("utf-8", "replace").splitlines(), code, time.monotonic() - started


class Clock:
    def __init__(self, seed: int) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC) + timedelta(minutes=seed)

    def stamp(self, advance: float) -> str:
        self.now += timedelta(seconds=advance)
        return self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond * 10:07d}Z"


def _step(title: str, script: str, output: list[str], duration: float, code: int) -> list[tuple[float, str]]:
    body = script.splitlines() or [""]
    timed: list[tuple[float, str]] = [(0.01, f"##[group]Run {body[0]}")]
    timed += [(0.0001, f"\x1b[36;1m{line}\x1b[0m") for line in body]
    timed += [
        (0.0001, "shell: /usr/bin/bash -e {0}"),
        (0.0001, "env:"),
        (0.0001, "  pythonLocation: /opt/hostedtoolcache/Python/3.11.9/x64"),
        (0.0001, "##[endgroup]"),
    ]
    spacing = duration / max(1, len(output))
    timed += [(spacing, line) for line in output]
    return timed


def render(case: Case, seed: int) -> bytes:
    """Run the case's set-up and failing steps for real and frame them as a GitHub job log."""
    workspace = workspace_for(case)
    timed: list[tuple[float, str]] = [
        (0.0, f"Current runner version: '{RUNNER_VERSION}'"),
        (0.001, "##[group]Operating System"),
        (0.0001, "Ubuntu"),
        (0.0001, "24.04.1"),
        (0.0001, "LTS"),
        (0.0001, "##[endgroup]"),
        (0.0001, "##[group]Runner Image"),
        (0.0001, "Image: ubuntu-24.04"),
        (0.0001, "Version: 20260223.1.0"),
        (0.0001, "##[endgroup]"),
        (0.0001, "##[group]GITHUB_TOKEN Permissions"),
        (0.0001, "Contents: read"),
        (0.0001, "Metadata: read"),
        (0.0001, "##[endgroup]"),
        (0.0001, "Secret source: Actions"),
        (0.0001, "Prepare workflow directory"),
        (0.0001, "Prepare all required actions"),
        (0.0001, "Getting action download info"),
        (0.0001, "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)"),
        (0.0001, "Download action repository 'actions/setup-python@v5' (SHA:0b93645e9fea7318ecaed2b359559ac225c90a2b)"),
        (0.0001, "Complete job name: build"),
        (0.5, "##[group]Run actions/checkout@v4"),
        (0.0001, "with:"),
        (0.0001, "  repository: acme/mlproj"),
        (0.0001, "##[endgroup]"),
        (0.0001, "Syncing repository: acme/mlproj"),
        (0.0001, "##[group]Getting Git version info"),
        (0.0001, "Working directory is '/home/runner/work/mlproj/mlproj'"),
        (0.0001, "[command]/usr/bin/git version"),
        (0.0001, "git version 2.48.1"),
        (0.0001, "##[endgroup]"),
        (0.0001, "[command]/usr/bin/git log -1 --format=%H"),
        (0.0001, "9f1c2a7e0b5d4c3a8e6f1b2d3c4a5e6f7a8b9c0d"),
    ]
    output, code, duration = run_script(case.setup, workspace, case.env, case.timeout)
    if code != 0:
        raise RuntimeError(f"{case.name}: set-up step failed:\n" + "\n".join(output[-20:]))
    timed += _step("Set up", case.setup, output, duration, 0)
    output, code, duration = run_script(case.script, workspace, case.env, case.timeout)
    if code == 0 and not case.tail:
        raise RuntimeError(f"{case.name}: the failing step passed:\n" + "\n".join(output[-20:]))
    timed += _step("Test", case.script, output, duration, code)
    timed += [(0.01, line) for line in case.tail]
    timed.append((0.001, f"##[error]Process completed with exit code {code or 1}."))
    timed += [(0.3, "Post job cleanup."), (0.01, "Cleaning up orphan processes")]
    clock = Clock(seed)
    lines = [f"{clock.stamp(advance)} {text}" for advance, text in timed]
    newline = "\r\n" if case.crlf else "\n"
    text = newline.join(lines) + newline
    return (("\ufeff" if case.bom else "") + text).encode("utf-8")


NO_PR = False  # the label's default: no fix PR is an acceptable answer for this log


def label(category: str, kind: str, evidence: list[str], fix_pr_ok: bool = NO_PR, **details: Any) -> dict[str, Any]:
    """`evidence`: substrings of the line(s) stating the cause; a diagnosis hits if one of its lines has one."""
    return {"category": category, "kind": kind, "evidence": evidence, "fix_pr_ok": fix_pr_ok, "details": details}


def notebook(cells: list[str]) -> str:
    """A notebook file of code cells, as a test step executes it."""
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"c{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": src,
                }
                for i, src in enumerate(cells)
            ],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
