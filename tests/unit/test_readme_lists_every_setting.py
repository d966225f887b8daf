"""Every environment variable a settings class reads is in the README's configuration table."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _aliases() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "shared/mlops_bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Field":
                for keyword in node.keywords:
                    if keyword.arg == "alias" and isinstance(keyword.value, ast.Constant):
                        found.add(str(keyword.value.value))
    return found


def _configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_the_readme_configuration_table_names_every_setting() -> None:
    table = _configuration_table()
    aliases = _aliases()
    assert len(aliases) > 30  # the walk found the settings classes
    missing = sorted(a for a in aliases if f"`{a}`" not in table)
    assert missing == [], f"add these to README.md's Configuration table: {missing}"
