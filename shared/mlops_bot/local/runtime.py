"""Running the template's Lambda handlers in this process, the way Lambda would call them.

Each handler module is imported from its own file under a unique module name (every function has a
`handler.py`), with its `CodeUri` folder first on `sys.path` while it loads. Step Functions tasks
reach the handlers through moto's Lambda backend: `install_moto_hook` replaces moto's Docker-only
`LambdaFunction._invoke_lambda` with an in-process call. That hook is private to moto, which is why
moto is pinned exactly and `tests/integration/test_local_stack.py` fails loudly when it changes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from mlops_bot.local.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that powertools and Mangum read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionError(Exception):
    """A handler raised; carries Lambda's error payload."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "handler failed"))
        self.payload = payload


class LocalFunctions:
    """The template's functions, importable and invocable by logical id or by deployed name."""

    def __init__(self, specs: dict[str, FunctionSpec], name_prefix: str, region: str, account: str) -> None:
        self.specs = specs
        self.name_prefix = name_prefix
        self.region = region
        self.account = account
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = dict.fromkeys(specs, 0)

    def deployed_name(self, logical_id: str) -> str:
        return f"{self.name_prefix}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.deployed_name(logical_id)}"

    def logical_id_for(self, name_or_arn: str) -> str | None:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        for logical_id in self.specs:
            if name in (logical_id, self.deployed_name(logical_id)):
                return logical_id
        return None

    def load(self, logical_id: str) -> Handler:
        spec = self.specs[logical_id]
        with self._lock:
            module = self._modules.get(logical_id)
            if module is None:
                module = self._import(spec)
                self._modules[logical_id] = module
        handler: Handler = getattr(module, spec.function_name)
        return handler

    @staticmethod
    def _import(spec: FunctionSpec) -> ModuleType:
        module_name = f"mlops_bot_local_functions.{spec.logical_id}"
        loader_spec = importlib.util.spec_from_file_location(module_name, spec.module_file)
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"cannot load {spec.module_file}")
        module = importlib.util.module_from_spec(loader_spec)
        code_dir = str(spec.code_uri.resolve())
        sys.path.insert(0, code_dir)
        try:
            sys.modules[module_name] = module
            loader_spec.loader.exec_module(module)
        finally:
            sys.path.remove(code_dir)
        return module

    def context(self, logical_id: str) -> LocalContext:
        spec = self.specs[logical_id]
        return LocalContext(
            function_name=self.deployed_name(logical_id),
            memory_limit_in_mb=spec.memory,
            invoked_function_arn=self.arn(logical_id),
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=spec.timeout,
        )

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Call the handler; a raised exception becomes `FunctionError` with Lambda's error shape."""
        handler = self.load(logical_id)
        _ensure_event_loop()
        self.invocations[logical_id] = self.invocations.get(logical_id, 0) + 1
        try:
            return handler(event, self.context(logical_id))
        except Exception as exc:
            raise FunctionError(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-5:],
                }
            ) from exc


def _ensure_event_loop() -> None:
    """Lambda calls handlers on a main thread with an event loop; Mangum relies on that."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def install_moto_hook(functions: LocalFunctions) -> Callable[[], None]:
    """Route moto's Lambda invocations (Step Functions tasks) to `functions`; returns an undo."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction._invoke_lambda

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        logical_id = functions.logical_id_for(self.function_name)
        if logical_id is None:
            return original(self, event)
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        try:
            result = functions.invoke(logical_id, payload)
        except FunctionError as failure:
            return json.dumps(failure.payload), True, failure.payload["errorMessage"]
        return json.dumps(result, default=str), False, ""

    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]

    def undo() -> None:
        LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]

    return undo
