"""Checks the fault tests make through the database."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from registry.context import Registry
from registry.orm import Order

RESTING = ("open",)


def best_bid_and_ask(registry: Registry, instrument_id: int) -> tuple[int | None, int | None]:
    """The best resting bid and ask of an instrument's order book in the database (None for an empty side)."""
    resting = (Order.instrument_id == instrument_id, Order.kind == "order", Order.status.in_(RESTING))
    with registry.uow() as uow:
        bid = uow.session.scalar(select(func.max(Order.price_fen)).where(*resting, Order.side == "buy"))
        ask = uow.session.scalar(select(func.min(Order.price_fen)).where(*resting, Order.side == "sell"))
    return bid, ask


def assert_book_not_crossed(registry: Registry, instrument_id: int) -> tuple[int | None, int | None]:
    """Best bid < best ask in the orders table (or a side is empty); the two prices."""
    bid, ask = best_bid_and_ask(registry, instrument_id)
    assert bid is None or ask is None or bid < ask, f"the book is crossed: best bid {bid} >= best ask {ask}"
    return bid, ask


def book_of_record(registry: Registry, instrument_id: int) -> dict[str, list[tuple[int, int]]]:
    """The resting orders in the database by side, as (price, tonnes) levels best first."""
    with registry.uow() as uow:
        rows = uow.session.execute(select(Order.side, Order.price_fen, func.sum(Order.remaining_t)).where(
            Order.instrument_id == instrument_id, Order.kind == "order", Order.status.in_(RESTING)).group_by(
            Order.side, Order.price_fen)).all()
    return {"bids": sorted(((int(p), int(q)) for s, p, q in rows if s == "buy" and p is not None), reverse=True),
            "asks": sorted((int(p), int(q)) for s, p, q in rows if s == "sell" and p is not None)}


def shown_book(url: str, code: str) -> dict[str, list[tuple[int, int]]]:
    """The book a server shows (GET /market/{code}/depth), as (price, tonnes) levels best first."""
    depth = httpx.get(f"{url}/market/{code}/depth", params={"levels": 50}, timeout=30).json()["depth"]
    return {side: [(level["price_fen"], level["quantity_t"]) for level in depth[side]] for side in ("bids", "asks")}
