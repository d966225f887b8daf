# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""Regenerate the FOURTH fresh blind corpus: made after the last rule change, to measure the rules as shipped.

Built and labelled before any of it was diagnosed, and no rule was changed with it in view: an ML
team's failures again (TensorFlow not installed, an API scikit-learn removed, tests needing a Redis
that is not running, a secret missing inside a notebook, a misspelt requirement, NumPy running out of
memory, jest meeting ESM syntax, ``git lfs`` absent from the image). Same framing and scratch as
``fresh/generate.py``; run from the repository root::

    python tests/data/logs/fresh4/generate.py [--only CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fresh"))

from generate import PKG, PYTEST, Case, label, notebook, produce, venv  # noqa: E402


def cases(ports: dict[str, int]) -> list[Case]:
    out: list[Case] = []
    add = out.append

    add(
        Case(
            "m_import_tensorflow",
            "python_imports",
            f"{PYTEST} tests",
            label(
                "dependency_missing",
                "missing-python-module",
                ["No module named 'tensorflow'"],
                fix_pr_ok=True,
                package="tensorflow",
            ),
            files={
                "tests/test_model.py": "import tensorflow as tf\n\n\ndef test_layer():\n    assert tf.keras.layers.Dense(2).units == 2\n"
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "m_sklearn_removed_function",
            "python_imports",
            "python -m mlproj.report",
            label(
                "dependency_resolution",
                "python-import-name-error",
                ["cannot import name 'plot_confusion_matrix' from 'sklearn.metrics'"],
            ),
            files={
                **PKG,
                "src/mlproj/report.py": "from sklearn.metrics import plot_confusion_matrix\n\nprint(plot_confusion_matrix)\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "m_pytest_redis_refused",
            "python_tests",
            f"{PYTEST} tests",
            label("network_transient", "connection-refused", ["Connection refused", "ConnectionRefusedError"]),
            files={
                "tests/test_cache.py": "import socket\n\n\ndef redis_ping(port=6390):\n    with socket.create_connection(('127.0.0.1', port), timeout=2) as s:\n        s.sendall(b'PING\\r\\n')\n        return s.recv(16)\n\n\ndef test_cache_ping():\n    assert redis_ping() == b'+PONG\\r\\n'\n\n\ndef test_cache_ping_again():\n    assert redis_ping() == b'+PONG\\r\\n'\n"
            },
        )
    )
    add(
        Case(
            "m_notebook_secret_missing",
            "notebooks",
            "papermill notebooks/publish.ipynb /tmp/publish-out.ipynb",
            label("permission_denied", "missing-secret", ["KeyError: 'WANDB_API_KEY'"]),
            files={
                "notebooks/publish.ipynb": notebook(["import os", "key = os.environ['WANDB_API_KEY']\nprint(key[:2])"])
            },
        )
    )
    add(
        Case(
            "m_pip_misspelt_requirement",
            "pip_packaging",
            "python -m pip install -r requirements.txt",
            label(
                "dependency_resolution",
                "pip-no-matching-distribution",
                ["No matching distribution found for scikit-lern"],
            ),
            files={"requirements.txt": "numpy>=1.26\nscikit-lern==1.5.0\n"},
        )
    )
    add(
        Case(
            "m_numpy_array_memory",
            "python_scripts",
            "ulimit -v 3000000\npython build_features.py",
            label("out_of_memory", "python-memory-error", ["Unable to allocate", "MemoryError"]),
            files={
                "build_features.py": "import numpy as np\n\nprint('building a 200000 x 50000 feature matrix')\nX = np.ones((200_000, 50_000))\nprint(X.sum())\n"
            },
        )
    )
    add(
        Case(
            "m_jest_esm_syntax",
            "node",
            "npx jest --ci",
            label(
                "syntax_error",
                "jest-suite-failed",
                ["Cannot use import statement outside a module", "Test suite failed to run"],
            ),
            files={
                "package.json": '{"name": "dash", "version": "1.0.0"}',
                "src/sum.js": "export const sum = (a, b) => a + b;\n",
                "src/sum.test.js": "import { sum } from './sum';\n\ntest('adds', () => {\n  expect(sum(1, 2)).toBe(3);\n});\n",
            },
            setup="node --version && npm --version",
            link_node_modules=True,
        )
    )
    add(
        Case(
            "m_git_lfs_not_installed",
            "shell_scm",
            "git lfs pull",
            label("dependency_missing", "missing-command", ["'lfs' is not a git command"]),
            setup="git --version",
        )
    )
    return out


if __name__ == "__main__":
    sys.exit(produce(HERE, cases))
