"""The management API's cold start loads what building the app needs, and nothing a request may not.

Each library below is imported by the code that uses it (a route's service, the first AWS client,
a JWT check), so importing the handler in a fresh interpreter - what Lambda does at a cold start -
must leave all of them out of `sys.modules`; so are the routers, built by the first request whose
path needs them. How long the import takes is measured in `bench/bench_cold_start.py`, not here.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from mlops_bot.api.app import ROUTER_GROUPS, ManagementApp, RouterGroup, create_app

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
print(json.dumps(sorted(name for name in sys.modules if name in {groups!r})))
"""


def _cold_start() -> tuple[list[str], list[str]]:
    """The heavy libraries and the router modules loaded by importing the handler in a fresh interpreter."""
    groups = {group.module for group in ROUTER_GROUPS}
    code = PROBE.format(folder=str(HANDLER.parent), path=str(HANDLER), names=set(NOT_AT_COLD_START), groups=groups)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    libraries, routers = result.stdout.strip().splitlines()[-2:]
    return json.loads(libraries), json.loads(routers)


def test_management_handler_import_leaves_heavy_libraries_unloaded() -> None:
    loaded, _ = _cold_start()
    assert loaded == [], f"imported at the management API's cold start: {loaded}"


def test_management_handler_import_builds_no_router() -> None:
    _, routers = _cold_start()
    assert routers == [], f"built at the management API's cold start: {routers}"


def _routes(group: RouterGroup) -> list[APIRoute]:
    try:
        module = importlib.import_module(group.module)
    except ModuleNotFoundError:
        if group.optional:
            pytest.skip(f"{group.module} does not ship in this build")
        raise
    return [route for route in module.router.routes if isinstance(route, APIRoute)]


@pytest.mark.parametrize("group", ROUTER_GROUPS, ids=lambda group: group.module.rsplit(".", 1)[-1])
def test_every_route_of_a_group_is_reached_through_its_prefixes(group: RouterGroup) -> None:
    """A request whose path matches a route builds that route's group first (else: a wrong 404)."""
    routes = _routes(group)
    assert routes
    for route in routes:
        concrete = re.sub(r"\{[^}]+\}", "x", route.path)
        assert group.serves(concrete), f"{route.path} of {group.module} is outside {group.prefixes}"
        assert group.serves(concrete + "/"), "the trailing-slash redirect finds it too"


def _operations(app: ManagementApp) -> list[tuple[str, str]]:
    """(path, method) in the order the app matches them (what OpenAPI lists first was declared first)."""
    return [(path, method) for path, item in app.openapi()["paths"].items() for method in item]


def test_groups_built_in_any_order_match_in_the_declared_order() -> None:
    """Routes of groups sharing a prefix (repositories, signals, installations) keep their precedence."""
    late_first = create_app()
    late_first.include_routers_for("/api/v1/installations/x/claim")
    late_first.include_routers_for("/api/v1/repositories/x/y/drift")
    late_first.include_routers_for("/health")
    assert late_first.built_groups == tuple(
        f"mlops_bot.api.{name}" for name in ("health", "repositories", "signals", "installations")
    )
    assert _operations(late_first) == _operations(create_app())


def test_a_request_path_builds_only_the_groups_it_can_reach() -> None:
    app = create_app()
    app.include_routers_for("/api/v1/issues")
    assert app.built_groups == ("mlops_bot.api.incidents",)
    app.include_routers_for("/api/v1/repositories/")
    assert set(app.built_groups) >= {"mlops_bot.api.incidents", "mlops_bot.api.repositories"}
    assert "mlops_bot.api.tenants" not in app.built_groups


def test_the_whole_route_list_builds_every_group() -> None:
    app = create_app()
    assert app.routes
    assert app.built_groups == tuple(group.module for group in ROUTER_GROUPS)


def test_a_router_included_after_create_app_is_kept_after_the_groups() -> None:
    extra = APIRouter()

    @extra.get("/extra")
    def extra_route() -> dict[str, str]:
        return {}

    app = create_app()
    app.include_router(extra)
    app.include_routers_for("/api/v1/issues")
    assert list(app.openapi()["paths"])[-1] == "/extra"


def test_every_router_module_of_the_api_is_in_a_group() -> None:
    """A module under mlops_bot/api declaring `router = APIRouter(` is served only through ROUTER_GROUPS."""
    api = ROOT / "shared" / "mlops_bot" / "api"
    declaring = {
        f"mlops_bot.api.{source.stem}"
        for source in api.glob("*.py")
        if re.search(r"^router = APIRouter\(", source.read_text(), re.MULTILINE)
    }
    assert declaring <= {group.module for group in ROUTER_GROUPS}
