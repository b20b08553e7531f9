"""Dataclasses to plain JSON-safe dicts and back, for command logs, event streams and snapshots.

A plain value is an int, a str, a bool, None, a list or a dict with str keys. Enums become their string
value, tuples and frozensets become lists (frozensets sorted, so the output is canonical), nested
dataclasses become dicts. Going back, the dataclass's type hints say how to rebuild each field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


SCALARS = frozenset({int, str, bool, type(None)})


def to_plain(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (a dataclass, enum, tuple, frozenset, dict or scalar)."""
    if type(value) in SCALARS:
        return value
    if isinstance(value, Enum):
        return value._value_
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: to_plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, frozenset | set):
        return sorted(to_plain(item) for item in value)
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    raise TypeError(f"cannot make {type(value).__name__} plain")


Converter = Callable[[Any], Any]


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def _identity(value: Any) -> Any:
    return value


@cache
def _converter(hint: Any) -> Converter:
    """A function that turns the plain form of a ``hint``-typed value back into that type."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _converter(options[0]) if len(options) == 1 else _identity
        if inner is _identity:
            return _identity
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0])
            return lambda value: tuple(item(x) for x in value)
        items = [_converter(arg) for arg in args]
        return lambda value: tuple(convert(x) for convert, x in zip(items, value, strict=True))
    if origin is frozenset:
        item = _converter(typing.get_args(hint)[0])
        return lambda value: frozenset(item(x) for x in value)
    if origin is dict:
        key_hint, value_hint = typing.get_args(hint)
        keys, values = _converter(key_hint), _converter(value_hint)
        return lambda value: {keys(k): values(v) for k, v in value.items()}
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            members: dict[Any, Any] = {member.value: member for member in hint}
            return lambda value: members.get(value) or hint(value)  # hint(value) raises for a stranger
        if dataclasses.is_dataclass(hint):
            return lambda value: from_plain(hint, value)
        if hint is int:
            return lambda value: int(value) if isinstance(value, str) else value  # JSON dict keys are strings
    return _identity


@cache
def _field_converters(cls: type) -> tuple[tuple[str, Converter], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((field.name, _converter(hints[field.name])) for field in dataclasses.fields(cls))


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass ``cls`` from the output of :func:`to_plain`; missing fields take defaults."""
    converters = _field_converters(cls)  # type: ignore[arg-type]
    return cls(**{name: convert(data[name]) for name, convert in converters if name in data})
