"""Adding a missing package to the dependency file a repository really uses, in that file's style."""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_bot.healing.dependency_files import (
    DEPENDENCY_FILE_CANDIDATES,
    DEPENDENCY_FILES_BY_ECOSYSTEM,
    add_dependency,
    canonical_name,
    choose_dependency_file,
    declared_packages,
)

# The shape of scikit-learn's pyproject.toml: two-space items, trailing comma, unsorted, extras inline.
SKLEARN_PYPROJECT = """\
[project]
name = "scikit-learn"
dynamic = ["version"]
description = "A set of python modules for machine learning and data mining"
maintainers = [
    {name = "scikit-learn developers", email="scikit-learn@python.org"},
]
dependencies = [
  "numpy>=1.24.1",
  "scipy>=1.10.0",
  "joblib>=1.3.0",
  "threadpoolctl>=3.2.0",
]
requires-python = ">=3.10"

[project.optional-dependencies]
benchmark = ["matplotlib>=3.6.1", "pandas>=1.5.0", "memory_profiler>=0.57.0"]
tests = [
    "pytest>=7.1.2",
    "pytest-cov>=2.9.0",
]

[build-system]
build-backend = "mesonpy"
# Minimum requirements for the build system to execute.
requires = [
    "meson-python>=0.17.1",
    "Cython>=3.1.2",
]
"""

# A uv/hatch-style project: sorted, four-space items, comments inside the array.
SORTED_PYPROJECT = """\
[project]
name = "churn-model"
version = "0.3.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi>=0.110",
    # 2.x changed the pickle format of fitted models: retrain before lifting this.
    "lightgbm<5",
    "pandas>=2.1",
    "pydantic>=2.6",
]

[tool.ruff]
line-length = 100
"""

POETRY_PYPROJECT = """\
[tool.poetry]
name = "inference-service"
version = "0.1.0"
description = ""
authors = ["ML Platform <ml@example.com>"]

[tool.poetry.dependencies]
python = "^3.11"
fastapi = "^0.110.0"
pydantic = "^2.6.4"
# the ASGI server the container runs
uvicorn = {extras = ["standard"], version = "^0.29.0"}

[tool.poetry.group.dev.dependencies]
pytest = "^8.1.1"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""

# A conda environment with a pip section (the layout `conda env export` users keep by hand).
CONDA_ENVIRONMENT = """\
name: training
channels:
  - pytorch
  - conda-forge
dependencies:
  - python=3.11
  - numpy>=1.26
  - pandas
  - pytorch::pytorch=2.2  # CUDA 12.1 build
  - pip
  - pip:
    - mlflow==2.11.1
    - wandb
    - -r requirements-extra.txt
"""

# What create-react-app writes: two-space indentation, sorted dependencies, trailing newline.
CRA_PACKAGE_JSON = """\
{
  "name": "model-dashboard",
  "version": "0.1.0",
  "private": true,
  "dependencies": {
    "@testing-library/jest-dom": "^5.17.0",
    "@testing-library/react": "^13.4.0",
    "@testing-library/user-event": "^13.5.0",
    "react": "^18.2.0",
    "react-dom": "^18.2.0",
    "react-scripts": "5.0.1",
    "web-vitals": "^2.1.4"
  },
  "scripts": {
    "start": "react-scripts start",
    "build": "react-scripts build",
    "test": "react-scripts test",
    "eject": "react-scripts eject"
  },
  "eslintConfig": {
    "extends": [
      "react-app",
      "react-app/jest"
    ]
  }
}
"""

PINNED_REQUIREMENTS = """\
# Training image dependencies (keep pinned: the model registry records these versions)
numpy==1.26.4
pandas==2.2.1
scikit-learn==1.4.1.post1
xgboost==2.0.3
"""

SETUP_CFG = """\
[metadata]
name = feature-store-client
version = 1.4.0

[options]
packages = find:
python_requires = >=3.9
install_requires =
    click>=8
    # the HTTP client; 2.32.0 broke proxies for us
    requests>=2.31,!=2.32.0
    rich>=13

[options.extras_require]
test =
    pytest>=8

