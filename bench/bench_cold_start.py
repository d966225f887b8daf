"""Cold start: each handler's import time in a fresh interpreter, against a bare powertools handler.

Lambda's cold start is dominated by imports. Each handler module is imported the way the runtime
does it (its folder on sys.path, the layer's package importable) in a new interpreter, N times;
the baseline, measured in the same run, is a handler that only imports powertools' Logger,
Tracer and Metrics. The webhook ingress must stay within 1.5x of the baseline.

Run: .venv/bin/python bench/bench_cold_start.py [--repeat 7]
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "handler.py"
        bare.write_text(BARE)
        paths = {"(baseline)": bare}
        for logical_id, spec in sorted(Template.load(ROOT / "template.yaml").functions().items()):
            paths[logical_id] = spec.module_file
        rows = measure(paths, args.repeat)
    baseline = rows.pop("(baseline)")
    print(f"{'handler':32} {'import ms':>10} {'x baseline':>11}")
    print(f"{'(bare powertools handler)':32} {baseline * 1000:10.1f} {1.0:11.2f}")
    for name, seconds in rows.items():
        print(f"{name:32} {seconds * 1000:10.1f} {seconds / baseline:11.2f}")
    ratio = rows["WebhookIngressFunction"] / baseline
    print(
        json.dumps(
            {
                "bench": "cold_start",
                "baseline_ms": round(baseline * 1000, 1),
                "handlers_ms": {k: round(v * 1000, 1) for k, v in rows.items()},
                "ingress_ratio": round(ratio, 2),
                "ingress_target": 1.5,
            }
        )
    )
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
