"""Reading `template.yaml` (CloudFormation short-form tags included) into what the stack needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INTRINSICS = {
    "Ref": "Ref",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "Join": "Fn::Join",
    "If": "Fn::If",
    "Not": "Fn::Not",
    "Equals": "Fn::Equals",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Condition": "Condition",
}


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A SafeLoader that turns `!Ref X` into `{"Ref": "X"}` and so on."""


def _make_constructor(full_name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if full_name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {full_name: value}

    return construct


for _short, _full in INTRINSICS.items():
    _TemplateLoader.add_constructor(f"!{_short}", _make_constructor(_full))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = "^"
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("+}"):
                pattern += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                pattern += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                pattern += re.escape(part)
        found = re.match(pattern + "$", path)
        if not found:
            return None
        return {k.replace("+", ""): v for k, v in found.groupdict().items()}

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers literal paths, then fewer greedy variables, then exact methods."""
        return ("+}" not in self.path, self.path.count("/") - self.path.count("{"), self.method != "ANY")


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str
    batch_size: int
    report_failures: bool


@dataclass
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def module_file(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def function_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass
class Template:
    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> Template:
        path = Path(path)
        return cls(path=path, document=yaml.load(path.read_text(), Loader=_TemplateLoader))  # noqa: S506

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.document.get("Resources", {})
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}

    def parameter_defaults(self) -> dict[str, str]:
        return {k: str(v.get("Default", "")) for k, v in self.document.get("Parameters", {}).items()}

    def functions(self) -> dict[str, FunctionSpec]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        specs: dict[str, FunctionSpec] = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_uri=self.root / props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
                memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
                environment=env,
            )
        return specs

    def _events(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") == event_type:
                    found.append((logical_id, event.get("Properties", {})))
        return found

    def http_routes(self) -> list[Route]:
        routes = [
            Route(
                method=str(p.get("Method", "ANY")).upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
                path=str(p["Path"]),
                function=fid,
            )
            for fid, p in self._events("HttpApi")
        ]
        return sorted(routes, key=lambda r: r.specificity, reverse=True)

    def queue_sources(self) -> list[QueueSource]:
        sources = []
        for fid, props in self._events("SQS"):
            queue = props["Queue"]
            queue_id = queue["Fn::GetAtt"][0] if isinstance(queue, dict) else str(queue)
            sources.append(
                QueueSource(
                    function=fid,
                    queue=queue_id,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
        return sources
