"""Nothing above the stores sees a DynamoDB key or attribute name (issue 10).

Services, routers and handlers reach the table only through `mlops_bot.stores`: they never build a
key (`storage.keys`), never call the general table's write and condition helpers, and never touch
boto3's table object. Only the stores, the adapters, the key module itself and the local stack's
provisioning may.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "mlops_bot"
BELOW = ("stores", "storage", "adapters")
# Domain identifiers that live beside the keys but are not DynamoDB attributes: the tenant
# names every layer speaks of and the incident id derived from a run.
DOMAIN_NAMES = {"SYSTEM_TENANT", "DEFAULT_TENANT", "incident_id_for_run"}
# The general table's own verbs that only make sense with a key in hand.
TABLE_VERBS = {"put_new", "set_fields", "delete_if", "increment", "reachable"}
BOTO_TABLE_VERBS = {"get_item", "put_item", "update_item", "delete_item", "query", "scan", "transact_write_items"}


def modules_above_the_stores() -> list[Path]:
    found = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in BELOW]
    found += sorted((ROOT / "functions").rglob("handler.py"))
    return sorted(found)


def violations(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    keys_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "mlops_bot.storage":
            keys_aliases.update(a.asname or a.name for a in node.names if a.name == "keys")
        elif isinstance(node, ast.ImportFrom) and node.module == "mlops_bot.storage.keys":
            found.update(f"imports keys.{a.name}" for a in node.names if a.name not in DOMAIN_NAMES)
        elif isinstance(node, ast.Import):
            found.update(f"imports {a.name}" for a in node.names if a.name == "mlops_bot.storage.keys")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in keys_aliases and node.attr not in DOMAIN_NAMES:
                found.add(f"keys.{node.attr}")
            if node.attr in BOTO_TABLE_VERBS and isinstance(node.value, ast.Attribute) and node.value.attr == "table":
                found.add(f".table.{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TABLE_VERBS:
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if "table" in name.lower():
                found.add(f"table.{node.func.attr}()")
    return found


def test_nothing_above_the_stores_builds_a_key_or_calls_the_table() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {what}"
        for path in modules_above_the_stores()
        for what in violations(path)
        if path.relative_to(ROOT).as_posix() not in PROVISIONING
    }
    assert sorted(found) == []


# The local stack is the deployment, not a service: after a restart it scans the whole embedded
# table once for incidents whose playbook moto forgot (the one cross-tenant read, local only).
PROVISIONING = {"shared/mlops_bot/local/stack.py"}


def test_the_check_sees_a_key_built_above_the_stores(tmp_path: Path) -> None:
    sample = tmp_path / "service.py"
    sample.write_text(
        "from mlops_bot.storage import keys\n"
        "def f(table):\n"
        "    table.set_fields(keys.incident_key('t', 'i'), {})\n"
        "    return keys.incident_id_for_run('o/r', 1)\n"
    )
    assert violations(sample) == {"keys.incident_key", "table.set_fields()"}
