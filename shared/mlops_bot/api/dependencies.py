"""What every route can ask for: settings, the state table, the caller."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header

from mlops_bot.access.api_keys import Principal, authenticate
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.config import Settings, get_settings
from mlops_bot.errors import Forbidden


@lru_cache(maxsize=1)
def state_table() -> StateTable:
    return StateTable(get_settings().table_name)


def settings_dependency() -> Settings:
    return get_settings()


def principal(
    authorization: Annotated[str | None, Header()] = None,
    table: StateTable = Depends(state_table),  # noqa: B008
) -> Principal:
    return authenticate(table, authorization)


def require(permission: str):  # type: ignore[no-untyped-def]
    def check(caller: Principal = Depends(principal)) -> Principal:  # noqa: B008
        if not caller.can(permission):  # type: ignore[arg-type]
            raise Forbidden("Insufficient permissions", f"This call needs '{permission}'")
        return caller

    return check
