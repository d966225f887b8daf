"""The JS SDK (sdk/js) installed with `npm ci` and built with `tsc`, for tests that run node.

npm missing is a failure with the reason, not a skip: `make test` promises the JS SDK is tested.
A file lock keeps two pytest workers from running `npm ci` in the same directory at once, and a
stamp (a digest of the lock file, tsconfig and sources) skips the install and build when they
already happened for exactly these files: a second worker must not wipe `node_modules` under a
first one's running node.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS_SDK = ROOT / "sdk" / "js"


def require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"`{tool}` is not on PATH: the JS SDK tests need Node.js 20+ with npm (apt-get install nodejs npm)")
    return found


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-12000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def build_js_sdk() -> Path:
    """`npm ci && npm run build` in sdk/js (once per lock holder); the package directory."""
    npm = require("npm")
    require("node")
    stamp = JS_SDK / "node_modules" / ".mlops-bot-build"
    with (JS_SDK / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            wanted = _digest()
            if not stamp.exists() or stamp.read_text() != wanted or not (JS_SDK / "dist").is_dir():
                run([npm, "ci", "--no-audit", "--no-fund"], JS_SDK)
                run([npm, "run", "build"], JS_SDK)
                stamp.write_text(wanted)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert (JS_SDK / "dist" / "index.d.ts").exists()
    return JS_SDK


def _digest() -> str:
    files = [JS_SDK / "package-lock.json", JS_SDK / "package.json", JS_SDK / "tsconfig.json"]
    files += sorted((JS_SDK / "src").rglob("*.ts"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