[flake8]
max-line-length = 100
"""


def added_lines(diff: str) -> list[str]:
    return [
        line[1:].rstrip("\r\n") for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    ]


# --------------------------------------------------------------------------------------------------
# Choosing the file


def test_candidates_list_every_probed_path_in_probe_order() -> None:
    assert DEPENDENCY_FILE_CANDIDATES[:4] == (
        "requirements.txt",
        "requirements/base.txt",
        "requirements/prod.txt",
        "pyproject.toml",
    )
    assert DEPENDENCY_FILE_CANDIDATES.index("requirements-dev.txt") > DEPENDENCY_FILE_CANDIDATES.index(
        "environment.yaml"
    )
    assert DEPENDENCY_FILES_BY_ECOSYSTEM["node"] == ("package.json",)
    assert set(DEPENDENCY_FILE_CANDIDATES) == {p for paths in DEPENDENCY_FILES_BY_ECOSYSTEM.values() for p in paths}


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        pytest.param(
            {"requirements.txt": "-e .\n", "pyproject.toml": SKLEARN_PYPROJECT},
            "pyproject.toml",
            id="requirements-that-only-installs-the-project-defers-to-pyproject",
        ),
        pytest.param(
            {"requirements.txt": "-e .[dev]\npre-commit\n", "pyproject.toml": POETRY_PYPROJECT},
            "pyproject.toml",
            id="poetry-table-over-requirements-installing-the-project",
        ),
        pytest.param(
            {"requirements.txt": "flask\ngunicorn\n", "pyproject.toml": "[tool.ruff]\nline-length = 100\n"},
            "requirements.txt",
            id="pyproject-without-dependency-list",
        ),
        pytest.param(
            {"requirements.txt": PINNED_REQUIREMENTS, "pyproject.toml": SORTED_PYPROJECT},
            "requirements.txt",
            id="hand-written-requirements-are-what-pip-install-r-reads",
        ),
        pytest.param(
            {
                "requirements.txt": "# This file is autogenerated by pip-compile with Python 3.11\n"
                "numpy==1.26.4\n    # via churn-model (pyproject.toml)\n",
                "pyproject.toml": SORTED_PYPROJECT,
            },
            "pyproject.toml",
            id="generated-lock-defers-to-its-source",
        ),
        pytest.param(
            {
                "requirements.txt": "-r requirements/prod.txt\n",
                "requirements/prod.txt": "-r base.txt\ngunicorn==21.2.0\n",
                "requirements/base.txt": "django==5.0.3\n",
            },
            "requirements/prod.txt",
            id="root-file-that-only-includes-resolves-to-the-included-list",
        ),
        pytest.param(
            {
                "pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies", "version"]\n\n'
                '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements/base.txt"]}\n',
                "requirements/base.txt": "numpy\n",
                "requirements.txt": "numpy==1.26.4\n",
            },
            "requirements/base.txt",
            id="setuptools-dynamic-dependencies-name-the-file",
        ),
        pytest.param(
            {"setup.cfg": SETUP_CFG, "requirements.txt": "-e .\n"},
            "setup.cfg",
            id="setup-cfg-install-requires",
        ),
        pytest.param({"environment.yml": CONDA_ENVIRONMENT}, "environment.yml", id="conda-project"),
        pytest.param(
            {"environment.yaml": "name: x\ndependencies:\n  - numpy\n", "pyproject.toml": "[tool.black]\n"},
            "environment.yaml",
            id="conda-project-yaml-extension",
        ),
        pytest.param(
            {
                "environment.yml": "dependencies:\n  - pip\n  - pip:\n    - -r requirements.txt\n",
                "requirements.txt": "torch\n",
            },
            "requirements.txt",
            id="conda-pip-section-including-requirements",
        ),
        pytest.param({"requirements-dev.txt": "pytest\n"}, "requirements-dev.txt", id="dev-file-when-alone"),
        pytest.param(
            {"requirements-dev.txt": "pytest\n", "requirements.txt": "# nothing yet\n"},
            "requirements.txt",
            id="dev-file-never-when-another-exists",
        ),
        pytest.param(
            {"pyproject.toml": '[project]\nname = "x"\nversion = "1.0"\n'},
            "pyproject.toml",
            id="project-table-can-take-a-first-dependency",
        ),
        pytest.param({"package.json": CRA_PACKAGE_JSON}, None, id="no-python-file"),
        pytest.param({}, None, id="nothing"),
    ],
)
def test_choose_python_dependency_file(existing: dict[str, str], expected: str | None) -> None:
    assert choose_dependency_file(existing, "python") == expected


def test_choose_node_dependency_file() -> None:
    assert choose_dependency_file({"package.json": CRA_PACKAGE_JSON, "requirements.txt": "x\n"}, "node") == (
        "package.json"
    )
    assert choose_dependency_file({"requirements.txt": "x\n"}, "node") is None
    assert choose_dependency_file({"package.json": "{ not json"}, "node") is None


# --------------------------------------------------------------------------------------------------
# requirements*.txt


def test_sorted_requirements_get_the_package_in_alphabetical_position() -> None:
    edit = add_dependency("requirements.txt", PINNED_REQUIREMENTS, "matplotlib", "3.8.3")
    assert edit is not None
    assert edit.new_content == PINNED_REQUIREMENTS.replace("numpy==", "matplotlib==3.8.3\nnumpy==")
    assert edit.added_line == "matplotlib==3.8.3"
    assert edit.note is None
    assert added_lines(edit.diff) == ["matplotlib==3.8.3"]
    assert edit.diff.startswith("--- a/requirements.txt\n+++ b/requirements.txt\n")


def test_pinned_file_gets_an_unpinned_line_and_a_note_when_no_version_is_known() -> None:
    edit = add_dependency("requirements.txt", PINNED_REQUIREMENTS, "seaborn")
    assert edit is not None
    assert "seaborn\nxgboost==2.0.3\n" in edit.new_content
    assert edit.note is not None and "unpinned" in edit.note


def test_unsorted_requirements_get_the_package_appended() -> None:
    content = "torch==2.2.1\ntransformers==4.38.2\ndatasets==2.18.0\n"
    edit = add_dependency("requirements.txt", content, "accelerate", ">=0.27")
    assert edit is not None
    assert edit.new_content == content + "accelerate>=0.27\n"


def test_file_without_final_newline_stays_without_one() -> None:
    edit = add_dependency("requirements.txt", "torch\ntransformers\ndatasets", "accelerate")
    assert edit is not None
    assert edit.new_content == "torch\ntransformers\ndatasets\naccelerate"
    assert "\\ No newline at end of file" in edit.diff


def test_windows_line_endings_are_kept() -> None:
    content = PINNED_REQUIREMENTS.replace("\n", "\r\n")
    edit = add_dependency("requirements.txt", content, "polars", "0.20.16")
    assert edit is not None
    assert edit.new_content == content.replace("scikit-learn==", "polars==0.20.16\r\nscikit-learn==")
    assert "\n" not in edit.new_content.replace("\r\n", "")


def test_comments_describing_an_entry_move_with_it_and_section_headers_stay() -> None:
    content = "# core\nnumpy==1.26.4\n# 2.2 drops the legacy parser we use\npandas==2.1.4\n\n# plots\nseaborn==0.13.2\n"
    edit = add_dependency("requirements.txt", content, "orjson", "3.10.0")
    assert edit is not None
    assert edit.new_content == content.replace("# 2.2 drops", "orjson==3.10.0\n# 2.2 drops")
    edit = add_dependency("requirements.txt", content, "aiohttp", "3.9.3")
    assert edit is not None
    assert edit.new_content.startswith("# core\naiohttp==3.9.3\nnumpy==1.26.4\n")


@pytest.mark.parametrize(
    ("content", "package"),
    [
        pytest.param("Scikit_Learn==1.4.1\n", "scikit-learn", id="case-and-underscore"),
        pytest.param("ruamel.yaml==0.18.6\n", "ruamel-yaml", id="dot"),
        pytest.param("uvicorn[standard]>=0.29\n", "uvicorn", id="extras"),
        pytest.param("uvicorn\n", "uvicorn[standard]", id="requested-with-extras"),
        pytest.param('tomli>=1.1.0; python_version < "3.11"\n', "tomli", id="marker"),
        pytest.param("requests  # HTTP\n", "requests", id="inline-comment"),
        pytest.param("requests \\\n    >=2.31 \\\n    --hash=sha256:abc\n", "requests", id="continuation-and-hash"),
        pytest.param("-e git+https://github.com/org/feature-lib.git@v1.2#egg=feature_lib\n", "feature-lib", id="egg"),
        pytest.param("mylib @ https://example.com/mylib-1.0.tar.gz\n", "mylib", id="direct-reference"),
        pytest.param("https://files.example.com/wheels/my_wheel-1.0-py3-none-any.whl\n", "my-wheel", id="wheel-url"),
    ],
)
def test_a_package_already_declared_is_not_added_again(content: str, package: str) -> None:
    assert add_dependency("requirements.txt", content, package) is None


def test_a_commented_out_package_is_not_declared() -> None:
    edit = add_dependency("requirements.txt", "# torch==2.2.1\nnumpy\n", "torch")
    assert edit is not None
    assert edit.new_content == "# torch==2.2.1\nnumpy\ntorch\n"


def test_packages_declared_in_an_included_file_count_when_its_content_is_known() -> None:
    content = "-r base.txt\ngunicorn==21.2.0\n"
    others = {"requirements/base.txt": "django==5.0.3\npsycopg[binary]==3.1.18\n"}
    assert add_dependency("requirements/prod.txt", content, "Django", others=others) is None
    assert add_dependency("requirements/prod.txt", content, "psycopg", others=others) is None
    edit = add_dependency("requirements/prod.txt", content, "sentry-sdk", "1.43.0", others=others)
    assert edit is not None and edit.new_content == content + "sentry-sdk==1.43.0\n"
    assert declared_packages("requirements/prod.txt", content) == {"gunicorn"}


def test_options_and_includes_are_kept_and_not_taken_for_packages() -> None:
    content = "--extra-index-url https://download.pytorch.org/whl/cu121\n-r base.txt\n-c constraints.txt\ntorch\n"
    edit = add_dependency("requirements.txt", content, "torchvision")
    assert edit is not None
    assert edit.new_content == content + "torchvision\n"


def test_a_hash_locked_file_is_not_edited() -> None:
    content = "numpy==1.26.4 \\\n    --hash=sha256:2a02aba9ed12e4ac4eb3ea9421c420301a0c6460d9830d74a9df87efa4912010\n"
    assert add_dependency("requirements.txt", content, "pandas") is None


def test_empty_requirements_file_gets_its_first_line() -> None:
    edit = add_dependency("requirements.txt", "", "numpy")
    assert edit is not None and edit.new_content == "numpy\n"


# --------------------------------------------------------------------------------------------------
# pyproject.toml, PEP 621


def test_pep621_multi_line_array_keeps_indentation_and_trailing_comma() -> None:
    edit = add_dependency("pyproject.toml", SKLEARN_PYPROJECT, "polars", ">=0.20.30")
    assert edit is not None
    assert edit.new_content == SKLEARN_PYPROJECT.replace(
        '  "threadpoolctl>=3.2.0",\n', '  "threadpoolctl>=3.2.0",\n  "polars>=0.20.30",\n'
    )
    assert edit.added_line == '"polars>=0.20.30"'
    document = tomllib.loads(edit.new_content)
    assert document["project"]["dependencies"][-1] == "polars>=0.20.30"
    assert document["build-system"] == tomllib.loads(SKLEARN_PYPROJECT)["build-system"]


def test_pep621_sorted_array_gets_alphabetical_position_and_comments_stay() -> None:
    edit = add_dependency("pyproject.toml", SORTED_PYPROJECT, "mlflow-skinny", "2.11.1")
    assert edit is not None
    assert edit.new_content == SORTED_PYPROJECT.replace(
        '    "pandas>=2.1",', '    "mlflow-skinny==2.11.1",\n    "pandas>=2.1",'
    )
    assert tomllib.loads(edit.new_content)["project"]["dependencies"] == [
        "fastapi>=0.110",
        "lightgbm<5",
        "mlflow-skinny==2.11.1",
        "pandas>=2.1",
        "pydantic>=2.6",
    ]


def test_pep621_entry_described_by_a_comment_keeps_its_comment() -> None:
    edit = add_dependency("pyproject.toml", SORTED_PYPROJECT, "jinja2")
    assert edit is not None
    assert '    "fastapi>=0.110",\n    "jinja2",\n    # 2.x changed' in edit.new_content


def test_pep621_array_without_trailing_comma_stays_without_one() -> None:
    content = SKLEARN_PYPROJECT.replace('"threadpoolctl>=3.2.0",\n]', '"threadpoolctl>=3.2.0"\n]')
    edit = add_dependency("pyproject.toml", content, "polars")
    assert edit is not None
    assert '  "threadpoolctl>=3.2.0",\n  "polars"\n]' in edit.new_content
    assert added_lines(edit.diff) == ['  "threadpoolctl>=3.2.0",', '  "polars"']


@pytest.mark.parametrize(
    ("line", "package", "expected"),
    [
        pytest.param(
            'dependencies = ["attrs>=23", "requests>=2.31"]  # runtime only',
            "httpx",
            'dependencies = ["attrs>=23", "httpx", "requests>=2.31"]  # runtime only',
            id="single-line-sorted",
        ),
        pytest.param(
            "dependencies = ['requests', 'attrs']",
            "click",
            "dependencies = ['requests', 'attrs', 'click']",
            id="single-line-single-quotes-unsorted",
        ),
        pytest.param("dependencies = []", "click", 'dependencies = ["click"]', id="empty"),
        pytest.param(
            'dependencies = ["attrs",\n                "requests"]',
            "urllib3",
            'dependencies = ["attrs",\n                "requests",\n                "urllib3"]',
            id="hanging",
        ),
    ],
)
def test_pep621_array_layouts(line: str, package: str, expected: str) -> None:
    content = f'[project]\nname = "tool"\nversion = "1.0"\n{line}\n'
    edit = add_dependency("pyproject.toml", content, package)
    assert edit is not None
    assert edit.new_content == f'[project]\nname = "tool"\nversion = "1.0"\n{expected}\n'
    tomllib.loads(edit.new_content)


def test_pep621_dependencies_array_is_created_when_the_project_has_none() -> None:
    content = '[project]\nname = "tool"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 100\n'
    edit = add_dependency("pyproject.toml", content, "click")
    assert edit is not None
    assert edit.new_content == (
        '[project]\nname = "tool"\nversion = "1.0"\ndependencies = [\n    "click",\n]\n'
        "\n[tool.ruff]\nline-length = 100\n"
    )


def test_pep621_with_dynamic_dependencies_is_not_edited() -> None:
    content = '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
    assert add_dependency("pyproject.toml", content, "click") is None


@pytest.mark.parametrize("package", ["NumPy", "joblib", "memory-profiler", "pytest_cov", "threadpoolctl[x]"])
def test_pyproject_packages_declared_in_dependencies_or_extras_are_not_added(package: str) -> None:
    assert add_dependency("pyproject.toml", SKLEARN_PYPROJECT, package) is None


def test_pyproject_windows_line_endings_are_kept() -> None:
    content = SORTED_PYPROJECT.replace("\n", "\r\n")
    edit = add_dependency("pyproject.toml", content, "structlog")
    assert edit is not None
    assert edit.new_content == SORTED_PYPROJECT.replace(
        '    "pydantic>=2.6",\n', '    "pydantic>=2.6",\n    "structlog",\n'
    ).replace("\n", "\r\n")
    tomllib.loads(edit.new_content)


def test_broken_pyproject_is_not_edited() -> None:
    assert add_dependency("pyproject.toml", '[project]\ndependencies = ["a"\n', "b") is None


# --------------------------------------------------------------------------------------------------
# pyproject.toml, Poetry


def test_poetry_dependency_goes_in_alphabetical_position_after_python() -> None:
    edit = add_dependency("pyproject.toml", POETRY_PYPROJECT, "httpx")
    assert edit is not None
    assert edit.new_content == POETRY_PYPROJECT.replace('pydantic = "^2.6.4"', 'httpx = "*"\npydantic = "^2.6.4"')
    assert edit.added_line == 'httpx = "*"'
    assert tomllib.loads(edit.new_content)["tool"]["poetry"]["dependencies"]["httpx"] == "*"


def test_poetry_dependency_after_a_commented_entry_lands_before_the_comment() -> None:
    edit = add_dependency("pyproject.toml", POETRY_PYPROJECT, "structlog", "^24.1")
    assert edit is not None
    assert 'pydantic = "^2.6.4"\nstructlog = "^24.1"\n# the ASGI server' in edit.new_content


def test_poetry_dotted_name_is_quoted_and_extras_use_an_inline_table() -> None:
    edit = add_dependency("pyproject.toml", POETRY_PYPROJECT, "zope.interface", "6.2")
    assert edit is not None
    assert '"zope.interface" = "==6.2"\n\n[tool.poetry.group.dev.dependencies]' in edit.new_content
    edit = add_dependency("pyproject.toml", POETRY_PYPROJECT, "celery[redis]")
    assert edit is not None
    table = tomllib.loads(edit.new_content)["tool"]["poetry"]["dependencies"]
    assert table["celery"] == {"version": "*", "extras": ["redis"]}


def test_poetry_aligned_equals_signs_stay_aligned() -> None:
    content = '[tool.poetry.dependencies]\npython   = "^3.11"\nnumpy    = "^1.26"\nrequests = "^2.31"\n'
    edit = add_dependency("pyproject.toml", content, "scipy")
    assert edit is not None
    assert edit.new_content == content.replace('requests = "^2.31"\n', 'requests = "^2.31"\nscipy    = "*"\n')


def test_poetry_group_dependency_counts_as_declared() -> None:
    assert add_dependency("pyproject.toml", POETRY_PYPROJECT, "PyTest") is None


# --------------------------------------------------------------------------------------------------
# setup.cfg


def test_setup_cfg_install_requires_gets_the_package_in_order_and_parses() -> None:
    edit = add_dependency("setup.cfg", SETUP_CFG, "pyyaml", ">=6")
    assert edit is not None
    assert edit.new_content == SETUP_CFG.replace("    # the HTTP client", "    pyyaml>=6\n    # the HTTP client")
    parser = configparser.ConfigParser()
    parser.read_string(edit.new_content)
    assert parser.get("options", "install_requires").split() == [
        "click>=8",
        "pyyaml>=6",
        "requests>=2.31,!=2.32.0",
        "rich>=13",
    ]


def test_setup_cfg_extras_count_as_declared() -> None:
    assert add_dependency("setup.cfg", SETUP_CFG, "pytest") is None
    assert add_dependency("setup.cfg", SETUP_CFG, "Requests") is None


# --------------------------------------------------------------------------------------------------
# environment.yml


def test_conda_environment_with_pip_section_gets_the_package_under_pip() -> None:
    edit = add_dependency("environment.yml", CONDA_ENVIRONMENT, "optuna", "3.6.0")
    assert edit is not None
    assert edit.new_content == CONDA_ENVIRONMENT.replace("    - wandb\n", "    - optuna==3.6.0\n    - wandb\n")
    assert edit.added_line == "- optuna==3.6.0"
    pip = yaml.safe_load(edit.new_content)["dependencies"][-1]["pip"]
    assert pip == ["mlflow==2.11.1", "optuna==3.6.0", "wandb", "-r requirements-extra.txt"]


def test_conda_environment_without_pip_section_gets_a_conda_dependency() -> None:
    content = "name: eda\nchannels:\n- conda-forge\ndependencies:\n- matplotlib\n- numpy\n- scipy\n"
    edit = add_dependency("environment.yml", content, "pandas")
    assert edit is not None
    assert edit.new_content == content.replace("- scipy", "- pandas\n- scipy")
    assert yaml.safe_load(edit.new_content)["dependencies"] == ["matplotlib", "numpy", "pandas", "scipy"]


def test_conda_pip_section_with_its_own_deeper_indentation_keeps_it() -> None:
    content = "dependencies:\n  - python=3.11\n  - pip:\n      - mlflow==2.11.1  # tracking\n      - wandb\n"
    edit = add_dependency("environment.yml", content, "optuna")
    assert edit is not None
    assert edit.new_content == content.replace("      - wandb", "      - optuna\n      - wandb")


def test_conda_environment_with_another_mapping_in_dependencies_is_not_edited() -> None:
    assert add_dependency("environment.yml", "dependencies:\n  - numpy\n  - other: [x]\n", "pandas") is None


@pytest.mark.parametrize("package", ["Pandas", "pytorch", "MLflow", "numpy"])
def test_conda_packages_already_declared_are_not_added(package: str) -> None:
    assert add_dependency("environment.yml", CONDA_ENVIRONMENT, package) is None


def test_conda_pip_include_counts_when_its_content_is_known() -> None:
    others = {"requirements-extra.txt": "torch_geometric==2.5.2\n"}
    assert add_dependency("environment.yml", CONDA_ENVIRONMENT, "torch-geometric", others=others) is None


def test_conda_windows_line_endings_and_missing_final_newline_are_kept() -> None:
    content = CONDA_ENVIRONMENT.replace("\n", "\r\n").removesuffix("\r\n")
    edit = add_dependency("environment.yml", content, "xgboost")
    assert edit is not None
    assert edit.new_content == content.replace("    - wandb\r\n", "    - wandb\r\n    - xgboost\r\n")
    assert yaml.safe_load(edit.new_content)["dependencies"][-1]["pip"][2] == "xgboost"


# --------------------------------------------------------------------------------------------------
# package.json


def test_create_react_app_dependencies_get_the_package_in_sorted_position() -> None:
    edit = add_dependency("package.json", CRA_PACKAGE_JSON, "axios", "^1.6.8")
    assert edit is not None
    assert edit.new_content == CRA_PACKAGE_JSON.replace(
        '    "react": "^18.2.0",', '    "axios": "^1.6.8",\n    "react": "^18.2.0",'
    )
    assert edit.added_line == '"axios": "^1.6.8"'
    assert list(json.loads(edit.new_content)["dependencies"])[3] == "axios"


def test_package_json_last_position_adds_the_comma_to_the_previous_entry() -> None:
    edit = add_dependency("package.json", CRA_PACKAGE_JSON, "zustand")
    assert edit is not None
    assert '    "web-vitals": "^2.1.4",\n    "zustand": "*"\n  },' in edit.new_content
    assert json.loads(edit.new_content)["dependencies"]["zustand"] == "*"


def test_package_json_tab_indentation_and_windows_line_endings_are_kept() -> None:
    content = CRA_PACKAGE_JSON.replace("  ", "\t").replace("\n", "\r\n")
    edit = add_dependency("package.json", content, "axios")
    assert edit is not None
    assert '\r\n\t\t"axios": "*",\r\n\t\t"react": "^18.2.0",' in edit.new_content
    assert "\n" not in edit.new_content.replace("\r\n", "")


def test_package_json_without_dependencies_gets_the_object_before_dev_dependencies() -> None:
    content = '{\n    "name": "lib",\n    "devDependencies": {\n        "jest": "^29.7.0"\n    }\n}'
    edit = add_dependency("package.json", content, "lodash")
    assert edit is not None
    assert edit.new_content == (
        '{\n    "name": "lib",\n    "dependencies": {\n        "lodash": "*"\n    },\n'
        '    "devDependencies": {\n        "jest": "^29.7.0"\n    }\n}'
    )


def test_package_json_without_any_dependency_object_gets_one_at_the_end() -> None:
    content = '{\n  "name": "cli",\n  "main": "index.js"\n}\n'
    edit = add_dependency("package.json", content, "commander", "^12.0.0")
    assert edit is not None
    assert (
        edit.new_content
        == '{\n  "name": "cli",\n  "main": "index.js",\n  "dependencies": {\n    "commander": "^12.0.0"\n  }\n}\n'
    )


def test_minified_package_json_stays_minified() -> None:
    edit = add_dependency("package.json", '{"name":"x","dependencies":{"b":"1","a":"2"}}', "lodash")
    assert edit is not None
    assert edit.new_content == '{"name":"x","dependencies":{"b":"1","a":"2","lodash":"*"}}'


def test_package_json_npm_would_not_write_is_not_reformatted_by_a_fix() -> None:
    hand_aligned = '{\n  "name": "x",\n  "files": ["dist", "lib"],\n  "dependencies": {\n    "a": "1"\n  }\n}\n'
    assert add_dependency("package.json", hand_aligned, "lodash") is None


def test_package_json_keeps_non_ascii_text() -> None:
    content = '{\n  "description": "Modèle de prévision",\n  "dependencies": {}\n}\n'
    edit = add_dependency("package.json", content, "d3", "^7.9.0")
    assert edit is not None
    assert (
        edit.new_content
        == '{\n  "description": "Modèle de prévision",\n  "dependencies": {\n    "d3": "^7.9.0"\n  }\n}\n'
    )


@pytest.mark.parametrize("package", ["react", "React", "@testing-library/react"])
def test_package_json_already_declared(package: str) -> None:
    assert add_dependency("package.json", CRA_PACKAGE_JSON, package) is None


def test_package_json_dev_dependency_counts_as_declared() -> None:
    content = '{\n  "name": "lib",\n  "devDependencies": {\n    "typescript": "^5.4.3"\n  }\n}\n'
    assert add_dependency("package.json", content, "typescript") is None


# --------------------------------------------------------------------------------------------------
# Inputs that must never reach a file


@pytest.mark.parametrize(
    ("path", "package", "spec"),
    [
        ("requirements.txt", "numpy\nevil", None),
        ("requirements.txt", "numpy", '>=1"; rm -rf'),
        ("pyproject.toml", 'numpy"', None),
        ("package.json", "Not A Name", None),
        ("package.json", "lodash", '1.0"'),
    ],
)
def test_invalid_names_and_specifiers_are_refused(path: str, package: str, spec: str | None) -> None:
    with pytest.raises(ValueError):
        add_dependency(path, "", package, spec)


def test_unknown_file_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        add_dependency("Pipfile", "[packages]\n", "numpy")


def test_canonical_name_follows_pep_503() -> None:
    assert canonical_name("Scikit_Learn") == canonical_name("scikit.learn") == "scikit-learn"
    assert canonical_name("ruamel__yaml") == "ruamel-yaml"


def test_poetry_ranges_only_go_into_poetry_tables() -> None:
    with pytest.raises(ValueError):
        add_dependency("requirements.txt", "numpy\n", "structlog", "^24.1")
    with pytest.raises(ValueError):
        add_dependency("pyproject.toml", SORTED_PYPROJECT, "structlog", "~24.1")


# --------------------------------------------------------------------------------------------------
# The editing libraries stay off the webhook's cold start

ROOT = Path(__file__).resolve().parents[2]
INGRESS_IMPORTS = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("ingress", "functions/webhook_ingress/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
import mlops_bot.webhooks.service
print(json.dumps(sorted(sys.modules)))
"""


