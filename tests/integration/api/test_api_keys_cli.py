"""`mlops-bot generate-api-key / list-api-keys / revoke-api-key` (and `api-key ...`) against the table."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from mlops_bot.access import api_keys
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.cli import main
from mlops_bot.errors import Unauthorized
from mlops_bot.stores.api_keys import DynamoApiKeyStore
from tests.support.aws import MockState


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_generate_prints_the_key_once_and_it_authenticates(aws: MockState, capsys: pytest.CaptureFixture[str]) -> None:
    code, issued = _run(capsys, "generate-api-key", "--name", "monitoring-system", "--permissions", "read")
    assert code == 0
    assert set(issued) == {"id", "name", "key", "permissions", "tenant_id", "created_at"}
    assert issued["permissions"] == ["read"] and issued["tenant_id"] == "default"
    principal = api_keys.authenticate_key(DynamoApiKeyStore(StateTable(aws.table_name)), issued["key"])
    assert principal.key_id == issued["id"]
    assert not principal.can("write")


def test_list_shows_keys_without_secrets(aws: MockState, capsys: pytest.CaptureFixture[str]) -> None:
    _, first = _run(capsys, "generate-api-key", "--name", "ci", "--permissions", "write", "--tenant", "team-a")
    _, second = _run(capsys, "api-key", "generate", "--name", "ops", "--permissions", "admin")
    code, listed = _run(capsys, "list-api-keys")
    assert code == 0
    assert {k["id"] for k in listed} == {first["id"], second["id"]}
    text = json.dumps(listed)
    assert first["key"] not in text and "key_hash" not in text
    _, only_a = _run(capsys, "api-key", "list", "--tenant", "team-a")
    assert [k["id"] for k in only_a] == [first["id"]]


def test_revoke_stops_the_key(aws: MockState, capsys: pytest.CaptureFixture[str]) -> None:
    _, issued = _run(capsys, "generate-api-key", "--name", "old", "--permissions", "admin")
    code, revoked = _run(capsys, "revoke-api-key", "--id", issued["id"])
    assert code == 0
    assert revoked["revoked"] is True
    with pytest.raises(Unauthorized):
        api_keys.authenticate_key(DynamoApiKeyStore(StateTable(aws.table_name)), issued["key"])
    _, listed = _run(capsys, "api-key", "list")
    assert listed[0]["revoked"] is True


def test_revoking_an_unknown_key_fails(aws: MockState, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-key", "revoke", "--id", "key-nope"]) == 1
    assert "not found" in capsys.readouterr().err


def test_permissions_are_checked_by_the_parser(aws: MockState) -> None:
    with pytest.raises(SystemExit):
        main(["generate-api-key", "--name", "x", "--permissions", "root"])


def test_create_user_reads_the_password_from_stdin(
    aws: MockState, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    code, user = _run(capsys, "create-user", "--username", "Ops@Example.com", "--role", "admin", "--password-stdin")
    assert code == 0
    assert user["username"] == "ops@example.com" and user["role"] == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-user", "--username", "x@example.com", "--password-stdin"]) == 1
