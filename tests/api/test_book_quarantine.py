"""A rebuild of a book (on start, or after a failed batch) that meets a row it cannot hold quarantines it and
keeps serving: the order, listing, auction, bid or proposal is cancelled with the reason QUARANTINED, what it
held goes back to available through the ledger, an audit entry says what was wrong, the operator is alerted in
the log and in carbonx_exchange_quarantined_total. The bad rows are planted by SQL, as a hand edit, a bug or a
restored backup could leave them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from api.exchange.routing import Exchange
from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import AuditEntry
from tests.conftest import Backend
from tests.support import DEPOSIT_FEN, balances, owned_desk

FEE_BP = 10


def _cash_for(quantity_t: int, price_fen: int) -> int:
    return quantity_t * price_fen + quantity_t * price_fen * FEE_BP // 10_000


def _plant(registry: Registry, sql: str, **params: Any) -> None:
    with registry.engine.begin() as connection:
        assert connection.execute(text(sql), params).rowcount == 1


def _year_10000(backend: Backend) -> str:
    """Year 10000 as each backend keeps an instant: PostgreSQL stores it (and Python cannot read it back);
    SQLite keeps text in SQLAlchemy's format."""
    return "10000-01-01 00:00:00+00" if backend.name == "postgres" else "10000-01-01 00:00:00.000000"


def _restart(client: TestClient, registry: Registry) -> Exchange:
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.stop()
    services.exchange = Exchange(registry, services.settings.exchange_fee_bp)  # a new process, same database
    return services.exchange  # type: ignore[no-any-return]


def _quarantined(kind: str) -> float:
    return REGISTRY.get_sample_value("carbonx_exchange_quarantined_total", {"kind": kind}) or 0.0


def _audited(registry: Registry) -> dict[str, dict[str, Any]]:
    with registry.uow() as uow:
        return {subject: payload for subject, payload in uow.session.execute(
            select(AuditEntry.subject_id, AuditEntry.payload).where(AuditEntry.action == "order.quarantined"))}