def test_the_webhook_ingress_never_loads_healing_or_the_file_editing_libraries() -> None:
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", INGRESS_IMPORTS], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )
    heavy = [m for m in loaded if m.startswith(("mlops_bot.healing", "tomlkit", "ruamel"))]
    assert heavy == []


# --------------------------------------------------------------------------------------------------
# Moving a pin to a version that exists (golden before/after)

from mlops_bot.adapters.pypi import Release  # noqa: E402
from mlops_bot.healing.dependency_files import pinned_file  # noqa: E402
from mlops_bot.healing.dependency_files.pins import installable, move_pin, nearest_version, newest  # noqa: E402
from mlops_bot.healing.dependency_files.workflow import jobs_with_timeout, raise_job_timeout  # noqa: E402

TORCH_VERSIONS = ["2.12.0", "2.12.1", "2.13.0", "2.14.0", "2.14.1", "2.15.0", "2.16.0rc1"]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        pytest.param("9.9.9", "2.15.0", id="beyond-the-newest-takes-the-newest-final"),
        pytest.param("2.14.3", "2.14.1", id="between-takes-the-one-below"),
        pytest.param("1.0", "2.12.0", id="below-all-takes-the-oldest"),
        pytest.param("2.16.0rc2", "2.16.0rc1", id="a-pre-release-pin-may-move-to-a-pre-release"),
    ],
)
def test_nearest_version_the_log_lists(requested: str, expected: str) -> None:
    assert nearest_version(requested, TORCH_VERSIONS) == expected


