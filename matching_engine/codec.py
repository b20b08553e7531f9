"""Dataclasses to plain JSON-safe dicts and back, for command logs, event streams and snapshots.

A plain value is an int, a str, a bool, None, a list or a dict with str keys. Enums become their string
value, tuples and frozensets become lists (frozensets sorted, so the output is canonical), nested
dataclasses become dicts. Going back, the dataclass's type hints say how to rebuild each field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (a dataclass, enum, tuple, frozenset, dict or scalar)."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(to_plain(item) for item in value)
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    raise TypeError(f"cannot make {type(value).__name__} plain")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value)
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], item) for item in value)
        return tuple(_convert(arg, item) for arg, item in zip(args, value, strict=True))
    if origin is frozenset:
        (arg,) = typing.get_args(hint)
        return frozenset(_convert(arg, item) for item in value)
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        return {_convert(key_hint, key): _convert(value_hint, item) for key, item in value.items()}
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if dataclasses.is_dataclass(hint):
            return from_plain(hint, value)
        if hint is int and isinstance(value, str):
            return int(value)  # dict keys come back from JSON as strings
    return value


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass of type ``cls`` from the output of :func:`to_plain`."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _convert(hints[field.name], data[field.name])
    return cls(**kwargs)
