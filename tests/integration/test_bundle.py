"""The SAM bundle itself: it validates, lints, builds without a container, and pins agree."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` without a container, once for the module."""
    if shutil.which("python3.11", path=ENV["PATH"]) is None and not (BIN / "python3.11").exists():
        pytest.fail("sam build needs python3.11 on PATH")
    build_dir = tmp_path_factory.mktemp("sam") / "build"
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
    return build_dir


@pytest.mark.slow
def test_sam_build_without_a_container(built: Path) -> None:
    built_template = Template.load(built / "template.yaml")
    layer = built / "SharedLayer" / "python"
    assert (layer / "mlops_bot" / "webhooks" / "service.py").is_file()
    assert (layer / "pydantic").is_dir()
    assert (built / "ManagementApiFunction" / "mangum").is_dir()
    assert (built / "WebhookIngressFunction" / "handler.py").is_file()
    assert not (built / "WebhookIngressFunction" / "fastapi").exists(), "the webhook path must stay lean"
    assert "PipelineFixStateMachine" in built_template.resources


# What the python3.11 Lambda runtime itself provides besides the standard library.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

# Runs in an interpreter without site-packages: the function's folder, the built layer and the
# runtime's boto3 are all it can import, as in Lambda.
INVOKE = """
import importlib.util, json, sys, uuid
spec = importlib.util.spec_from_file_location("lambda_function_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
class Context:
    function_name = sys.argv[3]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + sys.argv[3]
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/built"
    log_stream_name = "built"
    def get_remaining_time_in_millis(self):
        return 30000
event = json.loads(open(sys.argv[2]).read())
result = getattr(module, sys.argv[4])(event, Context())
print("RESULT " + json.dumps(result, default=str))
"""


@pytest.mark.slow
def test_built_functions_run_with_only_the_lambda_runtime_and_the_layer(built: Path, tmp_path: Path) -> None:
    """Every function of `.aws-sam/build` imports and answers its sample events against the embedded AWS.

    A dependency that is only in the developer's environment fails here before a deploy does.
    """
    import json

    import boto3

    from mlops_bot.local.stack import LocalStack, StackConfig, free_port

    runtime = tmp_path / "lambda-runtime"
    runtime.mkdir()
    site_packages = Path(boto3.__file__).resolve().parents[1]
    for name in LAMBDA_RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site_packages / name)
    layer = built / "SharedLayer" / "python"
    manifest = json.loads((ROOT / "events" / "manifest.json").read_text())
    specs = Template.load(built / "template.yaml").functions()
    config = StackConfig(template_path=ROOT / "template.yaml", port=free_port())
    with LocalStack(config):
        environment = {
            name: value
            for name, value in os.environ.items()
            if name.startswith(("MLOPS_BOT_", "AWS_", "POWERTOOLS_", "GITHUB_", "MOTO_"))
        }
        invoked = set()
        for sample, expected in manifest.items():
            if sample.startswith("_"):
                continue
            spec = specs[expected["function"]]
            code = spec.code_uri.resolve()
            assert code.is_relative_to(built.resolve()), f"{expected['function']} is not built: {code}"
            result = subprocess.run(
                [
                    sys.executable,
                    "-S",
                    "-c",
                    INVOKE,
                    str(spec.module_file),
                    str(ROOT / "events" / sample),
                    expected["function"],
                    spec.function_name,
                ],
                env={**environment, "PATH": "/usr/bin:/bin", "PYTHONPATH": f"{code}:{layer}:{runtime}"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, f"{sample}: {result.stderr[-3000:]}"
            answer = json.loads(result.stdout.rsplit("RESULT ", 1)[1])
            for key, value in expected["expect"].items():
                assert key in answer, f"{sample}: no {key} in {answer}"
                # Status codes and batch failures are decided by the call alone; a playbook step's
                # answer depends on how far the background execution got (test_sample_events checks it).
                if key in {"statusCode", "batchItemFailures"}:
                    assert answer[key] == value, f"{sample}: {key}={answer[key]!r}, expected {value!r}"
            invoked.add(expected["function"])
    assert invoked == set(specs), f"functions without a sample: {set(specs) - invoked}"