def test_installable_versions_follow_requires_python_and_skip_yanked_and_pre_releases() -> None:
    releases = [
        Release(version="1.26.4", requires_python=">=3.9"),
        Release(version="2.0.0", requires_python=">=3.9"),
        Release(version="2.1.0", requires_python=">=3.10", yanked=True),
        Release(version="2.2.0", requires_python=">=3.10"),
        Release(version="2.3.0rc1", requires_python=">=3.10"),
        Release(version="2.4.0", requires_python=">=3.12"),
        Release(version="2.5.0", has_files=False),
    ]
    assert newest(installable(releases, "3.11")) == "2.2.0"
    assert newest(installable(releases, "3.9")) == "2.0.0"
    assert newest(installable(releases, None)) == "2.4.0"


PINNED_WITH_STYLE = """\
# Training image (keep pinned)
numpy==1.26.4
Torch == 9.9.9 ; platform_system != "Darwin"  # GPU build
torchvision==0.17.1
"""


def test_a_pin_moves_on_its_own_line_keeping_spelling_spacing_marker_and_comment() -> None:
    edit = move_pin("requirements.txt", PINNED_WITH_STYLE, "torch", "9.9.9", "2.15.0")
    assert edit is not None
    assert edit.new_content == PINNED_WITH_STYLE.replace("Torch == 9.9.9 ;", "Torch == 2.15.0 ;")
    assert added_lines(edit.diff) == ['Torch == 2.15.0 ; platform_system != "Darwin"  # GPU build']


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        pytest.param(
            "pyproject.toml",
            SORTED_PYPROJECT.replace('"pandas>=2.1"', '"pandas==9.9.9"'),
            SORTED_PYPROJECT.replace('"pandas>=2.1"', '"pandas==2.2.2"'),
            id="pep621",
        ),
        pytest.param(
            "pyproject.toml",
            POETRY_PYPROJECT.replace('pydantic = "^2.6.4"', 'pydantic = "9.9.9"'),
            POETRY_PYPROJECT.replace('pydantic = "^2.6.4"', 'pydantic = "2.2.2"'),
            id="poetry-bare-version",
        ),
        pytest.param(
            "environment.yml",
            CONDA_ENVIRONMENT.replace("mlflow==2.11.1", "mlflow==9.9.9"),
            CONDA_ENVIRONMENT.replace("mlflow==2.11.1", "mlflow==2.2.2"),
            id="conda-pip-section",
        ),
        pytest.param(
            ".github/workflows/ci.yml",
            "jobs:\n  test:\n    steps:\n      - run: pip install ruff==9.9.9 pytest  # lint first\n",
            "jobs:\n  test:\n    steps:\n      - run: pip install ruff==2.2.2 pytest  # lint first\n",
            id="workflow-pip-install",
        ),
    ],
)
def test_a_pin_moves_in_every_format_keeping_the_rest(path: str, before: str, after: str) -> None:
    package = {"pandas==9": "pandas", "pydantic = ": "pydantic", "mlflow==9": "mlflow", "ruff==9": "ruff"}
    name = next(v for k, v in package.items() if k in before)
    edit = move_pin(path, before, name, "9.9.9", "2.2.2")
    assert edit is not None and edit.new_content == after


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("# torch==9.9.9\nnumpy\n", id="only-in-a-comment"),
        pytest.param("torch==9.9.9\n-r other.txt\ntorch==9.9.9\n", id="twice"),
        pytest.param("torch>=9.9.9\n", id="not-an-exact-pin"),
        pytest.param("torchvision==9.9.9\n", id="another-package"),
    ],
)
def test_a_pin_that_is_absent_or_ambiguous_is_not_moved(content: str) -> None:
    assert move_pin("requirements.txt", content, "torch", "9.9.9", "2.15.0") is None


