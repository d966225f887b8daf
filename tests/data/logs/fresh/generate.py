# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""Regenerate the FRESH blind corpus: real tools run here, framed as GitHub Actions job logs.

Built and labelled before the rules were read or changed, in scenarios none of the other corpora
hold: an ML team's CI (pandas/numpy/scikit-learn errors inside tests, hypothesis, doctest, xdist,
coverage gates), imports whose distribution name differs from the import name, API removals after an
upgrade, pip/packaging failures, type checkers and linters, notebooks, configuration and data files,
MLflow against a loopback tracking server, Node and npm, and shell, C and Rust build steps. Every tool
line is real output of the tool run here; ``holdout/gha_framing.py`` adds the GitHub framing; this
script only maps the scratch paths to a hosted runner's (``/home/runner/work/...``,
``/opt/hostedtoolcache/...``) and adds colours by asking the tools for them.

Labels (``labels.json``) say what a careful engineer reading the log would answer: the category, whether
a fix PR is acceptable (and, when it is, the one package it may add), and substrings of the line that
states the cause. ``tests/unit/diagnosis`` does not assert these: they are a measuring stick
(``bench/bench_diagnosis_families.py``), so that rules tuned against them stay honest.

Usage (from the repository root; needs PyPI and the npm registry)::

    python tests/data/logs/fresh/generate.py [--only CASE ...]

``DIAG_FRESH_SCRATCH`` (default /tmp/diagfresh) must hold ``venv/`` (pytest, pytest-xdist, pytest-cov,
hypothesis, pandas, numpy, scikit-learn, joblib, mypy, ruff, black, isort, pyyaml, pydantic, nbconvert,
nbclient, ipykernel, papermill, yamllint, requests, mlflow-skinny), ``bare/`` (pytest only),
``nopip/`` (``python -m venv --without-pip``), ``np2/`` (pandas 2.1.4 with numpy 2.0.2, ``--no-deps``)
and ``node/node_modules`` (jest 29, eslint 8, node-fetch 3).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRATCH_DEFAULT = "/tmp/diagfresh"
os.environ["PIP_CONFIG_FILE"] = os.devnull  # a hosted runner has no pip.conf pointing at local wheel folders
os.environ.setdefault("DIAG_CORPUS_SCRATCH", os.environ.get("DIAG_FRESH_SCRATCH", SCRATCH_DEFAULT))
sys.path.insert(0, str(HERE.parent / "holdout"))

from gha_framing import SCRATCH, Case, label, notebook, render  # noqa: E402

HOSTED_PYTHON = "/opt/hostedtoolcache/Python/3.11.9/x64"
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def venv(name: str) -> dict[str, str]:
    """Run the step with another interpreter first on PATH (one lacking a module, an old pandas...)."""
    return {"PATH": f"{SCRATCH / name / 'bin'}:{SCRATCH / 'node' / 'node_modules' / '.bin'}:{BASE_PATH}"}


PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "mlproj"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[tool.setuptools.packages.find]
where = ["src"]
"""

PKG = {"pyproject.toml": PYPROJECT, "src/mlproj/__init__.py": ""}
PYTEST = "python -m pytest -q"


def cases(ports: dict[str, int]) -> list[Case]:
    mlflow = f"http://127.0.0.1:{ports['mlflow']}"
    out: list[Case] = []
    add = out.append

    # ---------------------------------------------------------------- tests of ML code failing for real
    add(
        Case(
            "f_pytest_pandas_keyerror",
            "python_tests",
            f"{PYTEST} tests/",
            label("test_failure", "pytest-failure", ["KeyError: 'revenue'"]),
            files={
                **PKG,
                "src/mlproj/features.py": "import pandas as pd\n\n\ndef add_margin(df: pd.DataFrame) -> pd.DataFrame:\n    df = df.copy()\n    df['margin'] = df['revenue'] - df['cost']\n    return df\n",
                "tests/test_features.py": "import pandas as pd\nfrom mlproj.features import add_margin\n\n\ndef test_margin():\n    df = pd.DataFrame({'Revenue': [10.0, 12.0], 'cost': [4.0, 5.0]})\n    assert add_margin(df)['margin'].tolist() == [6.0, 7.0]\n\n\ndef test_shape():\n    assert pd.DataFrame({'a': [1]}).shape == (1, 1)\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "f_pytest_numpy_shape_mismatch",
            "python_tests",
            f"{PYTEST} --color=yes tests/test_model.py",
            label("test_failure", "pytest-failure", ["mismatch in its core dimension", "ValueError: matmul"]),
            files={
                "tests/test_model.py": "import numpy as np\n\n\ndef project(x, w):\n    return x @ w\n\n\ndef test_projection_shape():\n    x = np.ones((32, 128))\n    w = np.ones((64, 16))\n    assert project(x, w).shape == (32, 16)\n"
            },
        )
    )
    add(
        Case(
            "f_pytest_sklearn_string_dtype",
            "python_tests",
            f"{PYTEST} -p no:cacheprovider tests",
            label("test_failure", "pytest-failure", ["could not convert string to float"]),
            files={
                "tests/test_train.py": "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n\n\ndef test_fit_on_raw_features():\n    X = np.array([[1.0, 'red'], [2.0, 'blue'], [3.0, 'red']], dtype=object)\n    y = [0, 1, 0]\n    model = LogisticRegression().fit(X, y)\n    assert model.score(X, y) > 0.5\n"
            },
        )
    )
    add(
        Case(
            "f_pytest_fixture_not_found",
            "python_tests",
            f"{PYTEST} tests",
            label("test_failure", "pytest-error", ["fixture 'trained_model' not found"]),
            files={
                "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef tiny_dataset():\n    return [(0, 1), (1, 0)]\n",
                "tests/test_predict.py": "def test_predict_shape(trained_model, tiny_dataset):\n    assert len(trained_model.predict(tiny_dataset)) == 2\n\n\ndef test_dataset(tiny_dataset):\n    assert len(tiny_dataset) == 2\n",
            },
        )
    )
    add(
        Case(
            "f_pytest_long_dict_diff",
            "python_tests",
            "python -m pytest -vv tests/test_metrics.py",
            label("test_failure", "pytest-assertion", ["assert {", "Differing items", "AssertionError"]),
            files={
                "tests/test_metrics.py": "def evaluate():\n    return {f'class_{i}': {'precision': round(0.9 - i / 100, 3), 'recall': 0.8, 'support': 100 + i} for i in range(12)}\n\n\ndef test_report_matches_golden():\n    golden = {f'class_{i}': {'precision': 0.9 - (i / 100 if i != 7 else 0.2), 'recall': 0.8, 'support': 100 + i} for i in range(12)}\n    assert evaluate() == golden\n"
            },
            crlf=True,
        )
    )
    add(
        Case(
            "f_pytest_hypothesis_falsified",
            "python_tests",
            f"{PYTEST} tests/test_props.py",
            label("test_failure", "pytest-failure", ["ZeroDivisionError", "Failing test case"]),
            files={
                "tests/test_props.py": "from hypothesis import given, settings, strategies as st\n\n\ndef normalise(xs):\n    total = sum(xs)\n    return [x / total for x in xs]\n\n\n@settings(deadline=None, database=None)\n@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1))\ndef test_normalise_sums_to_one(xs):\n    assert abs(sum(normalise(xs)) - 1.0) < 1e-9\n"
            },
        )
    )
    add(
        Case(
            "f_pytest_doctest",
            "python_tests",
            "python -m pytest --doctest-modules src/mlproj -q",
            label("test_failure", "doctest-failure", ["Expected:", "Got:", "::mlproj.metrics.precision"]),
            files={
                **PKG,
                "src/mlproj/metrics.py": 'def precision(tp: int, fp: int) -> float:\n    """Share of positive calls that were right.\n\n    >>> precision(1, 1)\n    0.5\n    >>> precision(1, 2)\n    0.5\n    """\n    return tp / (tp + fp)\n',
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "f_pytest_xdist_worker_crash",
            "python_tests",
            "python -m pytest -n 2 -p no:randomly tests",
            label("test_failure", "pytest-worker-crashed", ["crashed while running", "node down"]),
            files={
                "tests/test_native.py": "import ctypes\n\n\ndef test_fast_path():\n    ctypes.string_at(0)\n\n\ndef test_slow_path():\n    assert sum(range(10)) == 45\n",
                "tests/test_other.py": "def test_a():\n    assert True\n\n\ndef test_b():\n    assert 1 + 1 == 2\n",
            },
        )
    )
    add(
        Case(
            "f_pytest_coverage_gate",
            "python_tests",
            "python -m pytest --cov=mlproj --cov-fail-under=90 tests",
            label("test_failure", "coverage-threshold", ["Required test coverage of 90% not reached"]),
            files={
                **PKG,
                "src/mlproj/scale.py": "def scale(xs):\n    lo, hi = min(xs), max(xs)\n    if hi == lo:\n        return [0.0 for _ in xs]\n    return [(x - lo) / (hi - lo) for x in xs]\n\n\ndef clip(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n    return x\n",
                "tests/test_scale.py": "from mlproj.scale import scale\n\n\ndef test_scale():\n    assert scale([1, 3]) == [0.0, 1.0]\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "f_unittest_sklearn_api_change",
            "python_tests",
            "python -m unittest discover -s tests -v",
            label("test_failure", "unittest-failure", ["unexpected keyword argument 'sparse'"]),
            files={
                "tests/test_encode.py": "import unittest\n\nfrom sklearn.preprocessing import OneHotEncoder\n\n\nclass TestEncode(unittest.TestCase):\n    def test_one_hot(self):\n        enc = OneHotEncoder(sparse=False)\n        out = enc.fit_transform([['a'], ['b']])\n        self.assertEqual(out.shape, (2, 2))\n\n    def test_trivial(self):\n        self.assertTrue(True)\n"
            },
        )
    )
    add(
        Case(
            "f_pytest_futurewarning_as_error",
            "python_tests",
            "python -m pytest -W error::FutureWarning tests -q",
            label("test_failure", "pytest-failure", ["FutureWarning: 'penalty' was deprecated"]),
            files={
                "tests/test_clf.py": "from sklearn.linear_model import LogisticRegression\n\n\ndef test_fit():\n    model = LogisticRegression(penalty='l2').fit([[0.0], [1.0]], [0, 1])\n    assert model.predict([[1.0]])[0] == 1\n"
            },
        )
    )

    # ---------------------------------------------------------------- imports: distribution names, local names, API removals
    def missing(name: str, module: str, code: str, package: str | None, evidence: str, **extra: Any) -> None:
        ok = package is not None
        details: dict[str, Any] = {"module": module, **({"package": package} if package else {})}
        add(
            Case(
                name,
                "python_imports",
                extra.pop("script", "python -m pytest -q tests"),
                label(
                    "dependency_missing",
                    extra.pop("kind", "missing-python-module"),
                    [evidence],
                    fix_pr_ok=ok,
                    **details,
                ),
                files=extra.pop("files", {"tests/test_io.py": code}),
                env=extra.pop("env", venv("bare")),
                **extra,
            )
        )

    missing(
        "f_import_attrs",
        "attr",
        "import attr\n\n\n@attr.s\nclass Point:\n    x = attr.ib()\n\n\ndef test_point():\n    assert Point(1).x == 1\n",
        "attrs",
        "No module named 'attr'",
    )
    missing(
        "f_import_pycryptodome",
        "Crypto",
        "from Crypto.Cipher import AES\n\n\ndef test_key():\n    assert AES.block_size == 16\n",
        "pycryptodome",
        "No module named 'Crypto'",
    )
    missing(
        "f_import_skimage",
        "skimage",
        "from skimage.transform import resize\n\n\ndef test_resize():\n    assert resize is not None\n",
        "scikit-image",
        "No module named 'skimage'",
        crlf=True,
    )
    missing(
        "f_import_fitz_pymupdf",
        "fitz",
        "import fitz\n\n\ndef test_pdf():\n    assert fitz.open is not None\n",
        "PyMuPDF",
        "No module named 'fitz'",
    )
    missing(
        "f_import_docx",
        "docx",
        "from docx import Document\n\n\ndef test_doc():\n    assert Document is not None\n",
        "python-docx",
        "No module named 'docx'",
    )
    missing(
        "f_import_magic",
        "magic",
        "import magic\n\n\ndef test_mime():\n    assert magic.from_buffer(b'%PDF', mime=True)\n",
        "python-magic",
        "No module named 'magic'",
    )
    missing(
        "f_import_pkg_resources",
        "pkg_resources",
        "",
        "setuptools",
        "No module named 'pkg_resources'",
        script="python scripts/version.py",
        files={"scripts/version.py": "import pkg_resources\n\nprint(pkg_resources.get_distribution('pip').version)\n"},
        env=venv("nopip"),
        setup="python -c 'import sys, sysconfig; print(sys.version); print(sysconfig.get_paths())' && ls -R scripts",
    )
    missing(
        "f_import_local_src_cwd",
        "src",
        "",
        None,
        "No module named 'src'",
        kind="missing-local-module",
        script="cd tests && python -m pytest -q .",
        files={
            "src/__init__.py": "",
            "src/features.py": "def build(xs):\n    return [x * 2 for x in xs]\n",
            "tests/test_build.py": "from src.features import build\n\n\ndef test_build():\n    assert build([1]) == [2]\n",
        },
    )
    missing(
        "f_import_local_renamed_submodule",
        "mlproj.features.text",
        "",
        None,
        "No module named 'mlproj.features.text'",
        kind="missing-local-module",
        script="python -m mlproj.train",
        files={
            **PKG,
            "src/mlproj/features/__init__.py": "",
            "src/mlproj/features/tokenizers.py": "def tokenize(s):\n    return s.split()\n",
            "src/mlproj/train.py": "from mlproj.features.text import tokenize\n\nprint(tokenize('a b'))\n",
        },
        env={**venv("bare"), "PYTHONPATH": "src"},
    )
    missing(
        "f_nbconvert_local_module",
        "features",
        "",
        None,
        "No module named 'features'",
        kind="missing-local-module",
        script="jupyter nbconvert --to notebook --execute notebooks/features.ipynb --output /tmp/features-out.ipynb",
        files={
            "src/features.py": "def make_features(rows):\n    return rows\n",
            "notebooks/features.ipynb": notebook(
                ["import math", "from features import make_features\nmake_features([1, 2])"]
            ),
        },
        env={},
    )

    add(
        Case(
            "f_pandas_optional_openpyxl",
            "python_imports",
            "python -m mlproj.load data/labels.xlsx",
            label(
                "dependency_missing",
                "missing-python-module",
                ["Import openpyxl` failed", "No module named 'openpyxl'", "Missing optional dependency 'openpyxl'"],
                fix_pr_ok=True,
                package="openpyxl",
            ),
            files={
                **PKG,
                "src/mlproj/load.py": "import sys\n\nimport pandas as pd\n\nprint(pd.read_excel(sys.argv[1]).head())\n",
            },
            env={"PYTHONPATH": "src"},
            setup="mkdir -p data && python -c \"import zipfile; z = zipfile.ZipFile('data/labels.xlsx', 'w'); z.writestr('xl/workbook.xml', '<workbook/>'); z.close()\" && python -m pip list --format=columns",
        )
    )
    add(
        Case(
            "f_pandas_parquet_engine_missing",
            "python_imports",
            "python -m pytest -q tests",
            label(
                "dependency_missing",
                "missing-python-module",
                ["Unable to find a usable engine", "pyarrow is required for parquet support"],
                fix_pr_ok=True,
                package="pyarrow",
            ),
            files={
                "tests/test_export.py": "import pandas as pd\n\n\ndef test_roundtrip(tmp_path):\n    df = pd.DataFrame({'user': [1, 2], 'score': [0.1, 0.9]})\n    df.to_parquet(tmp_path / 'scores.parquet')\n    assert pd.read_parquet(tmp_path / 'scores.parquet').equals(df)\n"
            },
        )
    )
    add(
        Case(
            "f_optional_import_logged_then_assertion",
            "python_imports",
            "python -m pytest -q -o log_cli=true tests",
            label("test_failure", "pytest-assertion", ["assert 0.62 >= 0.8", "AssertionError"]),
            files={
                "tests/test_quality.py": "import logging\n\nlog = logging.getLogger('mlproj.tracking')\ntry:\n    import wandb\nexcept ImportError:\n    log.warning('experiment tracking disabled', exc_info=True)\n    wandb = None\n\n\ndef evaluate():\n    log.warning('evaluating on 50 rows')\n    return 0.62\n\n\ndef test_quality_gate():\n    assert evaluate() >= 0.8\n"
            },
        )
    )
    add(
        Case(
            "f_cuda_runtime_library_missing",
            "python_imports",
            "python -m mlproj.gpu_check",
            label("dependency_missing", "missing-system-library", ["libcudart.so.12: cannot open shared object file"]),
            files={
                **PKG,
                "src/mlproj/gpu_check.py": "import ctypes\n\nprint('loading CUDA runtime')\ncuda = ctypes.CDLL('libcudart.so.12')\nprint(cuda)\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )

    def api_change(
        name: str, code: str, evidence: list[str], kind: str = "python-import-name-error", **extra: Any
    ) -> None:
        add(
            Case(
                name,
                "python_imports",
                extra.pop("script", "python -m pytest -q tests"),
                label("dependency_resolution", kind, evidence),
                files=extra.pop("files", {"tests/test_api.py": code}),
                **extra,
            )
        )

    api_change(
        "f_import_name_markupsafe",
        "from markupsafe import soft_unicode\n\n\ndef test_escape():\n    assert soft_unicode('a') == 'a'\n",
        ["cannot import name 'soft_unicode' from 'markupsafe'"],
    )
    api_change(
        "f_import_name_sklearn_externals",
        "from sklearn.externals import joblib\n\n\ndef test_dump(tmp_path):\n    joblib.dump([1], tmp_path / 'x')\n",
        ["cannot import name 'joblib' from 'sklearn.externals'"],
    )
    api_change(
        "f_numpy_alias_removed",
        "import numpy as np\n\n\ndef to_float(xs):\n    return np.array(xs, dtype=np.float)\n\n\ndef test_to_float():\n    assert to_float([1, 2]).dtype.kind == 'f'\n",
        ["module 'numpy' has no attribute 'float'"],
        kind="python-attribute-removed",
    )
    api_change(
        "f_pydantic_basesettings_moved",
        "",
        ["BaseSettings` has been moved to the `pydantic-settings` package"],
        script="python -m mlproj.settings",
        files={
            **PKG,
            "src/mlproj/settings.py": "from pydantic import BaseSettings\n\n\nclass Settings(BaseSettings):\n    model_dir: str = 'models'\n\n\nprint(Settings())\n",
        },
        env={"PYTHONPATH": "src"},
        kind="python-module-moved",
    )
    api_change(
        "f_numpy2_binary_incompatible",
        "",
        ["numpy.dtype size changed, may indicate binary incompatibility", "compiled using NumPy 1.x cannot be run in"],
        script="python -c 'import pandas; print(pandas.__version__)'",
        files={},
        env=venv("np2"),
        kind="binary-incompatible",
    )

    # ---------------------------------------------------------------- pip and packaging
    add(
        Case(
            "f_pip_sklearn_deprecated_name",
            "pip_packaging",
            "python -m pip install -r requirements.txt",
            label("dependency_resolution", "pip-metadata-failed", ["The 'sklearn' PyPI package is deprecated"]),
            files={"requirements.txt": "numpy>=1.26\nsklearn\n"},
        )
    )
    add(
        Case(
            "f_pip_conflict_pandas_dateutil",
            "pip_packaging",
            "python -m pip install --dry-run --ignore-installed -r requirements.txt",
            label(
                "dependency_resolution",
                "pip-resolution-impossible",
                ["ResolutionImpossible", "The conflict is caused by", "Cannot install"],
            ),
            files={"requirements.txt": "pandas==2.2.2\npython-dateutil==2.7.0\n"},
        )
    )
    add(
        Case(
            "f_pip_editable_broken_toml",
            "pip_packaging",
            "python -m pip install -e .",
            label("syntax_error", "toml-syntax-error", ["TOMLDecodeError", "Invalid", "pyproject.toml"]),
            files={
                "pyproject.toml": PYPROJECT.replace('version = "0.1.0"', 'version = "0.1.0\nlicense = "MIT"'),
                "src/mlproj/__init__.py": "",
            },
        )
    )
    add(
        Case(
            "f_pip_requires_python",
            "pip_packaging",
            "python -m pip install .",
            label("dependency_resolution", "requires-python", ["requires a different Python"]),
            files={"pyproject.toml": PYPROJECT.replace('">=3.10"', '">=3.12"'), "src/mlproj/__init__.py": ""},
        )
    )
    add(
        Case(
            "f_pip_hash_mismatch",
            "pip_packaging",
            "python -m pip install --require-hashes --no-deps -r requirements.txt",
            label("dependency_resolution", "pip-hash-mismatch", ["DO NOT MATCH THE HASHES", "Expected sha256"]),
            files={
                "requirements.txt": "six==1.16.0 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
            },
        )
    )
    add(
        Case(
            "f_pip_cuda_local_version",
            "pip_packaging",
            "python -m pip install --dry-run torch==2.3.0+cu118",
            label("dependency_resolution", "pip-no-matching-distribution", ["torch==2.3.0+cu118"]),
        )
    )
    add(
        Case(
            "f_pytest_cov_plugin_missing",
            "pip_packaging",
            "python -m pytest --cov=mlproj --cov-report=xml tests",
            label("dependency_missing", "pytest-plugin-missing", ["unrecognized arguments: --cov"]),
            files={"tests/test_ok.py": "def test_ok():\n    assert True\n"},
            env=venv("bare"),
        )
    )
    add(
        Case(
            "f_pip_build_backend_unavailable",
            "pip_packaging",
            "python -m pip install --no-build-isolation -e .",
            label("dependency_missing", "build-backend-missing", ["No module named 'hatchling'", "BackendUnavailable"]),
            files={
                "pyproject.toml": PYPROJECT.replace('"setuptools.build_meta"', '"hatchling.build"'),
                "src/mlproj/__init__.py": "",
            },
        )
    )

    # ---------------------------------------------------------------- type checkers and linters
    add(
        Case(
            "f_mypy_missing_stubs",
            "lint_typecheck",
            "mypy --strict src",
            label("lint_failure", "mypy", ['Library stubs not installed for "yaml"']),
            files={
                **PKG,
                "src/mlproj/config.py": "import yaml\n\n\ndef load(path: str) -> dict[str, object]:\n    with open(path) as fh:\n        data: dict[str, object] = yaml.safe_load(fh)\n    return data\n",
            },
        )
    )
    add(
        Case(
            "f_mypy_unknown_internal_module",
            "lint_typecheck",
            "mypy src",
            label(
                "lint_failure", "mypy", ['Cannot find implementation or library stub for module named "feature_store"']
            ),
            files={
                **PKG,
                "src/mlproj/serve.py": "from feature_store import client\n\n\ndef fetch(key: str) -> object:\n    return client.get(key)\n",
            },
        )
    )
    add(
        Case(
            "f_mypy_type_errors",
            "lint_typecheck",
            "mypy --pretty src",
            label("lint_failure", "mypy", ["error: Incompatible", "error: Argument 1"]),
            files={
                **PKG,
                "src/mlproj/split.py": "def split(rows: list[int], ratio: float) -> tuple[list[int], list[int]]:\n    cut: int = len(rows) * ratio\n    return rows[:cut], rows[cut:]\n\n\ndef main() -> None:\n    split('abc', 0.8)\n",
            },
        )
    )
    add(
        Case(
            "f_ruff_github_annotations",
            "lint_typecheck",
            "ruff check --output-format=github .",
            label("lint_failure", "ruff", ["F401", "F841", "F821"]),
            files={
                **PKG,
                "src/mlproj/eval.py": "import os\nimport sys\n\n\ndef score(y, p):\n    unused = 3\n    return accuracy(y, p)\n",
            },
        )
    )
    add(
        Case(
            "f_black_isort_chain",
            "lint_typecheck",
            "isort --check-only --diff src && black --check src",
            label("lint_failure", "isort", ["Imports are incorrectly sorted"]),
            files={**PKG, "src/mlproj/io.py": "import sys\nimport os\n\nprint(os.sep, sys.argv)\n"},
        )
    )
    add(
        Case(
            "f_yamllint_configs",
            "lint_typecheck",
            "yamllint -f parsable configs/",
            label("lint_failure", "yamllint", ["[error]"]),
            files={"configs/train.yaml": "---\nmodel:\n  name: resnet\n  depth: 50   \nlr: 0.1\nlr: 0.2\n"},
        )
    )

    # ---------------------------------------------------------------- notebooks
    add(
        Case(
            "f_papermill_kernel_missing",
            "notebooks",
            "papermill notebooks/train.ipynb /tmp/train-out.ipynb -k conda-env-ml-py",
            label("infrastructure", "kernel-missing", ["No such kernel named conda-env-ml-py"]),
            files={"notebooks/train.ipynb": notebook(["print('hi')"])},
        )
    )
    add(
        Case(
            "f_nbconvert_inconsistent_samples",
            "notebooks",
            "jupyter nbconvert --to notebook --execute notebooks/model.ipynb --output /tmp/model-out.ipynb",
            label(
                "test_failure",
                "notebook-cell-error",
                ["Found input variables with inconsistent numbers of samples"],
                exception="ValueError",
            ),
            files={
                "notebooks/model.ipynb": notebook(
                    [
                        "import numpy as np\nfrom sklearn.linear_model import LinearRegression",
                        "X = np.random.rand(100, 3)\ny = np.random.rand(90)",
                        "LinearRegression().fit(X, y)",
                    ]
                )
            },
        )
    )

    # ---------------------------------------------------------------- configuration, data and credentials
    add(
        Case(
            "f_yaml_config_scanner_error",
            "config_data",
            "python train.py --config configs/train.yaml",
            label("syntax_error", "yaml-syntax-error", ["mapping values are not allowed here"]),
            files={
                "train.py": "import sys\n\nimport yaml\n\nwith open(sys.argv[2]) as fh:\n    cfg = yaml.safe_load(fh)\nprint(cfg['model'])\n",
                "configs/train.yaml": "model:\n  name: resnet\n  optimizer: adam\n  lr: 0.001 warmup: 100\n",
            },
        )
    )
    add(
        Case(
            "f_json_config_decode_error",
            "config_data",
            "python -m mlproj.train configs/params.json",
            label("syntax_error", "json-syntax-error", ["Expecting ',' delimiter", "JSONDecodeError"]),
            files={
                **PKG,
                "src/mlproj/train.py": "import json\nimport sys\n\nparams = json.load(open(sys.argv[1]))\nprint(params)\n",
                "configs/params.json": '{\n  "epochs": 10,\n  "lr": 0.01\n  "batch_size": 64\n}\n',
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "f_lfs_pointer_not_pulled",
            "config_data",
            "python -m pytest -q tests/test_model_artifact.py",
            label("data_missing", "lfs-pointer", ["invalid load key, 'v'"]),
            files={
                "models/model.pkl": "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 48213\n",
                "tests/test_model_artifact.py": "import pickle\n\n\ndef test_model_predicts():\n    with open('models/model.pkl', 'rb') as fh:\n        model = pickle.load(fh)\n    assert model.predict([[0.0, 1.0]]).shape == (1,)\n",
            },
        )
    )
    add(
        Case(
            "f_make_no_rule_for_data",
            "config_data",
            "make train",
            label("data_missing", "make-no-rule", ["No rule to make target 'data/processed/train.parquet'"]),
            files={"Makefile": "train: data/processed/train.parquet\n\tpython train.py $<\n"},
            setup="make --version",
        )
    )
    add(
        Case(
            "f_env_secret_missing",
            "config_data",
            "python -m mlproj.publish",
            label("permission_denied", "missing-secret", ["KeyError: 'MLFLOW_TRACKING_TOKEN'"]),
            files={
                **PKG,
                "src/mlproj/publish.py": "import os\n\ntoken = os.environ['MLFLOW_TRACKING_TOKEN']\nprint('publishing with', token[:3])\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "f_joblib_model_file_missing",
            "config_data",
            "python -m pytest -q tests",
            label("data_missing", "file-not-found", ["models/classifier.joblib"], path="models/classifier.joblib"),
            files={
                "tests/test_serve.py": "import joblib\n\n\ndef test_load():\n    model = joblib.load('models/classifier.joblib')\n    assert model is not None\n"
            },
        )
    )
    add(
        Case(
            "f_mlflow_unauthorized",
            "config_data",
            "python log_run.py",
            label("permission_denied", "http-401", ["401"]),
            files={
                "log_run.py": "import mlflow\n\nmlflow.set_experiment('churn')\nwith mlflow.start_run():\n    mlflow.log_metric('auc', 0.91)\n"
            },
            env={"MLFLOW_TRACKING_URI": mlflow, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
        )
    )
    add(
        Case(
            "f_mlflow_server_unreachable",
            "config_data",
            "python log_run.py",
            label("network_transient", "connection-refused", ["Connection refused", "Max retries exceeded"]),
            files={"log_run.py": "import mlflow\n\nmlflow.set_experiment('churn')\n"},
            env={
                "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
            },
        )
    )
    add(
        Case(
            "f_requests_dns_failure",
            "config_data",
            "python download.py",
            label(
                "network_transient",
                "dns-failure",
                [
                    "Failed to resolve",
                    "Name or service not known",
                    "Temporary failure in name resolution",
                    "NameResolutionError",
                ],
            ),
            files={
                "download.py": "import requests\n\nr = requests.get('https://huggingface.co/datasets/acme/reviews/resolve/main/train.csv', timeout=10)\nr.raise_for_status()\n"
            },
        )
    )

    # ---------------------------------------------------------------- node and npm
    add(
        Case(
            "f_node_relative_module_missing",
            "node",
            "node scripts/build-index.js",
            label("dependency_missing", "missing-node-file", ["Cannot find module './config/paths'"]),
            files={
                "scripts/build-index.js": "const paths = require('./config/paths');\nconsole.log(paths.out);\n",
                "package.json": '{"name": "site", "version": "1.0.0"}',
            },
            setup="node --version && npm --version",
        )
    )
    add(
        Case(
            "f_node_require_esm",
            "node",
            "node --no-experimental-require-module scripts/fetch-metrics.js",
            label("dependency_resolution", "require-esm", ["ERR_REQUIRE_ESM", "require() of ES Module"]),
            files={
                "scripts/fetch-metrics.js": "const fetch = require('node-fetch');\nfetch('http://127.0.0.1:9').catch(() => {});\n",
                "package.json": '{"name": "site", "version": "1.0.0", "dependencies": {"node-fetch": "^3.3.2"}}',
            },
            link_node_modules=True,
            setup="node --version && npm --version",
        )
    )
    add(
        Case(
            "f_npm_private_package_404",
            "node",
            "npm install --no-audit --no-fund",
            label(
                "dependency_resolution", "npm-package-not-found", ["404 Not Found", "@acme-ml-internal/feature-flags"]
            ),
            files={
                "package.json": json.dumps(
                    {
                        "name": "dash",
                        "version": "1.0.0",
                        "dependencies": {"@acme-ml-internal/feature-flags": "^1.2.0", "ms": "^2.1.3"},
                    },
                    indent=2,
                )
            },
            setup="node --version && npm --version",
        )
    )
    add(
        Case(
            "f_eslint_errors",
            "node",
            "npx eslint --no-eslintrc --env node --parser-options ecmaVersion:2022 --rule 'no-unused-vars: error' --rule 'no-undef: error' src",
            label("lint_failure", "eslint", ["no-unused-vars", "no-undef"]),
            files={
                "src/index.js": "const fs = require('fs');\nfunction score(a) {\n  return total + 1;\n}\nmodule.exports = { score };\n",
                "package.json": '{"name": "site", "version": "1.0.0"}',
            },
            link_node_modules=True,
            setup="node --version && npm --version",
        )
    )
    add(
        Case(
            "f_jest_snapshot_mismatch",
            "node",
            "npx jest --ci --color",
            label("test_failure", "jest-failure", ["toMatchSnapshot", "snapshot failed", "Snapshot"]),
            files={
                "package.json": '{"name": "site", "version": "1.0.0"}',
                "src/format.js": "module.exports = (m) => `AUC=${m.auc.toFixed(3)} F1=${m.f1.toFixed(2)}`;\n",
                "src/format.test.js": "const format = require('./format');\n\ntest('formats metrics', () => {\n  expect(format({ auc: 0.91234, f1: 0.8 })).toMatchSnapshot();\n});\n",
                "src/__snapshots__/format.test.js.snap": '// Jest Snapshot v1, https://goo.gl/fbAQLP\n\nexports[`formats metrics 1`] = `"AUC=0.91 F1=0.80"`;\n',
            },
            link_node_modules=True,
            setup="node --version && npm --version",
        )
    )

    # ---------------------------------------------------------------- shell, C and Rust steps
    add(
        Case(
            "f_shell_silent_grep",
            "shell_runtime",
            "echo checking model version\ngrep -q 'model_version: 3' configs/train.yaml\necho ok",
            label("unknown", "unknown", ["Process completed with exit code 1"]),
            files={"configs/train.yaml": "model_version: 2\n"},
        )
    )
    add(
        Case(
            "f_killed_sigkill_137",
            "shell_runtime",
            "python train.py",
            label("out_of_memory", "oom-killed", ["Killed", "exit code 137"]),
            files={
                "train.py": "import os, signal\n\nfor epoch in range(3):\n    print(f'epoch {epoch}: loss={1.0 / (epoch + 1):.3f}', flush=True)\nbuf = bytearray(64 * 1024 * 1024)\nos.kill(os.getpid(), signal.SIGKILL)\n"
            },
        )
    )
    add(
        Case(
            "f_c_compile_error",
            "shell_runtime",
            "make -C native",
            label("syntax_error", "c-compile-error", ["error: expected"]),
            files={
                "native/Makefile": "all: feat.o\n\nfeat.o: feat.c\n\tgcc -O2 -Wall -c feat.c -o feat.o\n",
                "native/feat.c": "int feat(int x) {\n    int y = x * 2\n    return y;\n}\n",
            },
            setup="gcc --version",
        )
    )
    add(
        Case(
            "f_cargo_type_error",
            "shell_runtime",
            "cargo build --offline --color always",
            label("syntax_error", "rust-compile-error", ["error[E0277]", "cannot divide"]),
            files={
                "Cargo.toml": '[package]\nname = "featsvc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
                "src/main.rs": 'fn mean(xs: &[f64]) -> f64 {\n    xs.iter().sum::<f64>() / xs.len()\n}\n\nfn main() {\n    println!("{}", mean(&[1.0, 2.0]));\n}\n',
            },
            setup="cargo --version && rustc --version",
            env={
                "CARGO_TARGET_DIR": str(SCRATCH / "cargo-target"),
                "CARGO_HOME": "/root/.cargo",
                "RUSTUP_HOME": "/root/.rustup",
                "PATH": f"/root/.cargo/bin:{BASE_PATH}",
            },
        )
    )
    add(
        Case(
            "f_cargo_clippy_deny",
            "shell_runtime",
            "cargo clippy --offline -- -D warnings",
            label("lint_failure", "clippy", ["error: length comparison to zero", "error: useless use of `vec!`"]),
            files={
                "Cargo.toml": '[package]\nname = "featsvc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
                "src/main.rs": 'fn main() {\n    let v = vec![1, 2, 3];\n    if v.len() == 0 {\n        return;\n    }\n    println!("{}", v.len());\n}\n',
            },
            setup="cargo --version && rustc --version",
            env={
                "CARGO_TARGET_DIR": str(SCRATCH / "cargo-target"),
                "CARGO_HOME": "/root/.cargo",
                "RUSTUP_HOME": "/root/.rustup",
                "PATH": f"/root/.cargo/bin:{BASE_PATH}",
            },
        )
    )
    add(
        Case(
            "f_curl_dns_failure",
            "shell_runtime",
            "curl -fsSL https://data.example-ml.internal/exports/train.csv -o data/train.csv",
            label("network_transient", "dns-failure", ["Could not resolve host"]),
            files={"data/.keep": ""},
        )
    )
    return out


class _MlflowStandIn(BaseHTTPRequestHandler):
    """Answers every tracking API call as a tracking server behind auth does: 401 with a plain body."""

    def _deny(self) -> None:
        body = b"You are not authenticated. Please see the documentation for details."
        self.send_response(401)
        self.send_header("Content-Type", "text/plain")
        self.send_header("WWW-Authenticate", 'Basic realm="mlflow"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _deny

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def stand_in() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MlflowStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def hosted_paths(data: bytes) -> bytes:
    """What the same job prints on a hosted runner: its workspace and tool-cache paths, not the scratch's."""
    for scratch, hosted in [
        (SCRATCH / "runner" / "work" / "mlproj" / "mlproj", "/home/runner/work/mlproj/mlproj"),
        (SCRATCH / "runner" / "work" / "_temp", "/home/runner/work/_temp"),
        (SCRATCH / "node" / "node_modules", "/home/runner/work/mlproj/mlproj/node_modules"),
        (SCRATCH / "cargo-target", "/home/runner/work/mlproj/mlproj/target"),
        *[(SCRATCH / name, HOSTED_PYTHON) for name in ("venv", "bare", "nopip", "np2", "np1")],
        (SCRATCH / "home", "/home/runner"),
        (SCRATCH / "npm-cache", "/home/runner/.npm"),
        ("../../../../venv/lib", f"{HOSTED_PYTHON}/lib"),
        ("/root/.pyenv/versions/3.11.7", HOSTED_PYTHON),
    ]:
        data = data.replace(str(scratch).encode(), hosted.encode())
    return data


