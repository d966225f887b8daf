"""Plain record classes for the diagnosis hot path, standing in for `dataclasses` there.

`dataclasses` imports `inspect` (and with it `ast`, `dis`, `tokenize`); with `typing` that was a third of
``mlops-bot diagnose``'s start. A record class names its fields in `_fields` and writes its own
``__init__``; this base gives it what the dataclass decorator gave: ``==`` over the fields, a readable
``repr``, and for `FrozenRecord` a hash and no assignment after construction.
"""

from __future__ import annotations


class Record:
    """Equality and ``repr`` over `_fields` (a mutable record is unhashable, as a dataclass is)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({shown})"


class FrozenRecord(Record):
    """A `Record` that cannot change after ``__init__`` (which sets fields through `_init`), and hashes."""

    __slots__ = ()

    def _init(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {self.__class__.__qualname__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {self.__class__.__qualname__}")

    def __hash__(self) -> int:  # type: ignore[override]  # frozen records hash, as frozen dataclasses do
        return hash(self._values())