def test_a_file_pins_everything_only_when_every_requirement_is_exact() -> None:
    assert pinned_file("requirements.txt", PINNED_REQUIREMENTS)
    assert not pinned_file("requirements.txt", PINNED_REQUIREMENTS + "seaborn\n")
    assert not pinned_file("requirements.txt", "# nothing\n")
    assert not pinned_file("pyproject.toml", SORTED_PYPROJECT)
    assert pinned_file("pyproject.toml", '[project]\nname = "x"\ndependencies = ["a==1", "b[x]==2.0"]\n')
    assert pinned_file("environment.yml", CONDA_ENVIRONMENT.replace("- wandb", "- wandb==0.16.4"))


def test_a_pinned_file_gets_the_new_package_pinned_in_its_sorted_place() -> None:
    edit = add_dependency("requirements.txt", PINNED_REQUIREMENTS, "scipy", "==1.13.1")
    assert edit is not None
    assert edit.new_content == PINNED_REQUIREMENTS.replace("xgboost==", "scipy==1.13.1\nxgboost==")


# --------------------------------------------------------------------------------------------------
# Raising a job's timeout-minutes in a workflow (golden before/after, round-trip)

TRAIN_WORKFLOW = """\
# Nightly training: keep under the 6 h runner limit.
name: Train
on:
  push:
    branches: [main]
  workflow_dispatch: {}

env:
  PYTHONUNBUFFERED: "1"   # stream logs

jobs:
  lint:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: actions/checkout@v4
      - run: ruff check .
  train:
    runs-on: ubuntu-latest
    # the GPU box is slow on Mondays
    timeout-minutes: 30
    strategy:
      matrix:
        python: ['3.11', "3.12"]
    steps:
      - uses: actions/checkout@v4
      - name: Train
        run: |
          python train.py \\
            --epochs 50
"""


