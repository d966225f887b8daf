"""Cold start: each handler's import time in a fresh interpreter, against two bare handlers.

Lambda's cold start is dominated by imports. Each handler module is imported the way the runtime
does it (its folder on sys.path, the layer's package importable) in a new interpreter, N times;
two baselines are measured in the same run: a handler that only imports powertools' Logger,
Tracer and Metrics, and FastAPI + Mangum alone (one route behind Mangum). The exit status gates
both targets: the webhook ingress within 1.5x of the first, the management API within 1.3x of the
second (about 1.0x; gated on the fastest round of each, which machine load barely moves).

The management API builds its routers on the first request that needs them, so its import alone
does not tell the whole cold start: the same interpreters also answer one request through the
handler (API Gateway HTTP API event, Lambda context), and the report shows import + first request
of a typical route - `GET /api/v1/issues` without credentials, a 401 from the auth dependency after
the route group is built and the DynamoDB client created - against FastAPI + Mangum's import + a
first `GET /health`. With `--with-api-key` the request carries a read key against a moto server the
bench starts (state table from template.yaml) and answers 200: key lookup, rate limit and the
incident query run too. `--checkout DIR` (repeatable) measures the management API of another
checkout (e.g. an earlier revision extracted with `git archive`) in the same interleaved rounds.

Run: .venv/bin/python bench/bench_cold_start.py [--repeat 7] [--only ManagementApiFunction ...]
     [--checkout /tmp/before ...] [--with-api-key]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from mlops_bot.local.template import Template  # noqa: E402

BARE = """
from aws_lambda_powertools import Logger, Metrics, Tracer
logger, tracer, metrics = Logger(), Tracer(), Metrics(namespace="Bench")

def handler(event, context):
    return {"statusCode": 200}
"""
BARE_FASTAPI = """
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "healthy"}