def _post(client: TestClient, path: str, headers: dict[str, str], **body: Any) -> int:
    answer = client.post(path, headers=headers, json={"instrument": "JXCI-2023"} | body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_a_rebuild_quarantines_the_rows_it_cannot_hold_and_keeps_serving(
        client: TestClient, market: dict[str, Any], registry: Registry, backend: Backend, clock: FixedClock,
        caplog: pytest.LogCaptureFixture) -> None:
    people, holders = market["people"], market["holders"]
    seller, buyer = people["seller"], people["buyer"]
    soon = (clock.now() + timedelta(hours=1)).isoformat()
    good_sell = _post(client, "/orders", seller, client_order_id="s-good", side="sell", price_fen=5100,
                      quantity_t=100)
    bad_sell = _post(client, "/orders", seller, client_order_id="s-bad", side="sell", price_fen=5200, quantity_t=50)
    bad_gtd = _post(client, "/orders", buyer, client_order_id="b-bad", side="buy", price_fen=4900, quantity_t=10,
                    tif="GTD", expires_at=soon)
    good_buy = _post(client, "/orders", buyer, client_order_id="b-good", side="buy", price_fen=4800, quantity_t=20)
    bad_listing = _post(client, "/listings", seller, client_order_id="l-bad", price_fen=5000, quantity_t=30)
    bad_proposal = _post(client, "/proposals", seller, client_order_id="p-bad", side="sell", price_fen=5000,
                         quantity_t=40, counterparty_participant_id=holders[1].participant_id, expires_at=soon)
    auction = _post(client, "/auctions", seller, client_order_id="a-good", quantity_t=60, reserve_price_fen=4600,
                    end_at=soon)
    good_bid = client.post(f"/auctions/{auction}/bids", headers=buyer,
                           json={"client_order_id": "bid-good", "price_fen": 4700, "quantity_t": 5}).json()["id"]
    bad_bid = client.post(f"/auctions/{auction}/bids", headers=buyer,
                          json={"client_order_id": "bid-bad", "price_fen": 4600, "quantity_t": 6}).json()["id"]
    bad_auction = _post(client, "/auctions", seller, client_order_id="a-bad", quantity_t=70, reserve_price_fen=4600,
                        end_at=soon)
    its_bid = client.post(f"/auctions/{bad_auction}/bids", headers=buyer,
                          json={"client_order_id": "bid-lost", "price_fen": 4600, "quantity_t": 7}).json()["id"]

    _plant(registry, "UPDATE orders SET price_fen = -5200 WHERE id = :id", id=bad_sell)  # no constraint stops it
    _plant(registry, f"UPDATE orders SET expires_at = '{_year_10000(backend)}' WHERE id = :id", id=bad_gtd)
    _plant(registry, "UPDATE orders SET price_fen = NULL WHERE id = :id", id=bad_listing)
    _plant(registry, "UPDATE orders SET expires_at = NULL WHERE id = :id", id=bad_proposal)
    _plant(registry, "UPDATE orders SET price_fen = 4601 WHERE id = :id", id=bad_bid)  # fine on a tick of 1 ...
    _plant(registry, "UPDATE orders SET quantity_t = 6, remaining_t = 0 WHERE id = :id", id=bad_bid)  # ... not 0 t
    _plant(registry, "UPDATE orders SET order_type = 'BOGUS' WHERE id = :id", id=bad_auction)  # no such pricing

    before = {kind: _quarantined(kind) for kind in ("order", "listing", "proposal", "auction", "bid")}
    _restart(client, registry)
    with caplog.at_level(logging.ERROR, logger="carbonx.exchange"):
        owned_desk(client, "JXCI-2023")  # builds the book
    alerts = [r.getMessage() for r in caplog.records
              if r.name == "carbonx.exchange" and "QUARANTINED" in r.getMessage()]
    assert len(alerts) == 7, alerts

    quarantined = {bad_sell: "order", bad_gtd: "order", bad_listing: "listing", bad_proposal: "proposal",
                   bad_bid: "bid", bad_auction: "auction", its_bid: "bid"}
    audited = _audited(registry)
    assert {int(k) for k in audited} == set(quarantined)
    assert {int(k): v["kind"] for k, v in audited.items()} == quarantined
    assert all(v["holds_released"] for v in audited.values())
    assert audited[str(bad_gtd)]["expires_at_stored"].startswith("10000-01-01")
    assert audited[str(its_bid)]["problem"] == f"its auction {bad_auction} was quarantined"
    assert {kind: _quarantined(kind) - before[kind] for kind in before} == {
        "order": 2, "listing": 1, "proposal": 1, "auction": 1, "bid": 2}

    # The traders see their rows cancelled with the reason; everything else stands.
    mine = {o["id"]: (o["status"], o["reason"]) for o in client.get("/orders", headers=seller).json()}
    assert {i: mine[i] for i in (bad_sell, bad_listing, bad_proposal, bad_auction)} == {
        i: ("cancelled", "QUARANTINED") for i in (bad_sell, bad_listing, bad_proposal, bad_auction)}
    assert mine[good_sell] == ("open", None) and mine[auction] == ("open", None)
    theirs = {o["id"]: (o["status"], o["reason"]) for o in client.get("/orders", headers=buyer).json()}
    assert {i: theirs[i] for i in (bad_gtd, bad_bid, its_bid)} == {
        i: ("cancelled", "QUARANTINED") for i in (bad_gtd, bad_bid, its_bid)}
    assert theirs[good_buy] == ("open", None) and theirs[good_bid] == ("open", None)

    # What the quarantined rows held is available again; the good ones still hold theirs.
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, seller)[(asset, "held")] == 100 + 60
    assert balances(client, seller)[(asset, "available")] == 1000 - 100 - 60
    assert client.get("/cash", headers=buyer).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - _cash_for(20, 4800) - _cash_for(5, 4700), "held": _cash_for(20, 4800)
        + _cash_for(5, 4700)}

    # The book serves: its depth is the good orders, and it trades.
    depth = client.get("/market/JXCI-2023/depth").json()["depth"]
    assert [(level["price_fen"], level["quantity_t"]) for level in depth["asks"]] == [(5100, 100)]
    assert [(level["price_fen"], level["quantity_t"]) for level in depth["bids"]] == [(4800, 20)]
    bought = client.post("/orders", headers=buyer, json={"instrument": "JXCI-2023", "client_order_id": "after",
                                                         "side": "buy", "price_fen": 5100, "quantity_t": 10})
    assert bought.status_code == 201 and bought.json()["status"] == "filled", bought.text
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]

    # A second rebuild finds nothing more to quarantine.
    _restart(client, registry)
    owned_desk(client, "JXCI-2023")
    assert len(_audited(registry)) == 7