def test_the_job_that_hit_its_timeout_gets_it_raised_and_nothing_else_changes() -> None:
    edit = raise_job_timeout(".github/workflows/train.yml", TRAIN_WORKFLOW, minutes=30, raise_to=60)
    assert edit is not None
    assert edit.new_content == TRAIN_WORKFLOW.replace("timeout-minutes: 30", "timeout-minutes: 60")
    assert added_lines(edit.diff) == ["    timeout-minutes: 60"]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(
            lambda t: t.replace("      - ", "    - ").replace("        run:", "      run:"), id="flush-dashes"
        ),
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(
            lambda _: (
                "jobs:\n    build:\n        runs-on: ubuntu-latest\n        timeout-minutes: 30\n"
                "        steps:\n        -   uses: actions/checkout@v4\n        -   run: make   # all\n"
            ),
            id="four-space-flush-dashes",
        ),
        pytest.param(
            lambda _: "jobs: {build: {runs-on: ubuntu-latest, timeout-minutes: 30, steps: [{run: make}]}}\n",
            id="flow-style",
        ),
    ],
)
def test_timeout_edit_keeps_each_layout(layout: Any) -> None:
    content = layout(TRAIN_WORKFLOW)
    edit = raise_job_timeout(".github/workflows/train.yml", content, minutes=30, raise_to=60)
    assert edit is not None
    assert edit.new_content == content.replace("timeout-minutes: 30", "timeout-minutes: 60")


