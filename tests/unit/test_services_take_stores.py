"""Services take typed stores, never the general table (issue 10).

Only the composition points (functions/<name>/handler.py, the API's dependencies, the CLI and the
local stack) build DynamoDB stores on a `StateTable`; a service that imported the table would be
building stores (or reading items) itself again.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "mlops_bot"
# Below the services, and the places that compose them.
EXEMPT = {"stores", "storage", "adapters", "api", "cli", "local"}
TRANSITIONAL: set[str] = set()
TABLE_MODULE = "mlops_bot.adapters.dynamodb"


def imports_the_table(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.module == TABLE_MODULE or (
                node.module == "mlops_bot.adapters" and any(a.name == "dynamodb" for a in node.names)
            ):
                return True
        elif isinstance(node, ast.Import) and any(a.name == TABLE_MODULE for a in node.names):
            return True
    return False


def test_no_service_imports_the_general_table() -> None:
    services = [
        p
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] not in EXEMPT and p.relative_to(PACKAGE).as_posix() not in TRANSITIONAL
    ]
    assert services
    assert sorted(p.relative_to(PACKAGE).as_posix() for p in services if imports_the_table(p)) == []


def test_the_check_sees_an_import_of_the_table(tmp_path: Path) -> None:
    direct, lazy, clean = tmp_path / "direct.py", tmp_path / "lazy.py", tmp_path / "clean.py"
    direct.write_text("from mlops_bot.adapters.dynamodb import StateTable\n")
    lazy.write_text("def f():\n    from mlops_bot.adapters import dynamodb\n    return dynamodb\n")
    clean.write_text("from mlops_bot.stores.incidents import IncidentStore\n")
    assert imports_the_table(direct) and imports_the_table(lazy) and not imports_the_table(clean)
