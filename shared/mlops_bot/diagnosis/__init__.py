"""CI-log diagnosis: turn a failed GitHub Actions log into a typed `Problem` a fixer can act on.

Public API: `Problem`, `Evidence`, `Category`, `diagnose_lines`, `diagnose_path`, `diagnose_zip`,
`module_to_package`, `local_names` (a repository's own module names from its tree) and the write gate
`write_threshold` / `would_open_fix_pr` (see `confidence` and docs/diagnosis.md). See `classifier`
for how logs are walked and `rules` for what is recognised.
"""

from mlops_bot.diagnosis.classifier import diagnose_lines, diagnose_path, diagnose_stream, diagnose_zip
from mlops_bot.diagnosis.confidence import would_open_fix_pr, write_threshold
from mlops_bot.diagnosis.local import local_names
from mlops_bot.diagnosis.module_packages import module_to_package
from mlops_bot.diagnosis.problem import Category, Evidence, Problem

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
