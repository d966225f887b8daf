"""The local stack's stand-ins for the WebSocket API and the DynamoDB stream event source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_bot.local.runtime import FunctionError
from mlops_bot.local.streams import StreamPoller, StreamSource, matches, stream_sources
from mlops_bot.local.template import Template
from mlops_bot.local.websocket import _select_route, websocket_apis

ROOT = Path(__file__).resolve().parents[2]


def record(sequence: int, entity: str = "incident") -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(sequence), "NewImage": {"entity": {"S": entity}}},
    }


class ScriptedFunctions:
    """Answers each invocation from a script: a result, or an exception to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.batches: list[list[str]] = []

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        answer = self.answers.pop(0) if self.answers else {"batchItemFailures": []}
        if isinstance(answer, Exception):
            raise answer
        return answer


def poller(functions: ScriptedFunctions, **source: Any) -> StreamPoller:
    spec = StreamSource(function="BroadcasterFunction", stream="arn", **source)
    return StreamPoller(streams=None, functions=functions, source=spec, stream_arn="arn", region="us-east-1")  # type: ignore[arg-type]


def test_the_template_wires_the_dashboard_routes_and_the_stream() -> None:
    template = Template.load(ROOT / "template.yaml")
    [api] = websocket_apis(template)
    assert api.selection_expression == "$request.body.action"
    assert {key: route.function for key, route in api.routes.items()} == {
        "$connect": "DashboardFunction",
        "$disconnect": "DashboardFunction",
        "subscribe": "DashboardFunction",
    }
    assert api.routes["subscribe"].two_way and not api.routes["$connect"].two_way
    [source] = stream_sources(template)
    assert (source.function, source.starting_position, source.batch_size) == ("BroadcasterFunction", "LATEST", 100)
    assert source.report_failures and source.bisect
    assert matches(source.filters[0], record(1, "incident")) and matches(source.filters[0], record(2, "event"))
    assert not matches(source.filters[0], record(3, "dashboard_connection"))


def test_routes_are_selected_from_the_body_as_api_gateway_does() -> None:
    assert _select_route("$request.body.action", '{"action": "subscribe"}') == "subscribe"
    assert _select_route("$request.body.action", '{"other": 1}') == "$default"
    assert _select_route("$request.body.action", "not json") == "$default"
    assert _select_route("$request.body.a.b", '{"a": {"b": "deep"}}') == "deep"


def test_filter_rules_the_template_may_use() -> None:
    image = {"dynamodb": {"NewImage": {"entity": {"S": "incident"}, "status": {"S": "open"}}}}
    assert matches({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "op"}]}}}}, image)
    assert matches({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["resolved"]}]}}}}, image)
    assert matches({"dynamodb": {"OldImage": [{"exists": False}]}}, image)
    assert not matches({"dynamodb": {"NewImage": {"status": {"S": ["resolved"]}}}}, image)


def test_a_reported_failure_retries_from_the_lowest_failed_record() -> None:
    functions = ScriptedFunctions({"batchItemFailures": [{"itemIdentifier": "3"}]}, {"batchItemFailures": []})
    poller(functions, report_failures=True).deliver([record(n) for n in range(1, 5)])
    assert functions.batches == [["1", "2", "3", "4"], ["3", "4"]]


def test_a_raising_function_has_its_batch_bisected_until_the_poison_record_is_alone() -> None:
    error = FunctionError({"errorType": "ValueError", "errorMessage": "poison"})
    functions = ScriptedFunctions(error, {}, error, error, error)
    target = poller(functions, bisect=True, max_retries=1)
    target.deliver([record(n) for n in range(1, 5)])
    assert functions.batches == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["3"], ["3"], ["4"]]
    assert target.dropped == 1