def runner_commands(data: bytes) -> bytes:
    """What the runner writes for a workflow command a tool prints (``ruff --output-format=github``):
    ``::error file=...::message`` becomes ``##[error]message`` in the job log, ``%0A`` a new line."""
    lines = []
    for line in data.split(b"\n"):
        stamp, sep, text = line.partition(b"Z ")
        command = re.match(rb"^::(error|warning|notice)(?: [^:]*)?::(.*)$", text.rstrip(b"\r"))
        if sep and command is not None:
            message = command[2].replace(b"%0D", b"").replace(b"%25", b"%")
            parts = message.split(b"%0A")
            lines.append(stamp + sep + b"##[" + command[1] + b"]" + parts[0])
            lines += [stamp + sep + part for part in parts[1:]]
        else:
            lines.append(line)
    return b"\n".join(lines)


def produce(folder: Path, make_cases: Callable[[dict[str, int]], list[Case]], argv: list[str] | None = None) -> int:
    """Run every case (or ``--only`` some) for real, write ``<case>.log`` and its label into `folder`."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    labels_path = folder / "labels.json"
    labels: dict[str, Any] = json.loads(labels_path.read_text()) if labels_path.exists() else {}
    with stand_in() as mlflow:
        for seed, case in enumerate(make_cases({"mlflow": mlflow})):
            if args.only and case.name not in args.only:
                continue
            try:
                data = runner_commands(hosted_paths(render(case, seed + 200)))
            except Exception as error:  # keep going: report which cases could not be produced
                print(f"FAILED {case.name}: {error}", file=sys.stderr)
                continue
            (folder / f"{case.name}.log").write_bytes(data)
            labels[f"{case.name}.log"] = {"family": case.family, **case.label}
            print(f"{case.name}.log: {len(data.splitlines())} lines")
    labels_path.write_text(json.dumps(dict(sorted(labels.items())), indent=2, ensure_ascii=False) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    return produce(HERE, cases, argv)


if __name__ == "__main__":
    sys.exit(main())
