"""Imports point one way: a package never imports one above it, not even lazily inside a function.

Every package of `mlops_bot` has a rank; a module may import its own package and packages of a
strictly lower rank. Every `import` statement counts, wherever it sits (function bodies and
TYPE_CHECKING too). The service chain of issue 10 reads bottom-up as
messages → stores → detection → healing → monitoring → management → api.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "mlops_bot"
RANKS = {
    # leaves: no import of the bot at all
    "clock": 0, "errors": 0, "config": 0, "strict_json": 0, "repository_names": 0, "storage": 0,
    "playbooks": 0, "diagnosis": 0, "drift": 0,
    # shared shapes: queue messages, credentials, a repository's own settings
    "messages": 1, "credentials": 1, "repository_config": 1,
    # one external API each; pure analytics over messages
    "adapters": 2, "analytics": 2,
    # typed storage; the one GitHub client builder
    "stores": 3, "github_access": 3,
    # services on stores only
    "access": 4, "detection": 4, "reconciliation": 4, "scheduling": 4, "tenancy": 4,
    # services on services
    "healing": 5, "dashboard": 5,
    "monitoring": 6,
    "management": 7,
    # the edges: the webhook ingress and the management API
    "webhooks": 8, "api": 8,
    # the local stack and the command line compose everything
    "local": 9,
    "cli": 10,
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "mlops_bot" and len(parts) > 1 else None


def sources(package: str) -> list[Path]:
    single = PACKAGE / f"{package}.py"
    return [single] if single.exists() else sorted((PACKAGE / package).rglob("*.py"))


def test_every_package_has_a_rank() -> None:
    packages = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p.is_dir() and any(p.glob("*.py")))}
    assert packages - {"__init__"} == set(RANKS)


@pytest.mark.parametrize("package", sorted(RANKS, key=RANKS.__getitem__))
def test_no_module_imports_a_package_at_or_above_its_own_rank(package: str) -> None:
    upward = {
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sources(package)
        for module in imported_modules(path)
        if (other := package_of(module)) is not None and other != package and RANKS[other] >= RANKS[package]
    }
    assert upward == set()


def test_the_queue_messages_import_nothing_of_the_bot() -> None:
    # GitHub's naming rules are a leaf module of their own (standard library and pydantic only).
    assert {m for m in imported_modules(PACKAGE / "messages.py") if m.startswith("mlops_bot")} <= {
        "mlops_bot.repository_names"
    }
    assert {m for m in imported_modules(PACKAGE / "repository_names.py") if m.startswith("mlops_bot")} == set()


def test_the_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "lazy.py"
    sample.write_text("def f():\n    from mlops_bot.management.platform.settings import ManagementSettings\n")
    assert {package_of(m) for m in imported_modules(sample)} == {"management"}
    assert RANKS["management"] > RANKS["access"]
