"""The SAM bundle itself: it validates, lints, builds without a container, and pins agree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mlops_bot.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1", "PATH": f"{BIN}:/usr/bin:/bin"}


def run(*command: str, cwd: Path = ROOT, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, check=False)


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)$", line)
        if match:
            found[match.group(1).lower()] = match.group(3)
    return found


def test_function_requirements_are_pinned_as_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = pins(project["dependencies"])
    files = [ROOT / "shared" / "requirements.txt", *sorted((ROOT / "functions").glob("*/requirements.txt"))]
    for requirements in files:
        for name, version in pins(requirements.read_text().splitlines()).items():
            assert declared.get(name) == version, f"{requirements.relative_to(ROOT)}: {name}=={version}"


def test_every_function_folder_is_in_the_template_and_back() -> None:
    specs = Template.load(ROOT / "template.yaml").functions()
    in_template = {spec.code_uri.resolve() for spec in specs.values()}
    on_disk = {p.resolve() for p in (ROOT / "functions").iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert in_template == on_disk


@pytest.mark.slow
def test_sam_validate_lint_passes() -> None:
    result = run(str(BIN / "sam"), "validate", "--lint", "--template-file", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_cfn_lint_passes() -> None:
    result = run(str(BIN / "cfn-lint"), "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_sam_build_without_a_container(tmp_path: Path) -> None:
    if shutil.which("python3.11", path=ENV["PATH"]) is None and not (BIN / "python3.11").exists():
        pytest.fail("sam build needs python3.11 on PATH")
    build_dir = tmp_path / "build"
    result = run(
        str(BIN / "sam"),
        "build",
        "--template-file",
        str(ROOT / "template.yaml"),
        "--build-dir",
        str(build_dir),
        "--base-dir",
        str(ROOT),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    built = Template.load(build_dir / "template.yaml")
    layer = build_dir / "SharedLayer" / "python"
    assert (layer / "mlops_bot" / "webhooks" / "service.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (build_dir / "ManagementApiFunction" / "mangum").is_dir()
    assert (build_dir / "WebhookIngressFunction" / "handler.py").is_file()
    assert not (build_dir / "WebhookIngressFunction" / "fastapi").exists(), "the webhook path must stay lean"
    assert "PipelineFixStateMachine" in built.resources
