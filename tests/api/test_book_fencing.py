"""One owner per book even when PostgreSQL drops the session that holds the book's lock (Trust II, split
brain). The process that takes a book increments its epoch; every batch a writer commits checks the epoch in
the same transaction, so a process that lost the lock without noticing yet can never commit again: it answers
"retry", lets go of the book and routes to the new owner. These tests hold the stale owner's monitor back (as
a network partition would delay its probe) so that only the epoch stands between it and a crossed book."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from api.exchange.cluster import LOCK_NAMESPACE, ClusterCoordinator
from api.exchange.commands import from_params
from api.exchange.routing import Exchange
from api.routers.orders import OrderIn
from registry.context import Registry
from registry.errors import Unavailable
from registry.orm import Order
from registry.principals import Principal
from registry.services import cash, instruments, ledger_check
from tests.conftest import Backend
from tests.support import issue_to, seed_ledger

CODE = "JXCI-2023"


@pytest.fixture
def market(backend: Backend, registry: Registry) -> tuple[int, Principal, Principal]:
    if backend.name != "postgres":
        pytest.skip("books change hands between processes only on PostgreSQL with Redis")
    bureau, holders = seed_ledger(registry)
    issue_to(registry, bureau, 1000)
    seller, buyer = holders[0], holders[1]
    with registry.uow(bureau) as uow:
        for holder in holders:
            instruments.set_trading_status(uow, holder.participant_id, "admitted", "test")
        instrument_id = instruments.define(uow, code=CODE, name_zh="2023", name_en="2023", vintage=2023,
                                           methodology_field=None, config={"reference_price_fen": 5000}).id
        cash.record(uow, bureau, participant_id=buyer.participant_id, kind="deposit", amount_fen=10_000_000,
                    bank_reference="BANK-1")
        uow.commit()
    return instrument_id, seller, buyer


@pytest.fixture
def two_processes(backend: Backend, registry: Registry) -> Iterator[tuple[Exchange, Exchange]]:
    dsn = make_url(backend.url).set(drivername="postgresql").render_as_string(hide_password=False)
    redis_url = backend.kv.url  # type: ignore[attr-defined]
    stale = ClusterCoordinator(dsn, redis_url)
    stale._check_locks = lambda: None  # type: ignore[method-assign]  # its probe is held back by the fault
    first, second = Exchange(registry, 10, stale), Exchange(registry, 10, ClusterCoordinator(dsn, redis_url))
    yield first, second
    first.stop()
    second.stop()


def _order(who: Principal, cid: str, side: str, quantity_t: int, price_fen: int) -> tuple[Principal, dict[str, Any]]:
    body = OrderIn(instrument=CODE, client_order_id=cid, side=side, quantity_t=quantity_t,  # type: ignore[arg-type]
                   price_fen=price_fen).model_dump(exclude={"instrument"})
    return who, body


def _place(exchange: Exchange, order: tuple[Principal, dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(exchange.place(CODE, from_params("place", order[0], order[1])))


def _terminate_lock_session(owner_url: str, instrument_id: int) -> None:
    dsn = make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.objid = %s AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LOCK_NAMESPACE + instrument_id,)).fetchall()
    assert ended == [(True,)]


def _open(registry: Registry, side: str) -> list[int]:
    with registry.uow() as uow:
        return list(uow.session.scalars(select(Order.price_fen).where(
            Order.kind == "order", Order.side == side, Order.status.in_(("open", "partially_filled")))))


def test_a_stale_owner_never_commits_and_routes_to_the_new_one(
        market: tuple[int, Principal, Principal], two_processes: tuple[Exchange, Exchange],
        registry: Registry, postgres_owner_url: str) -> None:
    instrument_id, seller, buyer = market
    first, second = two_processes
    assert first.coordinator.owns(instrument_id)
    assert _place(first, _order(seller, "s0", "sell", 10, 5100))["status"] == "open"

    _terminate_lock_session(postgres_owner_url, instrument_id)
    assert second.coordinator.owns(instrument_id)  # the lock was free: a second owner, at a newer epoch
    assert second.coordinator.epoch(instrument_id) == (first.coordinator.epoch(instrument_id) or 0) + 1

    # The first process has not noticed (its probe is held back) and still takes a sell at 5021 for its book.
    with pytest.raises(Unavailable):
        _place(first, _order(seller, "s1", "sell", 10, 5021))
    assert not first.coordinator.owns_now(instrument_id)  # it let go of the book
    # The new owner takes a buy at 5021: nothing to cross in the book of record, so it rests.
    assert _place(second, _order(buyer, "b1", "buy", 10, 5021))["status"] == "open"
    assert _open(registry, "sell") == [5100] and _open(registry, "buy") == [5021]  # never crossed

    # The client retries at the first process: routed to the owner, it fills there.
    retried = _place(first, _order(seller, "s1", "sell", 10, 5021))
    assert retried["status"] == "filled", retried
    assert _open(registry, "buy") == []
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems


def test_the_monitor_notices_a_terminated_lock_session_within_seconds(
        market: tuple[int, Principal, Principal], backend: Backend, registry: Registry,
        postgres_owner_url: str) -> None:
    import time

    instrument_id, seller, _ = market
    dsn = make_url(backend.url).set(drivername="postgresql").render_as_string(hide_password=False)
    exchange = Exchange(registry, 10, ClusterCoordinator(dsn, backend.kv.url))  # type: ignore[attr-defined]
    try:
        assert exchange.coordinator.owns(instrument_id)
        _terminate_lock_session(postgres_owner_url, instrument_id)
        started = time.monotonic()
        while exchange.coordinator.owns_now(instrument_id):  # psycopg alone would never have told
            assert time.monotonic() - started < 15, "the lost lock went unnoticed"
            time.sleep(0.05)
        print(f"lost lock noticed after {time.monotonic() - started:.2f} s")
        # Nobody else wants the book: the monitor takes it again, at a newer epoch, and it serves.
        while not exchange.coordinator.owns_now(instrument_id):
            assert time.monotonic() - started < 15, "the book was not taken again"
            time.sleep(0.05)
        assert _place(exchange, _order(seller, "s1", "sell", 10, 5021))["status"] == "open"
    finally:
        exchange.stop()