handler = Mangum(app, lifespan="off")
"""
PROBE = """
import importlib.util, sys, time
for entry in reversed({paths!r}):
    sys.path.insert(0, entry)
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
imported = time.perf_counter()
print(imported - started)
if {request_path!r}:
    class Context:
        function_name = "bench"
        function_version = "$LATEST"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        aws_request_id = "bench-request"
        log_group_name = log_stream_name = "bench"
    http = {{"method": "GET", "path": {request_path!r}, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"}}
    event = {{
        "version": "2.0", "routeKey": "$default", "rawPath": {request_path!r}, "rawQueryString": "",
        "headers": {{"host": "api.example.com", "accept": "application/json", **{headers!r}}}, "isBase64Encoded": False,
        "requestContext": {{"accountId": "123456789012", "apiId": "bench", "domainName": "api.example.com",
            "domainPrefix": "api", "http": http, "requestId": "bench-request", "routeKey": "$default",
            "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0}},
    }}
    answer = module.handler(event, Context())
    assert answer["statusCode"] == {expected_status!r}, answer
    print(time.perf_counter() - started)
"""
FASTAPI_REQUEST = ("/health", 200)
# A typical route: its group is built, its dependency chain runs up to the auth check (no credentials)
MANAGEMENT_REQUEST = ("/api/v1/issues", 401)
INGRESS_TARGET = 1.5
MANAGEMENT_TARGET = 1.3
ENV = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}


@dataclass(frozen=True)
class Candidate:
    path: Path  # the handler module
    extra_paths: tuple[str, ...] = ()  # ahead of the handler's folder on sys.path
    request: tuple[str, int] | None = None  # path of a first GET, and the status it must answer
    headers: tuple[tuple[str, str], ...] = ()  # of that request


def run_once(candidate: Candidate, env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds to import the handler, and to import it and answer one request (if it has one)."""
    path, expected = candidate.request or ("", 0)
    code = PROBE.format(
        paths=[*candidate.extra_paths, str(candidate.path.parent)],
        path=str(candidate.path),
        request_path=path,
        expected_status=expected,
        headers=dict(candidate.headers),
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{candidate.path}: {result.stderr[-2000:]}")
    lines = [line for line in result.stdout.strip().splitlines() if not line.startswith("{")]  # not log lines
    return float(lines[0]), float(lines[1]) if candidate.request else None


def measure(
    candidates: dict[str, Candidate], repeat: int, env: dict[str, str]
) -> tuple[dict[str, tuple[float, float | None]], dict[str, float]]:
    """Medians (import, import + first request), and the fastest import of each candidate.

    The candidates are interleaved round by round so machine load hits all alike.
    """
    imports: dict[str, list[float]] = {name: [] for name in candidates}
    firsts: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, candidate in candidates.items():
            imported, answered = run_once(candidate, env)
            imports[name].append(imported)
            if answered is not None:
                firsts[name].append(answered)
    medians = {
        name: (statistics.median(imports[name]), statistics.median(firsts[name]) if firsts[name] else None)
        for name in candidates
    }
    return medians, {name: min(values) for name, values in imports.items()}


@contextmanager
def api_key_against_moto() -> Iterator[tuple[dict[str, str], str]]:
    """A moto server with the state table of template.yaml and a read key: (environment, key)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from mlops_bot.access import api_keys
    from mlops_bot.adapters.dynamodb import StateTable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        **ENV,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MLOPS_BOT_TABLE_NAME": "bench-state",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        (props,) = [
            resource.get("Properties", {})
            for resource in Template.load(ROOT / "template.yaml").of_type("AWS::DynamoDB::Table").values()
            if "KeySchema" in resource.get("Properties", {})
        ][:1]
        table = {
            "TableName": env["MLOPS_BOT_TABLE_NAME"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if props.get("GlobalSecondaryIndexes"):
            table["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        boto3.client("dynamodb").create_table(**table)
        issued = api_keys.issue(StateTable(env["MLOPS_BOT_TABLE_NAME"]), "bench", "bench", "read")
        yield env, issued.key
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _ratio(seconds: float | None, base: float | None) -> str:
    return "-" if seconds is None or not base else f"{seconds / base:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=None, help="logical ids of the handlers to measure")
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        type=Path,
        help="another checkout whose management API is measured too (its shared/ first on sys.path)",
    )
    parser.add_argument(
        "--with-api-key",
        action="store_true",
        help="the management API's first request with a read key against a moto server (200) instead of a 401",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        env, management_request, management_headers = ENV, MANAGEMENT_REQUEST, ()
        if args.with_api_key:
            env, key = stack.enter_context(api_key_against_moto())
            management_request, management_headers = (MANAGEMENT_REQUEST[0], 200), (("authorization", f"Bearer {key}"),)
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        candidates: dict[str, Candidate] = {}
        for name, source, request in (("(baseline)", BARE, None), ("(fastapi)", BARE_FASTAPI, FASTAPI_REQUEST)):
            (Path(folder) / name).mkdir()
            handler_file = Path(folder) / name / "handler.py"
            handler_file.write_text(source)
            candidates[name] = Candidate(handler_file, request=request)
        for logical_id, spec in sorted(Template.load(ROOT / "template.yaml").functions().items()):
            if args.only is None or logical_id in args.only:
                if logical_id != "ManagementApiFunction":
                    candidates[logical_id] = Candidate(spec.module_file)
                    continue
                candidates[logical_id] = Candidate(
                    spec.module_file, request=management_request, headers=management_headers
                )
                relative = spec.module_file.relative_to(ROOT)
                for checkout in args.checkout:
                    candidates[f"{logical_id}@{checkout.name}"] = Candidate(
                        checkout.resolve() / relative,
                        extra_paths=(str(checkout.resolve() / "shared"),),
                        request=management_request,
                        headers=management_headers,
                    )
        rows, fastest = measure(candidates, args.repeat, env)
    baseline, _ = rows.pop("(baseline)")
    fastapi_baseline, fastapi_first = rows.pop("(fastapi)")
    print(
        f"{'handler':40} {'import ms':>10} {'x baseline':>11} {'x fastapi':>10} {'+1st req ms':>12} {'x fastapi':>10}"
    )
    labelled = {
        "(bare powertools handler)": (baseline, None),
        "(FastAPI + Mangum, one route)": (fastapi_baseline, fastapi_first),
        **rows,
    }
    for name, (imported, first) in labelled.items():
        print(
            f"{name:40} {_ms(imported):>10} {_ratio(imported, baseline):>11} {_ratio(imported, fastapi_baseline):>10}"
            f" {_ms(first):>12} {_ratio(first, fastapi_first):>10}"
        )
    summary: dict[str, object] = {
        "bench": "cold_start",
        "baseline_ms": round(baseline * 1000, 1),
        "fastapi_baseline_ms": round(fastapi_baseline * 1000, 1),
        "fastapi_first_request_ms": round((fastapi_first or 0.0) * 1000, 1),
        "handlers_ms": {k: round(v * 1000, 1) for k, (v, _) in rows.items()},
        "first_request_ms": {k: round(v * 1000, 1) for k, (_, v) in rows.items() if v is not None},
    }
    within = True
    if "WebhookIngressFunction" in rows:
        summary["ingress_ratio"] = round(rows["WebhookIngressFunction"][0] / baseline, 2)
        summary["ingress_target"] = INGRESS_TARGET
        within = within and rows["WebhookIngressFunction"][0] / baseline <= INGRESS_TARGET
    if "ManagementApiFunction" in rows:
        imported, first = rows["ManagementApiFunction"]
        management = imported / fastapi_baseline
        # The gate takes the fastest round of each (load only ever adds time): a busy machine
        # moves medians of a few rounds by 0.2-0.3x, the fastest rounds barely.
        best = fastest["ManagementApiFunction"] / fastest["(fastapi)"]
        summary["management_ratio"] = round(management, 2)
        summary["management_ratio_fastest"] = round(best, 2)
        summary["management_target"] = MANAGEMENT_TARGET
        summary["management_within_target"] = best <= MANAGEMENT_TARGET
        if first is not None and fastapi_first:
            summary["management_first_request_ratio"] = round(first / fastapi_first, 2)
        within = within and best <= MANAGEMENT_TARGET
    print(json.dumps(summary))
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