def test_a_gtd_order_stored_with_year_10000_does_not_stop_its_book(
        client: TestClient, market: dict[str, Any], registry: Registry, backend: Backend, clock: FixedClock) -> None:
    """The review's case: a GTD order whose expiry the database holds as year 10000 in UTC. Before, the book
    could not be rebuilt and every request for the instrument failed until the row was edited by hand."""
    buyer = market["people"]["buyer"]
    order_id = _post(client, "/orders", buyer, client_order_id="g1", side="buy", price_fen=4900, quantity_t=10,
                     tif="GTD", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    _plant(registry, f"UPDATE orders SET expires_at = '{_year_10000(backend)}' WHERE id = :id", id=order_id)
    _restart(client, registry)
    placed = client.post("/orders", headers=buyer, json={"instrument": "JXCI-2023", "client_order_id": "g2",
                                                         "side": "buy", "price_fen": 4900, "quantity_t": 1})
    assert placed.status_code == 201, placed.text
    mine = {o["id"]: o for o in client.get("/orders", headers=buyer).json()}
    assert (mine[order_id]["status"], mine[order_id]["reason"]) == ("cancelled", "QUARANTINED")
    assert client.get("/cash", headers=buyer).json()["balances_fen"]["held"] == _cash_for(1, 4900)
    with registry.uow() as uow:  # the unreadable instant is cleared, so every read of the row works again
        assert uow.session.scalar(text("SELECT expires_at FROM orders WHERE id = :id"), {"id": order_id}) is None


def test_a_quarantined_row_whose_holds_cannot_be_released_is_still_taken_off_the_book(
        client: TestClient, market: dict[str, Any], registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    """A sell whose recorded serial ranges name no serials it holds: the ledger refuses to move them, so the row
    is cancelled without releasing anything (its credits stay held, for the operator to repair) and the log
    says so. The book still comes up and trades."""
    seller, buyer = market["people"]["seller"], market["people"]["buyer"]
    bad = _post(client, "/orders", seller, client_order_id="s-bad", side="sell", price_fen=5200, quantity_t=50)
    _post(client, "/orders", seller, client_order_id="s-good", side="sell", price_fen=5100, quantity_t=10)
    _plant(registry, "UPDATE orders SET price_fen = 0, held_blocks = '[[999999, 1, 50]]' WHERE id = :id", id=bad)
    _restart(client, registry)
    with caplog.at_level(logging.ERROR, logger="carbonx.exchange"):
        owned_desk(client, "JXCI-2023")
    assert any("could NOT be released" in r.getMessage() for r in caplog.records if r.name == "carbonx.exchange")
    assert _audited(registry)[str(bad)]["holds_released"] is False
    mine = {o["id"]: (o["status"], o["reason"]) for o in client.get("/orders", headers=seller).json()}
    assert mine[bad] == ("cancelled", "QUARANTINED")
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, seller)[(asset, "held")] == 50 + 10  # the bad row's 50 t wait for the operator
    bought = client.post("/orders", headers=buyer, json={"instrument": "JXCI-2023", "client_order_id": "after",
                                                         "side": "buy", "price_fen": 5100, "quantity_t": 10})
    assert bought.status_code == 201 and bought.json()["status"] == "filled", bought.text
