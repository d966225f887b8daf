"""Which PyPI distribution provides an importable module (``sklearn`` -> ``scikit-learn``).

A fixer that sees ``No module named 'cv2'`` must add ``opencv-python`` to the requirements, not ``cv2``
(which does not exist) and certainly not a name a squatter could register. The mapping therefore comes
from real data: `module_packages.json` is generated from the file lists (RECORD / wheel contents) of real
distributions, the same information `importlib.metadata.packages_distributions()` reads, plus
`CURATED`, the well-known mismatches and the winners of ambiguous names (several wheels ship ``cv2``).

Regenerate the data file with::

    python -m mlops_bot.diagnosis.module_packages --wheels /path/to/wheelhouse [--wheels ...]

which reads the installed environment and every ``*.whl`` found under the given folders.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from functools import lru_cache

from mlops_bot.diagnosis import package_data
from mlops_bot.diagnosis.records import FrozenRecord

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from pathlib import Path

DATA_FILE = "module_packages.json"

# Mismatches every Python developer trips over, and tie-breaks where several distributions ship the
# same module (the first, most common choice wins). Applied on top of the generated data.
CURATED: Mapping[str, str] = {
    "Bio": "biopython",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "MySQLdb": "mysqlclient",
    "OpenSSL": "pyOpenSSL",
    "PIL": "Pillow",
    "Xlib": "python-xlib",
    "absl": "absl-py",
    "attr": "attrs",
    "azure.identity": "azure-identity",
    "azure.storage.blob": "azure-storage-blob",
    "bs4": "beautifulsoup4",
    "cairo": "pycairo",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "dns": "dnspython",
    "docx": "python-docx",
    "dotenv": "python-dotenv",
    "faiss": "faiss-cpu",
    "fitz": "PyMuPDF",
    "gi": "PyGObject",
    "git": "GitPython",
    "github": "PyGithub",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.storage": "google-cloud-storage",
    "google.protobuf": "protobuf",
    "googleapiclient": "google-api-python-client",
    "grpc": "grpcio",
    "huggingface_hub": "huggingface-hub",
    "hydra": "hydra-core",
    "jose": "python-jose",
    "jwt": "PyJWT",
    "kafka": "kafka-python",
    "lightning_fabric": "lightning-fabric",
    "magic": "python-magic",
    "mpl_toolkits": "matplotlib",
    "multipart": "python-multipart",
    "nacl": "PyNaCl",
    "osgeo": "GDAL",
    "pkg_resources": "setuptools",
    "pptx": "python-pptx",
    "psycopg2": "psycopg2-binary",
    "pymysql": "PyMySQL",
    "PySide6": "PySide6",
    "pytorch_lightning": "pytorch-lightning",
    "ruamel.yaml": "ruamel.yaml",
    "sentence_transformers": "sentence-transformers",
    "serial": "pyserial",
    "skimage": "scikit-image",
    "sklearn": "scikit-learn",
    "slugify": "python-slugify",
    "socks": "PySocks",
    "speech_recognition": "SpeechRecognition",
    "tensorflow": "tensorflow",
    "tensorflow_datasets": "tensorflow-datasets",
    "tf_keras": "tf-keras",
    "torch": "torch",
    "umap": "umap-learn",
    "usb": "pyusb",
    "websocket": "websocket-client",
    "win32api": "pywin32",
    "win32com": "pywin32",
    "wx": "wxPython",
    "yaml": "PyYAML",
    "zmq": "pyzmq",
}

# Namespaces shared by many distributions, where one wheel set may show a single provider by chance.
CURATED_NAMESPACES = frozenset({"azure", "backports", "google", "google.cloud"})

# Modules that left the standard library and whose replacement lives on PyPI. Checked before the
# stdlib exclusion because `sys.stdlib_module_names` of the running Python still lists them.
REMOVED_FROM_STDLIB: Mapping[str, str] = {"distutils": "setuptools"}

# Top-level names that some wheels install by mistake; never a sensible answer.
_JUNK_TOP_LEVEL = frozenset(
    {"test", "tests", "testing", "doc", "docs", "example", "examples", "benchmark", "benchmarks", "bench"}
    | {"scripts", "script", "src", "lib", "lib64", "bin", "include", "share", "data", "build", "dist", "tools"}
    | {"setup", "conftest", "noxfile", "tasks", "typings", "site-packages"}
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_DEPTH = 3
# Extension modules carry an ABI tag (``_foo.cpython-311-x86_64-linux-gnu.so``); untagged ``.so`` files
# are bundled C libraries (``libboost_atomic.so``), not importable modules.
_EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.(?:cpython-[^.]+|abi3|cp3[0-9]+[^.]*|pypy[^.]*)\.(?:so|pyd)$")


def canonical(name: str) -> str:
    """PEP 503 normalisation, so ``PyYAML``, ``pyyaml`` and ``py_yaml`` compare as intended."""
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def _load_data() -> tuple[Mapping[str, str], frozenset[str]]:
    raw = package_data.read_text(DATA_FILE)
    payload = json.loads(raw)
    generated: dict[str, str] = payload["modules"]
    namespaces = frozenset(payload.get("namespaces", [])) | CURATED_NAMESPACES
    mapping = {module: dist for module, dist in generated.items() if module not in CURATED_NAMESPACES}
    return {**mapping, **CURATED}, namespaces


def namespace_modules() -> frozenset[str]:
    """Module names shared by several distributions (``google``, ``azure``): never a package by themselves."""
    return _load_data()[1]


def load_mapping() -> Mapping[str, str]:
    """The generated mapping with `CURATED` applied; cached because it is read-only data."""
    return _load_data()[0]


def module_to_package(module: str, own_packages: Collection[str] = ()) -> str | None:
    """The PyPI distribution to install for `module`, or None when installing one would be wrong.

    None for the repository's own packages (`own_packages`, module or distribution names: the fix there
    is installing the project, and a PyPI namesake would be a supply-chain hazard), for standard-library
    modules, for relative or empty names, and for unmapped portions of a namespace (``google.x``). Other
    unknown modules fall back to the module's own name, which is right for most packages (``torch``,
    ``numpy``); callers can check `is_known_module` to tell a guess from data.
    """
    name = module.strip()
    if not name or name.startswith("."):
        return None
    top = name.split(".", 1)[0]
    own = {canonical(entry) for entry in own_packages}
    if canonical(top) in own:
        return None
    if top in REMOVED_FROM_STDLIB:
        return REMOVED_FROM_STDLIB[top]
    if top in sys.stdlib_module_names:
        return None
    mapping, namespaces = _load_data()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):  # longest dotted prefix first: google.protobuf before google
        package = mapping.get(".".join(parts[:end]))
        if package is not None:
            return None if canonical(package) in own else package
    if top in namespaces or name in namespaces:  # guessing ``google`` would install an unrelated project
        return None
    return top if _IDENTIFIER.match(top) else None


def is_known_module(module: str) -> bool:
    """Whether `module_to_package` answers from data rather than from the name-equals-module guess."""
    parts = module.strip().split(".")
    mapping = load_mapping()
    return parts[0] in REMOVED_FROM_STDLIB or any(".".join(parts[:end]) in mapping for end in range(len(parts), 0, -1))


# --------------------------------------------------------------------------------------------------
# Regeneration from real distributions


class _Claim(FrozenRecord):
    __slots__ = ("distribution", "module", "namespace")
    _fields = ("module", "distribution", "namespace")
    module: str
    distribution: str
    namespace: bool

    def __init__(self, module: str, distribution: str, namespace: bool) -> None:
        self._init(module=module, distribution=distribution, namespace=namespace)


def claims_from_files(distribution: str, paths: Iterable[str]) -> Iterator[_Claim]:
    """Derive importable names from a distribution's file list (RECORD or wheel contents).

    A directory without ``__init__.py`` is a namespace shared with other distributions (``google``,
    ``google.cloud``, ``azure``): it is claimed as such and its sub-packages are claimed with dotted
    names, down to `_MAX_DEPTH` levels, so ``google.protobuf`` maps to ``protobuf``. Directories with no
    Python code below them (bundled C libraries, headers) are ignored.
    """
    regular: set[str] = set()  # top-level modules, and package directories with an __init__
    with_code: set[str] = set()  # directories with Python code somewhere below
    children: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        parts = path.replace("\\", "/").split("/")
        *folders, filename = parts
        usable = 0
        while usable < len(folders) and _IDENTIFIER.match(folders[usable]):
            usable += 1
        if usable < len(folders):  # foo.libs/, bar.dist-info/, nested data folders
            folders, filename = folders[:usable], ""
            if not folders:
                continue
        stem = _module_stem(filename)
        if stem is not None and not folders:
            regular.add(stem)
            children[""].add(stem)
            continue
        shown = folders[:_MAX_DEPTH]
        for depth in range(len(shown)):
            children[".".join(shown[:depth])].add(".".join(shown[: depth + 1]))
            if stem is not None:
                with_code.add(".".join(shown[: depth + 1]))
        if filename in ("__init__.py", "__init__.pyi") and len(folders) <= _MAX_DEPTH:
            regular.add(".".join(folders))

    def walk(name: str) -> Iterator[_Claim]:
        leaf = name.rsplit(".", 1)[-1]
        if leaf.startswith("_") or "__" in leaf or (name not in regular and name not in with_code):
            return
        if name in regular:
            yield _Claim(name, distribution, False)
            return
        yield _Claim(name, distribution, True)
        for child in sorted(children.get(name, ())):
            yield from walk(child)

    for top in sorted(children.get("", ())):
        if top not in _JUNK_TOP_LEVEL:
            yield from walk(top)


def _module_stem(filename: str) -> str | None:
    """The module name of a Python source or extension file, None for anything else."""
    if filename.endswith((".py", ".pyi")):
        stem = filename.rsplit(".", 1)[0]
        return stem if _IDENTIFIER.match(stem) else None
    match = _EXTENSION.match(filename)
    return match.group(1) if match is not None else None


def _wheel_claims(wheel: Path) -> Iterator[_Claim]:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_member = next((n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
        if metadata_member is None:
            return
        with archive.open(metadata_member) as stream:
            head = stream.read(64 * 1024).decode("utf-8", "replace").split("\n\n", 1)[0]
        from email.parser import HeaderParser

        distribution = HeaderParser().parsestr(head).get("Name")
        if not distribution:
            return
        yield from claims_from_files(str(distribution), names)


def _installed_claims(exclude: Collection[str]) -> Iterator[_Claim]:
    from importlib import metadata

    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or canonical(name) in exclude or dist.files is None:
            continue
        yield from claims_from_files(name, (str(path) for path in dist.files))


class Resolution(FrozenRecord):
    """The outcome of `resolve`: the mapping, plus what a maintainer may want to curate."""

    __slots__ = ("ambiguous", "modules", "namespaces")
    _fields = ("modules", "namespaces", "ambiguous")
    modules: dict[str, str]
    namespaces: list[str]
    ambiguous: dict[str, list[str]]

    def __init__(self, modules: dict[str, str], namespaces: list[str], ambiguous: dict[str, list[str]]) -> None:
        self._init(modules=modules, namespaces=namespaces, ambiguous=ambiguous)


def resolve(claims: Iterable[_Claim]) -> Resolution:
    """Pick one distribution per module; ambiguous names are reported instead of guessed.

    Winner order: a distribution named like the module, then the only regular package among the
    claimants, then the only provider of a dotted namespace portion (``google.api``). A top-level
    namespace (``google``) says nothing about which portion is missing, so it is never mapped; stdlib
    names never enter the data (backports such as ``enum34``).
    """
    by_module: dict[str, dict[str, bool]] = defaultdict(dict)
    for claim in claims:
        if claim.module.split(".", 1)[0] in sys.stdlib_module_names:
            continue
        previous = by_module[claim.module].get(claim.distribution, True)
        by_module[claim.module][claim.distribution] = previous and claim.namespace
    modules: dict[str, str] = {}
    namespaces: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    for module, claimants in by_module.items():
        same_name = [d for d in claimants if canonical(d) == canonical(module)]
        regular = sorted({canonical(d): d for d, ns in claimants.items() if not ns}.values())
        everyone = sorted({canonical(d): d for d in claimants}.values())
        if same_name:
            modules[module] = same_name[0]
        elif len(regular) == 1:
            modules[module] = regular[0]
        elif regular:
            ambiguous[module] = regular
        elif "." not in module:
            namespaces.append(module)
        elif len(everyone) == 1:
            modules[module] = everyone[0]
        else:
            ambiguous[module] = everyone

    def order(name: str) -> tuple[str, str]:
        return name.lower(), name

    return Resolution(
        modules={k: modules[k] for k in sorted(modules, key=order)},
        namespaces=sorted(namespaces, key=order),
        ambiguous={k: ambiguous[k] for k in sorted(ambiguous, key=order)},
    )


def regenerate(wheel_dirs: Iterable[Path], exclude: Collection[str] = ("mlops-bot",)) -> dict[str, object]:
    """Build the JSON payload from the running environment plus every wheel under `wheel_dirs`."""
    import zipfile

    claims: list[_Claim] = list(_installed_claims({canonical(e) for e in exclude}))
    sources = ["installed distributions of the generating environment"]
    for folder in wheel_dirs:
        wheels = sorted(folder.rglob("*.whl"))
        sources.append(f"{len(wheels)} wheels under {folder}")
        for wheel in wheels:
            try:
                claims.extend(_wheel_claims(wheel))
            except zipfile.BadZipFile:
                continue
    resolution = resolve(claims)
    return {
        "comment": "Generated by `python -m mlops_bot.diagnosis.module_packages`; edit CURATED, not this.",
        "sources": sources,
        "distributions": len({claim.distribution for claim in claims}),
        "modules": resolution.modules,
        "namespaces": resolution.namespaces,
        "ambiguous": resolution.ambiguous,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point for regeneration (kept here so the generator ships with its data)."""
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Regenerate the module -> PyPI distribution mapping.")
    parser.add_argument("--wheels", type=Path, action="append", default=[], help="folder searched for *.whl")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name(DATA_FILE))
    args = parser.parse_args(argv)
    payload = regenerate(args.wheels)
    args.output.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    modules = payload["modules"]
    assert isinstance(modules, dict)
    print(f"wrote {len(modules)} modules from {payload['distributions']} distributions to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
