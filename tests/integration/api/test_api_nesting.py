"""A tenant's deeply nested body is a 400 at the edge, not a 5xx nor a healing request no healer can read."""

from __future__ import annotations

import pytest

from tests.integration.api.conftest import Api


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [40, 250, 400])
def test_deeply_nested_heal_parameters_are_400_and_nothing_is_queued(api: Api, depth: int) -> None:
    incident = api.incident(status="awaiting_human")
    answer = api.client.post(
        f"/api/failures/{incident['id']}/heal",
        headers={**api.key("write"), "content-type": "application/json"},
        content=f'{{"parameters": {nested(depth)}}}',
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "INVALID_REQUEST" and "nest" in str(error["details"]) and error["request_id"]
    assert api.healing_messages() == []
