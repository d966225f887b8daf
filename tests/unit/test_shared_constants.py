"""One definition of each shared constant (issue 10): the bot's branch prefix and the run
conclusions that open an incident, count against flakiness or pass live in `messages.py` only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "mlops_bot"
HOME = PACKAGE / "messages.py"
SHARED = {"BOT_BRANCH_PREFIX", "FAILED_CONCLUSIONS", "TEST_FAILED_CONCLUSIONS", "PASSED_CONCLUSIONS"}
PREFIX = "mlops-bot/"


def redefinitions(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        found.update(t.id for t in targets if isinstance(t, ast.Name) and t.id in SHARED)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PREFIX):
            found.add(repr(node.value))
    return found


def test_the_shared_constants_are_defined_once() -> None:
    found = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in PACKAGE.rglob("*.py")
        if path != HOME
        for name in redefinitions(path)
    }
    assert found == set()
    assert redefinitions(HOME) >= SHARED


def test_the_check_sees_a_second_definition(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('PASSED_CONCLUSIONS = frozenset({"success"})\nif b.startswith("mlops-bot/"):\n    pass\n')
    assert redefinitions(sample) == {"PASSED_CONCLUSIONS", "'mlops-bot/'"}
