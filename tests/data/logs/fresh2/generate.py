# ruff: noqa: E501  (tool output and file contents are kept on one line each)
"""Regenerate the SECOND fresh blind corpus: made after the rules were fixed against ``fresh/``, to measure them.

``fresh/`` found classes of failure the rules missed and the rules were then changed with it in view, so
its figures after the fix say little. This half was built and labelled after that change and before any
of it was diagnosed: other tools and other messages of the same classes (configparser, g++, ``cargo
test``, ``tsc``, ``python -m build``, a legacy ``setup.py``, mypy's untyped-package report, pandas'
other optional dependencies, a namespace distribution), and a few new ones. Same framing and scratch as
``fresh/generate.py`` (see there); run from the repository root::

    python tests/data/logs/fresh2/generate.py [--only CASE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fresh"))

from generate import PKG, PYTEST, Case, label, produce, venv  # noqa: E402


def cases(ports: dict[str, int]) -> list[Case]:
    out: list[Case] = []
    add = out.append
    node = {"setup": "node --version && npm --version", "link_node_modules": True}

    add(
        Case(
            "g_configparser_no_section",
            "config_data",
            "python -m mlproj.serve",
            label(
                "syntax_error", "config-syntax-error", ["File contains no section headers", "MissingSectionHeaderError"]
            ),
            files={
                **PKG,
                "src/mlproj/serve.py": "import configparser\n\ncfg = configparser.ConfigParser()\ncfg.read('serve.ini')\nprint(cfg['server']['port'])\n",
                "serve.ini": "port = 8080\nhost = 0.0.0.0\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "g_pytest_json_fixture_broken",
            "config_data",
            f"{PYTEST} tests",
            label(
                "syntax_error",
                "config-syntax-error",
                ["Expecting property name enclosed in double quotes", "JSONDecodeError"],
            ),
            files={
                "tests/data/expected_metrics.json": "{'auc': 0.91, 'f1': 0.80}\n",
                "tests/test_metrics.py": "import json\nfrom pathlib import Path\n\n\ndef test_metrics_match_golden():\n    golden = json.loads((Path(__file__).parent / 'data' / 'expected_metrics.json').read_text())\n    assert golden['auc'] > 0.9\n",
            },
        )
    )
    add(
        Case(
            "g_gpp_compile_error",
            "compiled",
            "g++ -std=c++17 -O2 -c native/resize.cpp -o resize.o",
            label("syntax_error", "c-compile-error", ["does not name a type", "was not declared in this scope"]),
            files={
                "native/resize.cpp": "#include <cstddef>\n\nstd::size_t count(const vector<int>& xs) {\n    return xs.size();\n}\n"
            },
            setup="g++ --version",
        )
    )
    add(
        Case(
            "g_cargo_test_compile_error",
            "compiled",
            "cargo test --offline",
            label("syntax_error", "rust-compile-error", ["error[E0599]", "no method named"]),
            files={
                "Cargo.toml": '[package]\nname = "featsvc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
                "src/lib.rs": "pub fn mean(xs: &[f64]) -> f64 {\n    xs.iter().sum::<f64>() / xs.len() as f64\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn mean_of_two() {\n        assert_eq!(super::mean(&[1.0, 3.0]).rounded(), 2.0);\n    }\n}\n",
            },
            setup="cargo --version && rustc --version",
            env={
                "CARGO_TARGET_DIR": "/tmp/diagfresh/cargo-target",
                "CARGO_HOME": "/root/.cargo",
                "RUSTUP_HOME": "/root/.rustup",
                "PATH": "/root/.cargo/bin:/usr/local/bin:/usr/bin:/bin",
            },
        )
    )
    add(
        Case(
            "g_tsc_type_error",
            "compiled",
            "npx tsc --noEmit -p .",
            label("syntax_error", "typescript-compile-error", ["error TS2322"]),
            files={
                "package.json": '{"name": "dash", "version": "1.0.0"}',
                "tsconfig.json": '{"compilerOptions": {"strict": true, "target": "es2020", "module": "commonjs"}, "include": ["src"]}',
                "src/metrics.ts": "export function auc(scores: number[]): number {\n  const total: number = scores.join(',');\n  return total;\n}\n",
            },
            **node,
        )
    )
    add(
        Case(
            "g_sklearn_not_fitted",
            "python_tests",
            f"{PYTEST} tests",
            label("test_failure", "pytest-failure", ["NotFittedError", "is not fitted yet"]),
            files={
                "tests/test_pipeline.py": "from sklearn.preprocessing import StandardScaler\n\n\ndef test_transform():\n    scaler = StandardScaler()\n    assert scaler.transform([[1.0], [2.0]]).shape == (2, 1)\n"
            },
        )
    )
    add(
        Case(
            "g_legacy_setup_py_imports_numpy",
            "pip_packaging",
            "python -m pip install ./vendor/fastdist",
            label("dependency_missing", "missing-build-dependency", ["No module named 'numpy'"]),
            files={
                "vendor/fastdist/setup.py": "import numpy\nfrom setuptools import setup\n\nsetup(name='fastdist', version='0.1', include_dirs=[numpy.get_include()])\n"
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "g_pytest_timeout_option_missing",
            "pip_packaging",
            "python -m pytest --timeout=300 tests",
            label("dependency_missing", "pytest-plugin-missing", ["unrecognized arguments: --timeout"]),
            files={"tests/test_ok.py": "def test_ok():\n    assert True\n"},
            env=venv("bare"),
        )
    )
    add(
        Case(
            "g_mypy_untyped_installed_package",
            "lint_typecheck",
            "mypy src",
            label("lint_failure", "mypy", ['Skipping analyzing "sklearn', "missing library stubs or py.typed marker"]),
            files={
                **PKG,
                "src/mlproj/model.py": "from sklearn.linear_model import LogisticRegression\n\n\ndef make() -> LogisticRegression:\n    return LogisticRegression()\n",
            },
        )
    )
    add(
        Case(
            "g_pytest_strict_markers",
            "python_tests",
            "python -m pytest --strict-markers tests",
            label("test_failure", "pytest-error", ["'slow' not found in `markers` configuration option"]),
            files={
                "tests/test_train.py": "import pytest\n\n\n@pytest.mark.slow\ndef test_full_training():\n    assert True\n"
            },
        )
    )
    add(
        Case(
            "g_pypa_build_backend_missing",
            "pip_packaging",
            "python -m build --no-isolation --wheel",
            label(
                "dependency_missing",
                "build-backend-missing",
                ["Backend 'hatchling.build' is not available", "hatchling"],
            ),
            files={
                "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n[project]\nname = "mlproj"\nversion = "0.1.0"\n',
                "src/mlproj/__init__.py": "",
            },
        )
    )
    add(
        Case(
            "g_pip_invalid_requirement",
            "pip_packaging",
            "python -m pip install -r requirements.txt",
            label("syntax_error", "requirement-syntax", ["Invalid requirement: 'numpy=1.26.4'"]),
            files={"requirements.txt": "pandas>=2.0\nnumpy=1.26.4\n"},
        )
    )
    add(
        Case(
            "g_pandas_tabulate_missing",
            "python_imports",
            "python -m mlproj.report",
            label(
                "dependency_missing",
                "missing-python-module",
                ["`Import tabulate` failed", "No module named 'tabulate'"],
                fix_pr_ok=True,
                package="tabulate",
            ),
            files={
                **PKG,
                "src/mlproj/report.py": "import pandas as pd\n\nprint(pd.DataFrame({'model': ['a'], 'auc': [0.9]}).to_markdown())\n",
            },
            env={"PYTHONPATH": "src"},
        )
    )
    add(
        Case(
            "g_import_ruamel_yaml",
            "python_imports",
            "python -m pytest -q tests",
            label(
                "dependency_missing",
                "missing-python-module",
                ["No module named 'ruamel'"],
                fix_pr_ok=True,
                package="ruamel.yaml",
            ),
            files={
                "tests/test_cfg.py": "from ruamel.yaml import YAML\n\n\ndef test_load():\n    assert YAML(typ='safe').load('a: 1') == {'a': 1}\n"
            },
            env=venv("bare"),
        )
    )
    add(
        Case(
            "g_np_load_lfs_pointer",
            "config_data",
            "python -m pytest -q tests",
            label("data_missing", "lfs-pointer", ["This file contains pickled (object) data"]),
            files={
                "data/embeddings.npy": "version https://git-lfs.github.com/spec/v1\noid sha256:9b1f0c3d0d8a7f5e2f3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0\nsize 4096128\n",
                "tests/test_embeddings.py": "import numpy as np\n\n\ndef test_embedding_dim():\n    emb = np.load('data/embeddings.npy')\n    assert emb.shape[1] == 768\n",
            },
        )
    )
    add(
        Case(
            "g_recursion_error",
            "python_tests",
            f"{PYTEST} tests",
            label("test_failure", "pytest-failure", ["RecursionError", "maximum recursion depth exceeded"]),
            files={
                "tests/test_tree.py": "def depth(node):\n    return 1 + max((depth(c) for c in node['children']), default=0)\n\n\ndef test_cyclic_tree():\n    a = {'children': []}\n    a['children'].append(a)\n    assert depth(a) > 0\n"
            },
        )
    )
    add(
        Case(
            "g_requests_401_registry",
            "config_data",
            "python push_model.py",
            label("permission_denied", "http-401", ["401 Client Error: Unauthorized"]),
            files={
                "push_model.py": f"import requests\n\nr = requests.post('http://127.0.0.1:{ports['mlflow']}/api/2.0/mlflow/registered-models/create', json={{'name': 'churn'}}, timeout=10)\nr.raise_for_status()\n"
            },
        )
    )
    return out


if __name__ == "__main__":
    sys.exit(produce(HERE, cases))