def test_timeout_is_never_raised_past_githubs_360_minutes() -> None:
    content = TRAIN_WORKFLOW.replace("timeout-minutes: 30", "timeout-minutes: 240")
    edit = raise_job_timeout(".github/workflows/train.yml", content, minutes=240, raise_to=480)
    assert edit is not None and "timeout-minutes: 360" in edit.new_content
    at_limit = TRAIN_WORKFLOW.replace("timeout-minutes: 30", "timeout-minutes: 360")
    assert raise_job_timeout(".github/workflows/train.yml", at_limit, minutes=360, raise_to=720) is None


def test_two_jobs_with_the_same_limit_need_the_job_name() -> None:
    content = TRAIN_WORKFLOW.replace("timeout-minutes: 10", "timeout-minutes: 30")
    assert jobs_with_timeout(content, 30) == ["lint", "train"]
    assert raise_job_timeout(".github/workflows/train.yml", content, minutes=30, raise_to=60) is None
    edit = raise_job_timeout(".github/workflows/train.yml", content, minutes=30, raise_to=60, job="train")
    assert edit is not None and edit.new_content.count("timeout-minutes: 60") == 1


def test_a_broken_workflow_is_not_edited() -> None:
    assert raise_job_timeout(".github/workflows/x.yml", "jobs: [\n", minutes=30, raise_to=60) is None


# --------------------------------------------------------------------------------------------------
# Quarantining flaky tests (golden before/after)

