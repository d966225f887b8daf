"""Cold start: each handler's import time in a fresh interpreter, against two bare handlers.

Lambda's cold start is dominated by imports. Each handler module is imported the way the runtime
does it (its folder on sys.path, the layer's package importable) in a new interpreter, N times;
two baselines are measured in the same run: a handler that only imports powertools' Logger,
Tracer and Metrics, and FastAPI + Mangum alone (one route behind Mangum). The webhook ingress
must stay within 1.5x of the first (the exit status), the management API within 1.3x of the second
(reported as `management_within_target`; with --strict, the exit status too - not met yet, see
docs/performance.md).

Run: .venv/bin/python bench/bench_cold_start.py [--repeat 7] [--only ManagementApiFunction ...] [--strict]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
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
sys.path.insert(0, {folder!r})
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - started)
"""
INGRESS_TARGET = 1.5
MANAGEMENT_TARGET = 1.3
ENV = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}


def import_once(path: Path) -> float:
    code = PROBE.format(folder=str(path.parent), path=str(path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def measure(paths: dict[str, Path], repeat: int) -> dict[str, float]:
    """Medians, with the candidates interleaved round by round so machine load hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeat):
        for name, path in paths.items():
            samples[name].append(import_once(path))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=None, help="logical ids of the handlers to measure")
    parser.add_argument(
        "--strict", action="store_true", help="also fail when the management API is over its target (not yet met)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths: dict[str, Path] = {}
        for name, source in (("(baseline)", BARE), ("(fastapi)", BARE_FASTAPI)):
            (Path(folder) / name).mkdir()
            paths[name] = Path(folder) / name / "handler.py"
            paths[name].write_text(source)
        for logical_id, spec in sorted(Template.load(ROOT / "template.yaml").functions().items()):
            if args.only is None or logical_id in args.only:
                paths[logical_id] = spec.module_file
        rows = measure(paths, args.repeat)
    baseline = rows.pop("(baseline)")
    fastapi_baseline = rows.pop("(fastapi)")
    print(f"{'handler':32} {'import ms':>10} {'x baseline':>11} {'x fastapi':>10}")
    labelled = {"(bare powertools handler)": baseline, "(FastAPI + Mangum, one route)": fastapi_baseline, **rows}
    for name, seconds in labelled.items():
        print(f"{name:32} {seconds * 1000:10.1f} {seconds / baseline:11.2f} {seconds / fastapi_baseline:10.2f}")
    summary: dict[str, object] = {
        "bench": "cold_start",
        "baseline_ms": round(baseline * 1000, 1),
        "fastapi_baseline_ms": round(fastapi_baseline * 1000, 1),
        "handlers_ms": {k: round(v * 1000, 1) for k, v in rows.items()},
    }
    within = True
    if "WebhookIngressFunction" in rows:
        summary["ingress_ratio"] = round(rows["WebhookIngressFunction"] / baseline, 2)
        summary["ingress_target"] = INGRESS_TARGET
        within = within and rows["WebhookIngressFunction"] / baseline <= INGRESS_TARGET
    if "ManagementApiFunction" in rows:
        management = rows["ManagementApiFunction"] / fastapi_baseline
        summary["management_ratio"] = round(management, 2)
        summary["management_target"] = MANAGEMENT_TARGET
        summary["management_within_target"] = management <= MANAGEMENT_TARGET
        if args.strict:
            within = within and management <= MANAGEMENT_TARGET
    print(json.dumps(summary))
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
