"""The Python SDK is its own distribution: a wheel built from sdk/python needs httpx only.

Integrators install `mlops-bot-sdk` without the server's stack (pydantic, boto3, FastAPI...), and
the server's Lambda layer (shared/) does not ship the SDK.
"""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mlops_bot_sdk

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk" / "python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(SDK)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [path] = out.glob("mlops_bot_sdk-*.whl")
    return path


def test_the_wheel_requires_httpx_and_websockets_only_as_the_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(name))
    requires = metadata.get_all("Requires-Dist") or []

    assert metadata["Name"] == "mlops-bot-sdk"
    assert metadata["Version"] == mlops_bot_sdk.__version__
    assert [r for r in requires if "extra ==" not in r] == ["httpx<1,>=0.27"]
    assert [r.split(";")[0].strip() for r in requires if "extra ==" in r] == ["websockets>=13"]
    assert metadata.get_all("Provides-Extra") == ["websocket"]


def test_the_wheel_holds_both_import_names_typed(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"mlops_bot_sdk/__init__.py", "mlops_bot_sdk/client.py", "mlops_bot_sdk/py.typed"} <= names
    assert {"healing_guard/__init__.py", "healing_guard/py.typed"} <= names


def test_the_sdk_imports_nothing_of_the_server_stack() -> None:
    """A fresh interpreter importing both names loads neither pydantic nor the server's package."""
    probe = (
        "import sys, mlops_bot_sdk, healing_guard;"
        "assert healing_guard.HealingGuardClient is mlops_bot_sdk.HealingGuardClient;"
        "print(sorted(m for m in ('pydantic', 'boto3', 'fastapi', 'mlops_bot', 'websockets') if m in sys.modules))"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert ran.stdout.strip() == "[]"


def test_the_lambda_layer_does_not_ship_the_sdk() -> None:
    assert not (ROOT / "shared" / "mlops_bot_sdk").exists()
    assert "mlops-bot-sdk" not in (ROOT / "shared" / "requirements.txt").read_text()
