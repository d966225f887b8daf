"""Ingress throughput and latency through the local stack, and the handler's own CPU per event.

1. Own CPU: `admit()` with in-memory stand-ins for DynamoDB and SQS (so AWS calls cost nothing),
   against a baseline doing only what any webhook receiver must (HMAC check + JSON parse).
2. Load: a second process posts N signed webhooks over loopback with C concurrent clients; we
   report requests/s, p50/p99 latency, and then wait until the detector has recorded every event:
   lost = sent - recorded must be 0. The same loader against `GET /health/live` is the baseline.

Run: .venv/bin/python bench/bench_ingress.py [--events 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from mlops_bot.adapters.dynamodb import StateTable  # noqa: E402
from mlops_bot.config import Settings  # noqa: E402
from mlops_bot.local.stack import LocalStack, StackConfig, free_port  # noqa: E402
from mlops_bot.storage import keys  # noqa: E402
from mlops_bot.webhooks.service import WebhookDependencies, WebhookRequest, admit  # noqa: E402
from mlops_bot.webhooks.signature import sign, verify  # noqa: E402

SECRET = "bench-secret"
LOADER = r"""
import json, sys, time, uuid, hashlib, hmac
from concurrent.futures import ThreadPoolExecutor
import httpx
url, secret, count, concurrency, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def one(i):
    repo = f"bench/repo-{i % 20}"
    body = json.dumps({"action": "completed", "repository": {"full_name": repo},
                       "workflow_run": {"id": 10_000 + i, "name": "CI", "conclusion": "success",
                                        "head_branch": "main", "head_sha": "ab" * 20, "run_attempt": 1}}).encode()
    headers = {"content-type": "application/json", "x-github-event": "workflow_run",
               "x-github-delivery": str(uuid.uuid4()),
               "x-hub-signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}
    started = time.perf_counter()
    if mode == "webhook":
        status = client.post(url, content=body, headers=headers).status_code
    else:
        status = client.get(url).status_code
    return time.perf_counter() - started, status
client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))
started = time.perf_counter()
with ThreadPoolExecutor(concurrency) as pool:
    results = list(pool.map(one, range(count)))
elapsed = time.perf_counter() - started
print(json.dumps({"elapsed": elapsed, "latencies": [r[0] for r in results], "statuses": [r[1] for r in results]}))
"""


class MemoryTable:
    """Just enough of StateTable for admission, in memory."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key: dict[str, str], consistent: bool = True) -> dict[str, Any] | None:
        return self.items.get((key["pk"], key["sk"]))

    def put_new(self, item: dict[str, Any]) -> bool:
        return self.items.setdefault((item["pk"], item["sk"]), dict(item)) is item or True

    def set_fields(self, key: dict[str, str], fields: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.setdefault((key["pk"], key["sk"]), dict(key))
        item.update(fields)
        return item

    def increment(self, key: dict[str, str], counter: str, expires_at: int | None = None) -> int:
        item = self.items.setdefault((key["pk"], key["sk"]), dict(key))
        item[counter] = int(item.get(counter, 0)) + 1
        return int(item[counter])


class MemoryQueue:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        json.dumps(body)
        self.sent += 1
        return str(self.sent)


def webhook_body(i: int) -> bytes:
    return json.dumps(
        {
            "action": "completed",
            "repository": {"full_name": f"bench/repo-{i % 20}"},
            "workflow_run": {
                "id": i,
                "name": "CI",
                "conclusion": "failure",
                "head_branch": "main",
                "head_sha": "ab" * 20,
                "run_attempt": 1,
            },
        }
    ).encode()


def own_cpu(events: int) -> tuple[float, float]:
    settings = Settings(MLOPS_BOT_AUTO_ENROLL="true", MLOPS_BOT_WEBHOOK_RATE_LIMIT="1000000")  # type: ignore[call-arg]
    deps = WebhookDependencies(settings, MemoryTable(), MemoryQueue(), lambda: SECRET)  # type: ignore[arg-type]
    requests = []
    for i in range(events):
        body = webhook_body(i)
        requests.append(
            WebhookRequest(
                {
                    "x-github-event": "workflow_run",
                    "x-github-delivery": str(uuid.uuid4()),
                    "x-hub-signature-256": sign(SECRET, body),
                },
                body,
            )
        )
    started = time.process_time()
    for request in requests:
        admit(request, deps)
    ours = (time.process_time() - started) / events
    started = time.process_time()
    for request in requests:
        verify(SECRET, request.body, request.headers["x-hub-signature-256"])
        json.loads(request.body)
    baseline = (time.process_time() - started) / events
    return ours, baseline


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(url: str, events: int, concurrency: int, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", LOADER, url, SECRET, str(events), str(concurrency), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    ours, baseline = own_cpu(2000)
    print(
        f"own CPU per event: {ours * 1e6:.0f} us (HMAC + JSON baseline {baseline * 1e6:.0f} us, x{ours / baseline:.1f})"
    )

    config = StackConfig(
        template_path=ROOT / "template.yaml",
        port=free_port(),
        webhook_secret=SECRET,
        extra_environment={"MLOPS_BOT_WEBHOOK_RATE_LIMIT": "1000000"},
    )
    with LocalStack(config) as stack:
        health = load(f"{stack.url}/health/live", args.events, args.concurrency, "health")
        hooks = load(stack.webhook_url, args.events, args.concurrency, "webhook")
        accepted = sum(1 for s in hooks["statuses"] if s == 202)
        table = StateTable(stack.table_name())
        deadline = time.monotonic() + 180

        def recorded() -> int:
            return sum(
                len(table.query(keys.repository_events_pk("default", f"bench/repo-{r}"), "EVENT#")) for r in range(20)
            )

        count = recorded()
        while count < accepted and time.monotonic() < deadline:
            time.sleep(0.5)
            count = recorded()
        drained = time.monotonic() - (deadline - 180)
    rate = args.events / hooks["elapsed"]
    health_rate = args.events / health["elapsed"]
    result = {
        "bench": "ingress",
        "events": args.events,
        "concurrency": args.concurrency,
        "accepted": accepted,
        "recorded_by_detector": count,
        "lost": accepted - count,
        "webhooks_per_s": round(rate, 1),
        "p50_ms": round(percentile(hooks["latencies"], 0.5) * 1000, 1),
        "p99_ms": round(percentile(hooks["latencies"], 0.99) * 1000, 1),
        "health_per_s": round(health_rate, 1),
        "health_p50_ms": round(percentile(health["latencies"], 0.5) * 1000, 1),
        "throughput_ratio_vs_health": round(rate / health_rate, 2),
        "own_cpu_us": round(ours * 1e6),
        "baseline_cpu_us": round(baseline * 1e6),
        "own_cpu_ratio": round(ours / baseline, 1),
        "drain_seconds": round(drained, 1),
    }
    print(
        f"webhooks: {rate:.0f}/s p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms; "
        f"health baseline {health_rate:.0f}/s (ratio {result['throughput_ratio_vs_health']}); "
        f"accepted {accepted}/{args.events}, recorded {count}, lost {accepted - count}"
    )
    print(json.dumps(result))
    return 0 if accepted == args.events and count == accepted else 1


if __name__ == "__main__":
    sys.exit(main())
