"""The management services take typed stores; only the API's dependencies build them on the table (issue 10).

No module of `mlops_bot.management` (nor the API-key service) names the state table or a DynamoDB
store, so each runs on the in-memory stores in a unit test; the routers moved onto store
dependencies ask for stores, never for the table.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "mlops_bot"
SERVICES = [*sorted((PACKAGE / "management").rglob("*.py")), PACKAGE / "access" / "api_keys.py"]
ROUTERS = [
    PACKAGE / "api" / f"{name}.py"
    for name in ("analytics", "failures", "pipelines", "repositories", "system_config", "tenants")
]


def names_used(path: Path) -> set[str]:
    """Every name a module imports or refers to (docstrings and comments do not count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def table_names(names: set[str]) -> set[str]:
    return {
        n for n in names if n in {"StateTable", "state_table", "mlops_bot.adapters.dynamodb"} or n.startswith("Dynamo")
    }


def test_no_management_service_names_the_table_or_a_dynamodb_store() -> None:
    found = {f"{p.relative_to(PACKAGE)}: {sorted(table_names(names_used(p)))}" for p in SERVICES}
    assert sorted(f for f in found if not f.endswith(": []")) == []


def test_the_routers_on_store_dependencies_never_ask_for_the_table() -> None:
    found = {f"{p.relative_to(PACKAGE)}: {sorted(table_names(names_used(p)))}" for p in ROUTERS}
    assert sorted(f for f in found if not f.endswith(": []")) == []


def test_the_check_sees_a_service_building_a_store_on_the_table(tmp_path: Path) -> None:
    sample = tmp_path / "service.py"
    sample.write_text(
        "from mlops_bot.adapters.dynamodb import StateTable\n"
        "from mlops_bot.stores.events import DynamoEventStore\n"
        "def f(table: StateTable):\n"
        "    return DynamoEventStore(table)\n"
    )
    assert table_names(names_used(sample)) == {"StateTable", "DynamoEventStore", "mlops_bot.adapters.dynamodb"}
