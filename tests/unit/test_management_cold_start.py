"""The management API's cold start loads what building the app needs, and nothing a request may not.

Each library below is imported by the code that uses it (a route's service, the first AWS client,
a JWT check), so importing the handler in a fresh interpreter - what Lambda does at a cold start -
must leave all of them out of `sys.modules`. How long the import takes is measured in
`bench/bench_cold_start.py`, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "functions" / "management_api" / "handler.py"

NOT_AT_COLD_START = (
    "numpy",  # analytics / drift statistics
    "scipy",
    "githubkit",  # the GitHub client (health's GitHub probe, healing)
    "boto3",  # built with the first AWS client of a request
    "s3transfer",
    "jwt",  # PyJWT: only a token login or a JWT bearer needs it
    "cryptography",
    "yaml",  # only parsing a repository's own config file
)

PROBE = """
import importlib.util, json, sys
sys.path.insert(0, {folder!r})
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {names!r})))
"""


def test_management_handler_import_leaves_heavy_libraries_unloaded() -> None:
    code = PROBE.format(folder=str(HANDLER.parent), path=str(HANDLER), names=set(NOT_AT_COLD_START))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"imported at the management API's cold start: {loaded}"