from mlops_bot.healing.dependency_files import add_test_dependency  # noqa: E402
from mlops_bot.healing.dependency_files.flaky_markers import NodeId, mark_flaky, unmark_flaky  # noqa: E402

TEST_API = '''\
"""The prediction endpoint."""

from __future__ import annotations

import httpx

from service import app


@pytest.fixture
def client():
    return httpx.Client(app=app)


class TestPredict:
    @pytest.mark.parametrize("device", ["cpu", "gpu"])
    def test_batch(self, client, device):
        assert client.post("/predict", json={"device": device}).status_code == 200


async def test_predict_endpoint(client):  # hits the model server
    assert (await client.get("/health")).status_code == 200
'''


def node(node_id: str) -> NodeId:
    parsed = NodeId.parse(node_id)
    assert parsed is not None
    return parsed


def test_flaky_tests_get_the_rerun_marker_above_their_decorators_and_pytest_is_imported() -> None:
    tests = [node("tests/test_api.py::TestPredict::test_batch[gpu]"), node("tests/test_api.py::test_predict_endpoint")]
    edit = mark_flaky("tests/test_api.py", TEST_API, tests, 3)
    assert edit is not None
    assert edit.new_content == (
        TEST_API.replace("import httpx\n", "import pytest\nimport httpx\n")
        .replace(
            '    @pytest.mark.parametrize("device"',
            '    @pytest.mark.flaky(reruns=3)\n    @pytest.mark.parametrize("device"',
        )
        .replace("async def test_predict_endpoint", "@pytest.mark.flaky(reruns=3)\nasync def test_predict_endpoint")
    )
    assert edit.added_line == "@pytest.mark.flaky(reruns=3) on TestPredict::test_batch, test_predict_endpoint"


def test_a_marked_test_is_not_marked_twice_and_the_marker_comes_off_again() -> None:
    tests = [node("tests/test_api.py::test_predict_endpoint")]
    marked = mark_flaky(
        "tests/test_api.py", TEST_API.replace("import httpx\n", "import httpx\nimport pytest\n"), tests, 2
    )
    assert marked is not None
    assert mark_flaky("tests/test_api.py", marked.new_content, tests, 2) is None
    released = unmark_flaky("tests/test_api.py", marked.new_content, tests)
    assert released is not None
    assert released.new_content == TEST_API.replace("import httpx\n", "import httpx\nimport pytest\n")


@pytest.mark.parametrize(
    "node_id",
    ["tests/test_api.py::test_missing", "tests/test_api.py::TestOther::test_batch", "tests/test_api.py::test_batch"],
)
def test_a_test_that_is_not_in_the_file_is_not_marked(node_id: str) -> None:
    assert mark_flaky("tests/test_api.py", TEST_API, [node(node_id)], 3) is None


def test_node_ids_that_are_not_pytest_functions_are_refused() -> None:
    assert NodeId.parse("CI / test (3.11)") is None
    assert NodeId.parse("tests/test_x.py::test_a[1-2]") == NodeId("tests/test_x.py", (), "test_a")


@pytest.mark.parametrize(
    ("existing", "path", "expected"),
    [
        pytest.param(
            {"requirements-dev.txt": "pytest==8.1.1\nruff==0.4.1\n", "requirements.txt": "numpy\n"},
            "requirements-dev.txt",
            "pytest==8.1.1\npytest-rerunfailures\nruff==0.4.1\n",
            id="dev-requirements",
        ),
        pytest.param(
            {"pyproject.toml": SKLEARN_PYPROJECT},
            "pyproject.toml",
            SKLEARN_PYPROJECT.replace(
                '    "pytest-cov>=2.9.0",\n', '    "pytest-cov>=2.9.0",\n    "pytest-rerunfailures",\n'
            ),
            id="pyproject-tests-extra",
        ),
        pytest.param(
            {"pyproject.toml": POETRY_PYPROJECT},
            "pyproject.toml",
            POETRY_PYPROJECT.replace('pytest = "^8.1.1"\n', 'pytest = "^8.1.1"\npytest-rerunfailures = "*"\n'),
            id="poetry-dev-group",
        ),
    ],
)
def test_the_rerun_plugin_goes_where_the_project_keeps_its_test_tools(
    existing: dict[str, str], path: str, expected: str
) -> None:
    edit = add_test_dependency(existing, "pytest-rerunfailures")
    assert edit is not None and edit.path == path
    assert edit.new_content == expected


def test_no_test_dependency_list_means_no_plugin_edit() -> None:
    assert add_test_dependency({"requirements.txt": "numpy\n"}, "pytest-rerunfailures") is None
    assert add_test_dependency({"pyproject.toml": SORTED_PYPROJECT}, "pytest-rerunfailures") is None


def test_the_runners_python_is_read_from_setup_python_with_the_matrix_resolved() -> None:
    from mlops_bot.healing.dependency_files.workflow import python_versions

    workflow = """\
jobs:
  test:
    strategy:
      matrix:
        py: ["3.10", "3.12"]
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.py }}
  lint:
    steps:
      - uses: actions/setup-python@v5
        with: {python-version: "3.11.x"}
"""
    assert python_versions(workflow) == ["3.10", "3.12", "3.11"]
    assert python_versions(workflow, "lint") == ["3.11"]
    assert python_versions("jobs: {a: {steps: [{run: make}]}}\n") == []


def test_a_repository_on_the_flaky_package_gets_its_own_decorator() -> None:
    from mlops_bot.healing.dependency_files.flaky_markers import FLAKY

    content = "from flaky import flaky\n\n\ndef test_download():\n    assert True\n"
    edit = mark_flaky("tests/test_io.py", content, [node("tests/test_io.py::test_download")], 2, FLAKY)
    assert edit is not None
    assert edit.new_content == content.replace("def test_download", "@flaky(max_runs=3)\ndef test_download")
    released = unmark_flaky("tests/test_io.py", edit.new_content, [node("tests/test_io.py::test_download")])
    assert released is not None and released.new_content == content
