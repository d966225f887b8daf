"""Races against moto: its DynamoDB backend is not thread-safe, real DynamoDB is.

DynamoDB applies each write (and each transaction) atomically; moto runs them as plain Python,
and a cancelled transaction restores a snapshot of the whole table, undoing whatever another
thread wrote meanwhile. `serial_dynamodb` gives moto the atomicity the real service has, so a
race test exercises our conditions, not moto's missing locks.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "transact_write_items")


@pytest.fixture(autouse=True)
def serial_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lock = threading.RLock()

    def serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return operation(*args, **kwargs)

        return run

    for name in _OPERATIONS:
        monkeypatch.setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))
    yield
