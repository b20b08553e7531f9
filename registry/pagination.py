"""Offset pagination shared by every list: a page of items and the total they come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def paginate(session: Session, query: Select[Any], offset: int, limit: int) -> Page[Any]:
    """Run `query` for one page; `limit` is capped so no caller can ask for the whole table at once."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    items = list(session.execute(query.offset(offset).limit(limit)).scalars())
    return Page(items, total, offset, limit)
