"""module -> PyPI distribution: well-known mismatches, own packages, stdlib, namespaces, regeneration."""

from __future__ import annotations

import json
import re
import sys
from importlib import resources

import pytest

from mlops_bot.diagnosis import module_to_package
from mlops_bot.diagnosis.module_packages import (
    CURATED,
    DATA_FILE,
    claims_from_files,
    is_known_module,
    load_mapping,
    regenerate,
    resolve,
)


@pytest.mark.parametrize(
    ("module", "package"),
    [
        ("sklearn", "scikit-learn"),
        ("cv2", "opencv-python"),
        ("yaml", "PyYAML"),
        ("PIL", "Pillow"),
        ("skimage", "scikit-image"),
        ("bs4", "beautifulsoup4"),
        ("dateutil", "python-dateutil"),
        ("attr", "attrs"),
        ("google.protobuf", "protobuf"),
        ("torch", "torch"),
        ("jwt", "PyJWT"),
        ("dotenv", "python-dotenv"),
        ("git", "GitPython"),
        ("Crypto", "pycryptodome"),
        ("OpenSSL", "pyOpenSSL"),
        ("pkg_resources", "setuptools"),
        ("mpl_toolkits.mplot3d", "matplotlib"),
        ("sklearn.ensemble", "scikit-learn"),
        ("google.protobuf.json_format", "protobuf"),
        ("numpy", "numpy"),
        ("pydantic_core", "pydantic_core"),
    ],
)
def test_well_known_modules_map_to_their_distribution(module: str, package: str) -> None:
    assert module_to_package(module) == package
    assert is_known_module(module)


@pytest.mark.parametrize("module", ["os", "json", "sys", "collections.abc", "tomllib", "asyncio", "__future__"])
def test_stdlib_modules_are_never_proposed(module: str) -> None:
    assert module in sys.stdlib_module_names or module.split(".")[0] in sys.stdlib_module_names
    assert module_to_package(module) is None


def test_removed_stdlib_module_maps_to_its_replacement() -> None:
    assert module_to_package("distutils.util") == "setuptools"


@pytest.mark.parametrize(
    ("module", "own"),
    [
        ("mlproj", ["mlproj"]),
        ("mlproj.train", ["mlproj"]),
        ("my_project", ["my-project"]),  # a distribution name is accepted too
        ("My_Project.cli", ["my.project"]),
        ("yaml", ["yaml"]),  # a local module shadowing a PyPI one is still local
    ],
)
def test_own_packages_are_never_proposed(module: str, own: list[str]) -> None:
    assert module_to_package(module, own_packages=own) is None


def test_own_distribution_behind_a_mapping_is_not_proposed() -> None:
    assert module_to_package("sklearn", own_packages=["scikit-learn"]) is None


@pytest.mark.parametrize("module", ["google", "google.cloud", "google.some_new_api", "azure", "backports"])
def test_namespaces_are_not_guessed(module: str) -> None:
    assert module_to_package(module) is None


@pytest.mark.parametrize("module", ["", "   ", ".relative", "..parent.module"])
def test_empty_and_relative_names_have_no_package(module: str) -> None:
    assert module_to_package(module) is None


def test_unknown_module_falls_back_to_its_own_name() -> None:
    assert module_to_package("some_unmapped_lib.sub") == "some_unmapped_lib"
    assert not is_known_module("some_unmapped_lib")


def test_data_file_is_generated_real_data_of_a_few_hundred_entries() -> None:
    payload = json.loads(resources.files("mlops_bot.diagnosis").joinpath(DATA_FILE).read_text(encoding="utf-8"))
    modules: dict[str, str] = payload["modules"]
    assert len(modules) >= 300
    assert payload["distributions"] >= 300
    mismatches = {m: d for m, d in modules.items() if re.sub(r"[-_.]+", "-", m).lower() != d.lower().replace("_", "-")}
    assert len(mismatches) >= 100
    dotted = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    assert all(dotted.match(module) for module in modules)
    assert not [m for m in modules if m.split(".")[0] in sys.stdlib_module_names]
    assert "google" in payload["namespaces"]


def test_curated_entries_override_generated_ones() -> None:
    mapping = load_mapping()
    assert all(mapping[module] == package for module, package in CURATED.items())


def test_claims_from_a_file_list_know_namespaces_extensions_and_junk() -> None:
    paths = [
        "google/protobuf/__init__.py",
        "google/protobuf/message.py",
        "fastlib/__init__.py",
        "fastlib/_speedups.cpython-311-x86_64-linux-gnu.so",
        "single_module.py",
        "_private_helper.py",
        "_native.abi3.so",
        "fastlib.libs/libgfortran-040039e1.so.5.0.0",
        "tests/test_fastlib.py",
        "bundled/lib/libboost_atomic.so",
        "fast_dist-1.0.dist-info/RECORD",
    ]
    claims = {(claim.module, claim.namespace) for claim in claims_from_files("fast-dist", paths)}
    assert claims == {
        ("google", True),
        ("google.protobuf", False),
        ("fastlib", False),
        ("single_module", False),
    }


def test_resolve_prefers_same_name_then_the_only_regular_package() -> None:
    claims = [
        *claims_from_files("opencv-python", ["cv2/__init__.py"]),
        *claims_from_files("opencv-python-headless", ["cv2/__init__.py"]),
        *claims_from_files("PyYAML", ["yaml/__init__.py", "_yaml/__init__.py"]),
        *claims_from_files("protobuf", ["google/protobuf/__init__.py"]),
        *claims_from_files("googleapis-common-protos", ["google/api/http_pb2.py"]),
        *claims_from_files("enum34", ["enum/__init__.py"]),
        *claims_from_files("requests", ["requests/__init__.py"]),
    ]
    resolution = resolve(claims)
    assert resolution.modules == {
        "google.api": "googleapis-common-protos",
        "google.protobuf": "protobuf",
        "requests": "requests",
        "yaml": "PyYAML",
    }
    assert resolution.ambiguous == {"cv2": ["opencv-python", "opencv-python-headless"]}
    assert resolution.namespaces == ["google"]


def test_regeneration_reads_the_installed_environment() -> None:
    payload = regenerate([])
    modules = payload["modules"]
    assert isinstance(modules, dict)
    assert modules["yaml"] == "PyYAML"
    assert modules["jwt"] == "PyJWT"
    assert modules["pydantic"] == "pydantic"
    assert "mlops_bot" not in modules
