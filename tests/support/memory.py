"""In-memory stand-ins for the queues and Step Functions, and a way to make one call fail.

The services' unit tests run on the in-memory stores (`mlops_bot.stores.*.InMemory*`) and these;
`fail_once` injects a crash between two writes at the store or queue layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class Crash(RuntimeError):
    """The process died here (what a Lambda timeout or an out-of-memory kill looks like to the code)."""


class RecordingQueue:
    """A queue that keeps what was sent, as SQS would deliver it (JSON round trip)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.attributes: list[dict[str, str]] = []

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        self.sent.append(json.loads(json.dumps(body, default=str)))
        self.attributes.append(dict(attributes or {}))
        return f"msg-{len(self.sent)}"


class MemoryRunner:
    """Step Functions' promises the healer relies on: a name starts one execution; a token completes once."""

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.completed: dict[str, dict[str, Any]] = {}
        self.refused_completions = 0

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self.executions.setdefault(name, payload)
        return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        if task_token in self.completed:
            self.refused_completions += 1
            return False
        self.completed[task_token] = output
        return True


def fail_once(target: object, method: str) -> Callable[[], int]:
    """Make `target.method` raise `Crash` on its next call only; returns a counter of calls made."""
    real = getattr(target, method)
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(f"{method} crashed")
        return real(*args, **kwargs)

    setattr(target, method, crashing)
    return lambda: calls["n"]


def crash_after(target: object, method: str) -> Callable[[], int]:
    """Make `target.method` do its work and then raise `Crash`, on its next call only."""
    real = getattr(target, method)
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        result = real(*args, **kwargs)
        if calls["n"] == 1:
            raise Crash(f"crashed after {method}")
        return result

    setattr(target, method, crashing)
    return lambda: calls["n"]
