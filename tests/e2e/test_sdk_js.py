"""The TypeScript SDK (sdk/js) against the running local stack, with node's own test runner.

Starts the stack, installs the package as its lock file says (`npm ci`), builds it (`tsc`, types
included) and runs `node --test` with the stack's URL, an admin key and the webhook secret in the
environment; every node test must pass, and as many must run as the test files declare.
"""

from __future__ import annotations

import json
import os
import re

from mlops_bot.local.stack import LocalStack
from tests.e2e.conftest import ADMIN_KEY
from tests.support.node import JS_SDK, build_js_sdk, require, run


def test_the_js_sdk_passes_its_node_tests_against_the_stack(stack: LocalStack) -> None:
    package = build_js_sdk()
    declared = sum(len(re.findall(r"^test\(", f.read_text(), re.M)) for f in (package / "test").glob("*.test.mjs"))
    env = {
        **os.environ,
        "MLOPS_BOT_URL": stack.url,
        "MLOPS_BOT_API_KEY": ADMIN_KEY,
        "MLOPS_BOT_WEBHOOK_SECRET": stack.config.webhook_secret,
    }

    output = run([require("node"), "--test", "--test-reporter=tap", "test/"], package, env, timeout=600)

    counts = {k: int(v) for k, v in re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", output, re.M)}
    assert counts["fail"] == 0 and counts["cancelled"] == 0, output[-4000:]
    assert counts["skipped"] == 0 and counts["todo"] == 0, output[-4000:]
    assert declared >= 20
    assert counts["pass"] == counts["tests"] == declared, (counts, declared)


def test_the_js_package_ships_types_and_has_no_runtime_dependencies() -> None:
    manifest = json.loads((JS_SDK / "package.json").read_text())
    lock = json.loads((JS_SDK / "package-lock.json").read_text())

    assert manifest["name"] == lock["name"] == "@mlops-bot/sdk"
    assert not manifest.get("dependencies") and not manifest.get("optionalDependencies")
    assert manifest["peerDependencies"] == {"ws": ">=8"}
    assert manifest["peerDependenciesMeta"]["ws"]["optional"] is True
    assert "typescript" in manifest["devDependencies"]
    assert manifest["exports"]["."]["types"] == "./dist/index.d.ts"
    assert manifest["exports"]["./healing-guard"]["types"] == "./dist/healing-guard.d.ts"
    version = re.search(r"VERSION = '([^']+)'", (JS_SDK / "src" / "transport.ts").read_text())
    assert version and version[1] == manifest["version"]
