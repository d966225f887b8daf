"""The local stack's private hook into moto, and the in-process Lambda runtime."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from mlops_bot.local.runtime import FunctionError, LocalFunctions
from mlops_bot.local.template import Template

ROOT = Path(__file__).resolve().parents[2]


def test_moto_private_lambda_hook_is_where_the_local_stack_expects_it() -> None:
    """Step Functions tasks reach our handlers through moto's `_invoke_lambda`: fail loudly if moto moves it."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.__dict__.get("_invoke_lambda")
    assert original is not None, "moto removed LambdaFunction._invoke_lambda; update mlops_bot.local.runtime"
    assert list(inspect.signature(original).parameters) == ["self", "event"]
    assert "docker" in inspect.getsource(original), "moto's hook changed; re-check install_moto_hook"


def test_every_template_handler_imports_and_is_callable() -> None:
    specs = Template.load(ROOT / "template.yaml").functions()
    assert set(specs) >= {
        "WebhookIngressFunction",
        "DetectorFunction",
        "HealerFunction",
        "ManagementApiFunction",
        "PlaybookActionsFunction",
        "SchedulerFunction",
    }
    functions = LocalFunctions(specs, "test", "us-east-1", "123456789012")
    for logical_id, spec in specs.items():
        assert spec.module_file.is_file(), f"{logical_id}: {spec.module_file} missing"
        assert callable(functions.load(logical_id)), logical_id


def test_a_raising_handler_becomes_lambdas_error_payload() -> None:
    specs = Template.load(ROOT / "template.yaml").functions()
    functions = LocalFunctions(specs, "test", "us-east-1", "123456789012")
    with pytest.raises(FunctionError) as failure:
        functions.invoke("PlaybookActionsFunction", {"action": "plan"})  # no "state": KeyError
    assert failure.value.payload["errorType"] == "KeyError"
