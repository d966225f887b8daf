"""The CloudWatch dashboard and the code agree on the bot's own metrics (namespace MlopsBot).

A widget naming a metric no code emits stays empty forever; a metric no widget shows is paid for
and never looked at. Metric names are read from the sources (`metrics.add_metric(name=...)`),
each with the `service` dimension of the powertools `Metrics(...)` of its module, and compared
with the `MlopsBot` metrics of `OperationsDashboard`. f-string names must be taught here how they
expand (`Webhook{status}`: every status the webhook ingress can answer).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from mlops_bot import errors
from mlops_bot.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "MlopsBot"
Metric = tuple[str, str]  # (name, service)


def sources() -> Iterator[Path]:
    for folder in (ROOT / "functions", ROOT / "shared"):
        yield from (p for p in sorted(folder.rglob("*.py")) if "__pycache__" not in p.parts)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _constant(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def webhook_statuses() -> set[int]:
    """Every status the ingress answers: its Admission codes, the DomainErrors it raises, 500 as a fallback."""
    files = [
        ROOT / "functions" / "webhook_ingress" / "handler.py",
        *sorted((ROOT / "shared/mlops_bot/webhooks").glob("*.py")),
    ]
    statuses: set[int] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "Admission" and node.args and isinstance(node.args[0], ast.Constant):
                statuses.add(int(node.args[0].value))
            error = getattr(errors, node.func.id, None)
            if isinstance(error, type) and issubclass(error, errors.DomainError):
                statuses.add(error.status_code)
    return statuses


# f-string metric names: the literal prefix -> every value the placeholder can take.
DYNAMIC: dict[str, Callable[[], set[int]]] = {"Webhook": webhook_statuses}


def emitted() -> dict[Metric, Path]:
    found: dict[Metric, Path] = {}
    for path in sources():
        tree = ast.parse(path.read_text())
        services = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Metrics":
                namespace = _constant(_keyword(node, "namespace"))
                assert namespace in (None, NAMESPACE), f"{path}: metrics namespace {namespace!r}"
                services.add(_constant(_keyword(node, "service")))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_metric"):
                continue
            assert len(services) == 1 and None not in services, f"{path}: one Metrics(service=...) per module"
            service = next(iter(services))
            assert service is not None
            name = _keyword(node, "name")
            if (literal := _constant(name)) is not None:
                found[(literal, service)] = path
            elif isinstance(name, ast.JoinedStr):
                prefix = _constant(name.values[0]) if name.values else None  # type: ignore[arg-type]
                assert prefix in DYNAMIC and len(name.values) == 2, (
                    f"{path}: teach this test to expand {ast.unparse(name)}"
                )
                for value in DYNAMIC[prefix]():
                    found[(f"{prefix}{value}", service)] = path
            else:
                raise AssertionError(f"{path}: metric name {ast.unparse(node)} is not a literal or an f-string")
    return found


def on_dashboard() -> set[Metric]:
    body = Template.load(ROOT / "template.yaml").resources["OperationsDashboard"]["Properties"]["DashboardBody"]
    text = re.sub(r"\$\{[^}]+\}", "x", body["Fn::Sub"] if isinstance(body, dict) else body)
    shown: set[Metric] = set()
    for widget in json.loads(text)["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            assert row[0] != "...", "spell out every dashboard metric row"
            if row[0] != NAMESPACE:
                continue
            dimensions = dict(zip(row[2::2], row[3::2], strict=False))
            shown.add((row[1], str(dimensions.get("service"))))
    return shown


def test_the_webhook_status_expansion_knows_the_ingress_answers() -> None:
    assert webhook_statuses() >= {200, 202, 400, 401, 413, 422, 429, 500}


def test_every_dashboard_metric_is_emitted_by_the_code_with_that_service() -> None:
    code = set(emitted())
    assert on_dashboard() - code == set()


def test_every_emitted_metric_is_on_the_dashboard() -> None:
    missing = {
        f"{name} (service {service}, {path.relative_to(ROOT)})"
        for (name, service), path in emitted().items()
        if (name, service) not in on_dashboard()
    }
    assert missing == set()
