"""`mlops-bot` starts at once: a subcommand imports what it uses, and only when it runs.

Timing lives in bench/bench_cli_start.py; these check what the timing depends on.
"""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

from mlops_bot.access.api_keys import PERMISSIONS
from mlops_bot.cli import COMMANDS, api_keys, build_parser, drift
from mlops_bot.drift import TestChoice
from mlops_bot.storage import keys

PROBE = """
import sys
from mlops_bot.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ("scipy", "numpy", "pyarrow", "boto3", "botocore", "httpx", "pydantic") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


def loaded_after(argv: list[str]) -> set[str]:
    """The heavy libraries a fresh interpreter holds after `mlops-bot ARGV` (output discarded)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True, timeout=120
    )
    marker = result.stdout.rsplit("HEAVY:", 1)[1].strip()
    return {name for name in marker.split(",") if name}


def test_help_lists_every_command_without_importing_any_library() -> None:
    assert loaded_after(["--help"]) == set()
    assert set(COMMANDS) <= set(build_parser("").format_help().split("{", 1)[1].split("}", 1)[0].split(","))


@pytest.mark.parametrize("command", ["diagnose", "drift", "replay", "generate-api-key", "run-local"])
def test_a_subcommands_help_imports_no_library(command: str) -> None:
    assert loaded_after([command, "--help"]) == set()


def test_diagnose_does_not_load_the_drift_or_aws_stack(tmp_path: object) -> None:
    from pathlib import Path

    log = Path(str(tmp_path)) / "ci.log"
    log.write_text("ModuleNotFoundError: No module named 'sklearn'\n")
    assert loaded_after(["diagnose", str(log), "--json"]) <= {"pydantic"}


def test_spelled_out_choices_match_their_sources() -> None:
    assert set(drift.TEST_CHOICES) == set(get_args(TestChoice))
    assert api_keys.PERMISSIONS == PERMISSIONS
    assert api_keys.DEFAULT_TENANT == keys.DEFAULT_TENANT


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_parses_with_only_its_module(command: str) -> None:
    argv = {
        "replay": ["replay", "events/push.json"],
        "run-local": ["run-local"],
        "diagnose": ["diagnose", "ci.log"],
        "drift": ["drift", "--reference", "a.csv", "--current", "b.csv"],
        "generate-api-key": ["generate-api-key", "--name", "ci", "--permissions", "read"],
        "list-api-keys": ["list-api-keys"],
        "revoke-api-key": ["revoke-api-key", "--id", "key-1"],
        "api-key": ["api-key", "list"],
        "create-user": ["create-user", "--username", "ops"],
    }[command]
    args = build_parser(command).parse_args(argv)
    assert args.command == command
    assert callable(args.func)
