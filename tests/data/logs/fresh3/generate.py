# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""Regenerate the THIRD fresh blind corpus: made after the rules were fixed against fresh/ and fresh2/.

Built and labelled before any of it was diagnosed, to measure the rules as they stand: an ML team's
everyday failures again (a model-quality gate in a plain script, NaNs reaching scikit-learn, a pickle
written under NumPy 2 read under NumPy 1, a project not installed before its tests, a circular import,
a pytest plugin's fixture, a private submodule behind HTTP auth, a JSON file checked with json.tool, a
pin with no wheel for the runner's Python). Same framing and scratch as fresh/generate.py (see
there, plus np1/: numpy 1.24.4 and pytest); run from the repository root::

    python tests/data/logs/fresh3/generate.py [--only CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fresh"))

from generate import PKG, PYTEST, Case, label, produce, venv  # noqa: E402

# A dict of NumPy arrays pickled under NumPy 2 (its classes live in numpy._core).
WEIGHTS_NUMPY2 = "gASVqAAAAAAAAAB9lIwBd5SMFm51bXB5Ll9jb3JlLm11bHRpYXJyYXmUjAxfcmVjb25zdHJ1Y3SUk5SMBW51bXB5lIwHbmRhcnJheZSTlEsAhZRDAWKUh5RSlChLAUsDhZRoBYwFZHR5cGWUk5SMAmY4lImIh5RSlChLA4wBPJROTk5K/////0r/////SwB0lGKJQxgAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAECUdJRicy4="


def cases(ports: dict[str, int]) -> list[Case]:
    out: list[Case] = []
    add = out.append

    add(
        Case(
            "k_script_quality_gate",
            "python_scripts",
            "python evaluate.py --min-auc 0.85",
            label("test_failure", "python-assertion", ["AssertionError: AUC 0.781 below the 0.85 gate"]),
            files={
                "evaluate.py": "import sys\n\nauc = 0.781\nprint(f'validation AUC: {auc:.3f}')\nminimum = float(sys.argv[2])\nassert auc >= minimum, f'AUC {auc:.3f} below the {minimum} gate'\n"
            },
        )
    )
    add(
        Case(
            "k_sklearn_nan_input",
            "python_scripts",
            "python train.py",
            label("test_failure", "python-exception", ["Input X contains NaN", "Input contains NaN"]),
            files={
                "train.py": "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n\nX = np.array([[0.1, 1.0], [np.nan, 0.5], [0.3, 0.2]])\ny = np.array([0, 1, 0])\nprint('training on', len(X), 'rows')\nLogisticRegression().fit(X, y)\n"
            },
        )
    )
    add(
        Case(
            "k_pickle_numpy2_under_numpy1",
            "python_imports",
            f"{PYTEST} tests",
            label("dependency_resolution", "python-module-moved", ["No module named 'numpy._core'"]),
            files={
                "models/weights.b64": WEIGHTS_NUMPY2,
                "tests/test_weights.py": "import pickle\n\n\ndef test_weights_shape():\n    with open('models/weights.pkl', 'rb') as fh:\n        weights = pickle.load(fh)\n    assert weights['w'].shape == (3,)\n",
            },
            env=venv("np1"),
            setup="python -c \"import base64; open('models/weights.pkl', 'wb').write(base64.b64decode(open('models/weights.b64').read()))\" && python -m pip list --format=columns",
        )
    )
    add(
        Case(
            "k_project_not_installed",
            "python_imports",
            f"{PYTEST} tests",
            label("dependency_missing", "missing-local-module", ["No module named 'mlproj'"]),
            files={
                **PKG,
                "src/mlproj/features.py": "def double(x):\n    return 2 * x\n",
                "tests/conftest.py": "import pytest\nfrom mlproj.features import double\n\n\n@pytest.fixture\ndef two():\n    return double(1)\n",
                "tests/test_features.py": "def test_two(two):\n    assert two == 2\n",
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "k_circular_import",
            "python_imports",
            "python -m mlproj.train",
            label("test_failure", "circular-import", ["partially initialized module", "circular import"]),
            files={
                **PKG,
                "src/mlproj/train.py": "from mlproj.data import load\n\nprint(load())\n",
                "src/mlproj/data.py": "from mlproj.features import FEATURES\n\n\ndef load():\n    return FEATURES\n",
                "src/mlproj/features.py": "from mlproj.data import load\n\nFEATURES = ['a', 'b']\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "k_pytest_mock_fixture_missing",
            "python_tests",
            f"{PYTEST} tests",
            label("dependency_missing", "pytest-plugin-missing", ["fixture 'mocker' not found"]),
            files={
                "tests/test_client.py": "import os\n\n\ndef test_reads_env(mocker):\n    mocker.patch.dict(os.environ, {'MODEL': 'x'})\n    assert os.environ['MODEL'] == 'x'\n"
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "k_git_submodule_auth",
            "shell_scm",
            f"git clone --depth 1 http://127.0.0.1:{ports['mlflow']}/acme/feature-store.git vendor/feature-store",
            label(
                "permission_denied",
                "git-auth",
                ["could not read Username", "terminal prompts disabled", "Authentication failed"],
            ),
            env={"GIT_TERMINAL_PROMPT": "0"},
            setup="git --version",
        )
    )
    add(
        Case(
            "k_json_tool_check",
            "config_data",
            'for f in configs/*.json; do python -m json.tool "$f" > /dev/null; done',
            label("syntax_error", "config-syntax-error", ["Expecting ',' delimiter"]),
            files={"configs/a.json": '{"lr": 0.1}\n', "configs/b.json": '{\n  "epochs": 3\n  "batch": 8\n}\n'},
        )
    )
    add(
        Case(
            "k_pin_without_wheel_for_python",
            "pip_packaging",
            "python -m pip install --only-binary=:all: numpy==1.21.6",
            label(
                "dependency_resolution",
                "pip-no-matching-distribution",
                ["numpy==1.21.6"],
                fix_pr_ok=True,
                package="numpy",
            ),
        )
    )
    return out


if __name__ == "__main__":
    sys.exit(produce(HERE, cases))
