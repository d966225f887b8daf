# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""Regenerate the FIFTH fresh blind corpus: wrong-PR traps, measured on the rules as shipped.

Built and labelled before any of it was diagnosed: a missing module that is only *logged* (an optional
integration caught with ``except ImportError``) before the program fails for another reason, a test
helper module the tests cannot import, and the project's own sub-module run with ``python -m``. None of
them is a package to add. Same framing and scratch as ``fresh/generate.py``; run from the repository
root::

    python tests/data/logs/fresh5/generate.py [--only CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fresh"))

from generate import PKG, Case, label, produce, venv  # noqa: E402

TRACKING = "import logging\n\nlogging.basicConfig(level=logging.INFO)\nlog = logging.getLogger('train')\ntry:\n    import wandb\nexcept ImportError:\n    log.exception('experiment tracking disabled')\n    wandb = None\n\n"


def cases(ports: dict[str, int]) -> list[Case]:
    out: list[Case] = []
    add = out.append

    add(
        Case(
            "n_caught_import_then_value_error",
            "wrong_pr_traps",
            "python train.py",
            label("test_failure", "python-exception", ["could not convert string to float: 'n/a'"]),
            files={
                "train.py": TRACKING
                + "rows = ['0.5', '0.7', 'n/a']\nlog.info('parsing %d rows', len(rows))\nvalues = [float(r) for r in rows]\nprint(sum(values))\n"
            },
        )
    )
    add(
        Case(
            "n_caught_import_then_data_missing",
            "wrong_pr_traps",
            "python train.py",
            label("data_missing", "file-not-found", ["data/train.csv"], path="data/train.csv"),
            files={
                "train.py": TRACKING
                + "import csv\n\nlog.info('loading data')\nwith open('data/train.csv') as fh:\n    rows = list(csv.reader(fh))\n"
            },
        )
    )
    add(
        Case(
            "n_test_helper_not_importable",
            "wrong_pr_traps",
            "python -m pytest -q tests/unit",
            label("dependency_missing", "missing-local-module", ["No module named 'factories'"]),
            files={
                "tests/factories.py": "def make_user():\n    return {'id': 1}\n",
                "tests/__init__.py": "",
                "tests/unit/__init__.py": "",
                "tests/unit/test_users.py": "from factories import make_user\n\n\ndef test_user():\n    assert make_user()['id'] == 1\n",
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "n_own_submodule_run_as_module",
            "wrong_pr_traps",
            "python -m mlproj.cli --help",
            label("dependency_missing", "missing-local-module", ["No module named mlproj.cli"]),
            files={**PKG, "src/mlproj/main.py": "print('hi')\n"},
            env={"PYTHONPATH": "src"},
        )
    )
    return out


if __name__ == "__main__":
    sys.exit(produce(HERE, cases))
