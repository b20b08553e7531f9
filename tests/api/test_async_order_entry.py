"""Order entry awaited on the event loop: many requests at once on one loop, each answered only after its
batch committed; a writer that does not answer in time gives 409; a request that goes away leaves the writer
and the rest of its batch unharmed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.exchange import routing as exchange_module
from api.exchange.commands import from_params
from api.exchange.desk import InstrumentDesk
from api.exchange.routing import Exchange
from api.exchange.writer import Job
from registry.orm import Order
from tests.support import order, owned_desk

CODE = "JXCI-2023"


def _exchange(client: TestClient) -> Exchange:
    found: Exchange = client.app.state.services.exchange  # type: ignore[attr-defined]
    return found


def _desk(client: TestClient) -> InstrumentDesk:
    return owned_desk(client, CODE)


@contextmanager
def _writer_held(desk: InstrumentDesk, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The writer takes its next batch and waits before processing it until the event is set."""
    go, original = threading.Event(), desk._process

    def held(batch: list[Job]) -> None:
        go.wait(30)
        original(batch)

    monkeypatch.setattr(desk, "_process", held)
    try:
        yield go
    finally:
        go.set()


def _committed(client: TestClient, order_id: int) -> str | None:
    """The order's status as another connection sees it: there only once its batch has committed."""
    with _exchange(client).registry.uow() as uow:
        row = uow.session.get(Order, order_id)
        return row.status if row is not None else None


def test_concurrent_requests_on_one_loop_are_each_answered_after_their_commit(
        client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    _desk(client)  # the book is built before the burst, as in a running server
    app = client.app
    seen: list[tuple[int, int, str | None]] = []

    async def burst() -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            async def one(i: int) -> None:
                who = "seller" if i % 2 else "buyer"
                body = {"instrument": CODE, "client_order_id": f"a{i}", "side": "sell" if i % 2 else "buy",
                        "quantity_t": 1, "price_fen": 5000 + (i % 2) * 100}
                response = await http.post("/orders", json=body, headers=people[who])
                order_id = response.json().get("id", 0)
                # Straight after the answer, on the loop, before anything else runs: the row is visible.
                seen.append((response.status_code, order_id, _committed(client, order_id) if order_id else None))

            await asyncio.gather(*(one(i) for i in range(24)))

    asyncio.run(burst())
    assert [status for status, _, _ in seen] == [201] * 24, seen
    assert all(status == "open" for _, _, status in seen), seen
    assert len({order_id for _, order_id, _ in seen}) == 24


def test_a_writer_that_does_not_answer_in_time_says_the_outcome_is_unknown_and_the_order_may_still_be_placed(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    people = market["people"]
    desk = _desk(client)
    monkeypatch.setattr(exchange_module, "ANSWER_TIMEOUT_S", 0.2)
    with _writer_held(desk, monkeypatch):
        late = order(client, people["buyer"], client_order_id="late-1")
        assert late.status_code == 503, late.text  # not a refusal: retry with the same client order id
        assert late.headers["content-type"].startswith("application/problem+json")
        assert late.json()["code"] == "outcome_unknown" and late.headers["Retry-After"] == "1"
        assert late.json()["request_id"] == late.headers["x-request-id"]
    # The command stayed queued and was carried out when the writer got to it: a retry learns the outcome.
    again = order(client, people["buyer"], client_order_id="late-1")
    assert again.status_code == 201 and again.json()["status"] == "open", again.text
    assert [o["client_order_id"] for o in client.get("/orders", headers=people["buyer"]).json()] == ["late-1"]
    assert desk.thread.is_alive()


def test_a_request_that_goes_away_leaves_the_writer_and_its_batch_unharmed(
        client: TestClient, market: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    people, services = market["people"], client.app.state.services  # type: ignore[attr-defined]
    desk, exchange = _desk(client), _exchange(client)
    buyer = services.principals.get(people.user_ids["buyer"])
    seller = services.principals.get(people.user_ids["seller"])
    body = {"side": "buy", "order_type": "LIMIT", "price_fen": 5000, "quantity_t": 5}
    answers: dict[str, Any] = {}
    futures: list[Any] = []
    original_put = desk.queue.put

    def noting_put(job: Job | None, *args: Any, **kwargs: Any) -> None:
        if job is not None:
            futures.append(job.future)
        original_put(job, *args, **kwargs)

    monkeypatch.setattr(desk.queue, "put", noting_put)

    async def scene() -> None:
        with _writer_held(desk, monkeypatch) as go:
            gone = asyncio.create_task(exchange.place(CODE, from_params(
                "place", buyer, body | {"client_order_id": "gone"})))
            stays = asyncio.create_task(exchange.place(CODE, from_params(
                "place", seller, body | {"side": "sell", "client_order_id": "stays"})))
            while len(futures) < 2:  # both queued, the writer holding its batch
                await asyncio.sleep(0.01)
            gone.cancel()  # the client went away
            await asyncio.sleep(0)
            go.set()
            answers["stays"] = await stays
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(scene())
    # Nobody cancelled the writer's futures: it answered both, and the survivor traded against the other.
    assert all(f.done() and not f.cancelled() and f.exception() is None for f in futures)
    assert answers["stays"]["status"] == "filled", answers
    gone_order = futures[0].result()
    assert _committed(client, gone_order["id"]) == "filled"
    assert desk.thread.is_alive()
    assert order(client, people["buyer"], client_order_id="after").status_code == 201
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]
