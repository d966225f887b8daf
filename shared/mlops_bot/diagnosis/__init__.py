"""CI-log diagnosis: turn a failed GitHub Actions log into a typed `Problem` a fixer can act on.

Public API: `Problem`, `Evidence`, `Category`, `diagnose_lines`, `diagnose_path`, `diagnose_zip`,
`module_to_package`, `local_names` (a repository's own module names from its tree) and the write gate
`write_threshold` / `would_open_fix_pr` (see `confidence` and docs/diagnosis.md). See `classifier`
for how logs are walked and `rules` for what is recognised.

Names load on first access (PEP 562), so ``import mlops_bot.diagnosis.classifier`` (the CLI) pays for
neither pydantic (`Problem`) nor the rest of the package.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from mlops_bot.diagnosis.category import Category
    from mlops_bot.diagnosis.classifier import diagnose_lines, diagnose_path, diagnose_stream, diagnose_zip
    from mlops_bot.diagnosis.confidence import would_open_fix_pr, write_threshold
    from mlops_bot.diagnosis.local import local_names
    from mlops_bot.diagnosis.module_packages import module_to_package
    from mlops_bot.diagnosis.problem import Evidence, Problem

_HOMES = {
    "Category": "category",
    "Evidence": "problem",
    "Problem": "problem",
    "diagnose_lines": "classifier",
    "diagnose_path": "classifier",
    "diagnose_stream": "classifier",
    "diagnose_zip": "classifier",
    "local_names": "local",
    "module_to_package": "module_packages",
    "would_open_fix_pr": "confidence",
    "write_threshold": "confidence",
}

__all__ = [
    "Category",
    "Evidence",
    "Problem",
    "diagnose_lines",
    "diagnose_path",
    "diagnose_stream",
    "diagnose_zip",
    "local_names",
    "module_to_package",
    "would_open_fix_pr",
    "write_threshold",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
