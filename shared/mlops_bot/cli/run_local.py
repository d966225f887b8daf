"""`mlops-bot run-local`: the whole stack on loopback until Ctrl-C or SIGTERM (what `make run` runs)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run-local", help="start the local stack (embedded AWS, gateway on $PORT, queue pollers)"
    )
    parser.add_argument("--template", type=Path, default=None, help="template.yaml to provision from")
    parser.add_argument("--port", type=int, default=None, help="gateway port (default $PORT or 8080)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where state survives a restart (default $MLOPS_BOT_STATE_DIR or .local/state)",
    )
    parser.add_argument("--clean", action="store_true", help="start from nothing: delete the state directory first")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_bot.local.stack import LocalStack, StackConfig

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = StackConfig.from_environment(args.template)
    if args.port is not None:
        config.port = args.port
    if args.state_dir is not None:
        config.state_dir = args.state_dir
    if args.clean and config.state_dir is not None and config.state_dir.exists():
        import shutil

        shutil.rmtree(config.state_dir)
    if not config.template_path.exists():
        print(f"error: {config.template_path} not found (run from the project root)", file=sys.stderr)
        return 2
    # The handler only records the signal: it runs on the main thread between any two bytecodes, so
    # taking a lock there (`threading.Event.set`) deadlocks when a second SIGTERM arrives while the
    # first one's `set` holds it (`make run` and its child both get one from a process-group kill).
    stop_signals: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stop_signals.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print("starting the local stack (embedded AWS from template.yaml)...", flush=True)
    stack = LocalStack(config)
    try:
        stack.start()
    except Exception as exc:
        print(f"error: the local stack did not start: {exc}", file=sys.stderr)
        return 1
    try:
        from mlops_bot.config import get_settings

        settings = get_settings()
        lines = [
            "mlops-bot local stack is up",
            f"  gateway        {stack.url}",
            f"  webhook        POST {stack.webhook_url}",
            f"  health         {stack.url}/health/ready",
            f"  dashboard      {stack.url}/dashboard (WebSocket {stack.websocket_url})",
            f"  embedded AWS   {stack.moto_url} (moto; AWS_ENDPOINT_URL for the aws CLI / boto3)",
            f"  webhook secret {config.webhook_secret}",
            f"  dry run        {str(settings.dry_run).lower()}   auto-enrol {str(settings.auto_enroll).lower()}",
            f"  GitHub API     {settings.github_api_url}",
        ]
        if stack.sandbox is not None:
            lines += [
                "                 ^ the embedded GitHub SANDBOX (no GITHUB_TOKEN or GitHub App credentials set):",
                "                   demo repositories acme-ml/*, real files and run logs; nothing leaves this machine",
                f"  sandbox page   {stack.url}/sandbox (what the bot did: pull requests, issues, re-runs...)",
            ]
        if config.state_dir is not None:
            restored = stack.restored
            kept = f"restored {restored['items']} items, {restored['messages']} queued messages" if restored else "new"
            lines.append(f"  state          {config.state_dir} ({kept}; `run-local --clean` starts from nothing)")
        else:
            lines.append("  state          in memory only (MLOPS_BOT_STATE_DIR is empty)")
        if config.bootstrap_api_key:
            lines.append("  admin API key  from MLOPS_BOT_BOOTSTRAP_API_KEY (tenant 'default')")
        elif stack.local_api_key and config.state_dir is not None:
            lines.append(f"  admin API key  in {config.state_dir / 'api-key'} (tenant 'default'; replay uses it)")
        lines += [
            "",
            "Send a sample event (then `--follow-up` delivers the green CI run of the fix):",
            "  .venv/bin/mlops-bot replay events/workflow_run_failure.json",
            "Stop with Ctrl-C (or SIGTERM).",
        ]
        print("\n".join(lines), flush=True)
        while not stop_signals:
            time.sleep(0.2)
        print("stopping...", flush=True)
    finally:
        stack.stop()
    print("stopped", flush=True)
    return 0
