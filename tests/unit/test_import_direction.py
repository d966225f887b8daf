"""Imports point one way: a package never imports one above it, not even lazily inside a function.

Lowest first: messages → stores → detection → healing → monitoring → management → api. Every
`import` statement of a module counts, wherever it sits (function bodies and TYPE_CHECKING too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "mlops_bot"
LAYERS = ["messages", "stores", "detection", "healing", "monitoring", "management", "api"]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "mlops_bot" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def sources(layer: str) -> list[Path]:
    single = PACKAGE / f"{layer}.py"
    return [single] if single.exists() else sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_imports_a_layer_above_its_own(layer: str) -> None:
    own = LAYERS.index(layer)
    upward = {
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sources(layer)
        for module in imported_modules(path)
        if (other := layer_of(module)) is not None and other > own
    }
    assert upward == set()


def test_the_queue_messages_import_nothing_of_the_bot() -> None:
    # GitHub's naming rules are a leaf module of their own (standard library and pydantic only).
    assert {m for m in imported_modules(PACKAGE / "messages.py") if m.startswith("mlops_bot")} <= {
        "mlops_bot.repository_names"
    }
    assert {m for m in imported_modules(PACKAGE / "repository_names.py") if m.startswith("mlops_bot")} == set()
