"""Listing-pick (挂牌点选) and negotiated transfer (协议转让) through HTTP on both backends: holds taken and
released, settlement at the listed or agreed price, minimum picks, restricted counterparties, expiry by the
idle book's clock, and a restart that rebuilds listings and proposals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.exchange.routing import Exchange
from registry.clock import FixedClock
from registry.context import Registry
from tests.support import DEPOSIT_FEN, balances


def listing(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"instrument": "JXCI-2023", "client_order_id": "l1", "side": "sell", "price_fen": 5200,
            "quantity_t": 100, "min_pick_t": 10} | fields
    return client.post("/listings", headers=headers, json=body)


def test_a_listing_is_picked_at_its_price(client: TestClient, market: dict[str, Any]) -> None:
    people, batch = market["people"], market["batch"]
    posted = listing(client, people["seller"])
    assert posted.status_code == 201, posted.text
    asset = f"CREDIT:{batch.id}"
    assert balances(client, people["seller"])[(asset, "held")] == 100
    board = client.get("/listings?instrument=JXCI-2023&side=sell").json()["items"]
    assert board == [board[0] | {"listing_id": posted.json()["id"], "price_fen": 5200, "quantity_t": 100,
                                 "min_pick_t": 10}]
    lid = posted.json()["id"]
    below = client.post(f"/listings/{lid}/pick", headers=people["buyer"], json={"client_order_id": "p0",
                                                                                "quantity_t": 9})
    assert below.status_code == 409 and below.json()["rule_codes"] == ["BELOW_MIN_PICK"]
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == 0
    picked = client.post(f"/listings/{lid}/pick", headers=people["buyer"], json={"client_order_id": "p1",
                                                                                 "quantity_t": 10})
    assert picked.status_code == 201 and picked.json()["status"] == "filled", picked.text
    # 10 t at 5,200 fen: 52,000 fen plus the 10 bp fee of 52 fen.
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - 52_052, "held": 0}
    assert client.get("/cash", headers=people["seller"]).json()["balances_fen"]["available"] == 52_000
    assert balances(client, people["buyer"])[(asset, "available")] == 10
    withdrawn = client.delete(f"/listings/{lid}", headers=people["seller"])
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    assert balances(client, people["seller"]).get((asset, "held"), 0) == 0
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_restricted_listing_and_its_whole_remainder(client: TestClient, market: dict[str, Any]) -> None:
    people, holders = market["people"], market["holders"]
    lid = listing(client, people["seller"], quantity_t=15, min_pick_t=10,
                  allowed_counterparties=[holders[1].participant_id]).json()["id"]
    assert client.get("/listings?instrument=JXCI-2023", headers=people["stranger"]).json()["items"] == []
    assert len(client.get("/listings?instrument=JXCI-2023", headers=people["buyer"]).json()["items"]) == 1
    first = client.post(f"/listings/{lid}/pick", headers=people["buyer"], json={"client_order_id": "r1",
                                                                                "quantity_t": 10})
    assert first.status_code == 201
    # 5 t are left, below the minimum pick: the whole remainder may still be taken.
    rest = client.post(f"/listings/{lid}/pick", headers=people["buyer"], json={"client_order_id": "r2",
                                                                               "quantity_t": 5})
    assert rest.status_code == 201, rest.text
    assert client.get("/listings?instrument=JXCI-2023", headers=people["buyer"]).json()["items"] == []


def test_a_negotiated_transfer(client: TestClient, market: dict[str, Any], clock: FixedClock) -> None:
    people, holders, batch = market["people"], market["holders"], market["batch"]
    expires = (clock.now() + timedelta(hours=2)).isoformat()
    proposal = client.post("/proposals", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "n1", "counterparty_participant_id": holders[1].participant_id,
        "side": "sell", "price_fen": 5300, "quantity_t": 40, "expires_at": expires})
    assert proposal.status_code == 201, proposal.text
    pid = proposal.json()["id"]
    inbox = client.get("/proposals", headers=people["buyer"]).json()
    assert [p["id"] for p in inbox] == [pid] and inbox[0]["initiator_participant_id"] == holders[0].participant_id
    assert client.post(f"/proposals/{pid}/accept", headers=people["stranger"]).status_code == 404
    accepted = client.post(f"/proposals/{pid}/accept", headers=people["buyer"])
    assert accepted.status_code == 201 and accepted.json()["status"] == "filled", accepted.text
    assert balances(client, people["buyer"])[(f"CREDIT:{batch.id}", "available")] == 40
    assert client.get("/cash", headers=people["seller"]).json()["balances_fen"]["available"] == 40 * 5300
    again = client.post(f"/proposals/{pid}/accept", headers=people["buyer"])
    assert again.json()["id"] == accepted.json()["id"]  # a retried accept answers the same, settles once
    assert client.delete(f"/proposals/{pid}", headers=people["seller"]).status_code == 409
    outside = client.post("/proposals", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "n2", "counterparty_participant_id": holders[1].participant_id,
        "side": "sell", "price_fen": 9000, "quantity_t": 5, "expires_at": expires})
    assert outside.status_code == 409
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_reject_withdraw_and_expiry_release_the_holds(client: TestClient, market: dict[str, Any],
                                                      clock: FixedClock) -> None:
    people, holders, batch = market["people"], market["holders"], market["batch"]
    asset = f"CREDIT:{batch.id}"

    def propose(cid: str, minutes: int) -> int:
        response = client.post("/proposals", headers=people["seller"], json={
            "instrument": "JXCI-2023", "client_order_id": cid, "side": "sell", "price_fen": 5000, "quantity_t": 10,
            "counterparty_participant_id": holders[1].participant_id,
            "expires_at": (clock.now() + timedelta(minutes=minutes)).isoformat()})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    rejected, withdrawn, expiring = propose("x1", 60), propose("x2", 60), propose("x3", 1)
    assert balances(client, people["seller"])[(asset, "held")] == 30
    assert client.post(f"/proposals/{rejected}/reject", headers=people["buyer"]).json()["status"] == "cancelled"
    assert client.delete(f"/proposals/{withdrawn}", headers=people["seller"]).json()["status"] == "cancelled"
    clock.advance(timedelta(minutes=2))
    desk = next(iter(client.app.state.services.exchange._desks.values()))  # type: ignore[attr-defined]
    desk._tick()  # what the idle writer does every second
    statuses = {p["id"]: p["status"] for p in client.get("/proposals", headers=people["seller"]).json()}
    assert statuses == {rejected: "cancelled", withdrawn: "cancelled", expiring: "expired"}
    assert balances(client, people["seller"]).get((asset, "held"), 0) == 0


def test_listings_and_proposals_survive_a_restart(client: TestClient, market: dict[str, Any],
                                                  registry: Registry, clock: FixedClock) -> None:
    people, holders = market["people"], market["holders"]
    lid = listing(client, people["seller"], quantity_t=30, min_pick_t=5).json()["id"]
    pid = client.post("/proposals", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "s1", "counterparty_participant_id": holders[1].participant_id,
        "side": "sell", "price_fen": 5000, "quantity_t": 10,
        "expires_at": (clock.now() + timedelta(hours=1)).isoformat()}).json()["id"]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.stop()
    services.exchange = Exchange(registry, services.settings.exchange_fee_bp)
    assert client.post(f"/listings/{lid}/pick", headers=people["buyer"],
                       json={"client_order_id": "a1", "quantity_t": 5}).json()["status"] == "filled"
    assert client.post(f"/proposals/{pid}/accept", headers=people["buyer"]).json()["status"] == "filled"
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


@pytest.mark.parametrize("bad", [{"min_pick_t": 101}, {"price_fen": 0}, {"allowed_counterparties": [0]}])
def test_bad_listings_are_422(client: TestClient, market: dict[str, Any], bad: dict[str, Any]) -> None:
    assert listing(client, market["people"]["seller"], **bad).status_code == 422


def test_credits_bought_today_are_sold_from_the_next_trading_day(client: TestClient, market: dict[str, Any],
                                                                 clock: FixedClock) -> None:
    people = market["people"]
    lid = listing(client, people["seller"], quantity_t=20, min_pick_t=1).json()["id"]
    assert client.post(f"/listings/{lid}/pick", headers=people["buyer"],
                       json={"client_order_id": "rl1", "quantity_t": 20}).status_code == 201
    resale = {"instrument": "JXCI-2023", "side": "sell", "quantity_t": 5, "price_fen": 5400}
    today = client.post("/orders", headers=people["buyer"], json=resale | {"client_order_id": "rl2"})
    assert today.status_code == 409 and "resale lock" in today.json()["detail"]
    # Retiring them is no resale: allowed at once.
    retire = client.post("/retirements", headers=people["buyer"], json={
        "quantity_t": 2, "beneficiary": "b", "purpose": {"purpose": "voluntary"}})
    assert retire.status_code == 201
    clock.advance(timedelta(days=1))  # Monday 2026-11-23 → Tuesday
    tomorrow = client.post("/orders", headers=people["buyer"], json=resale | {"client_order_id": "rl3"})
    assert tomorrow.status_code == 201, tomorrow.text




def test_a_one_sided_auction(client: TestClient, market: dict[str, Any], registry: Registry,
                             clock: FixedClock) -> None:
    people, batch = market["people"], market["batch"]
    asset = f"CREDIT:{batch.id}"
    # A second bidder with cash.
    client.post("/cash/deposits", headers=people["operator"], json={
        "participant_id": market["holders"][2].participant_id, "amount_fen": DEPOSIT_FEN,
        "bank_reference": "BANK-0002"})
    opened = client.post("/auctions", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "au1", "quantity_t": 100, "reserve_price_fen": 5000,
        "end_at": (clock.now() + timedelta(minutes=30)).isoformat()})
    assert opened.status_code == 201, opened.text
    aid = opened.json()["id"]
    assert balances(client, people["seller"])[(asset, "held")] == 100
    low = client.post(f"/auctions/{aid}/bids", headers=people["buyer"],
                      json={"client_order_id": "bd0", "price_fen": 4999, "quantity_t": 10})
    assert low.status_code == 409
    for who, cid, price, qty in (("buyer", "bd1", 5100, 60), ("stranger", "bd2", 5300, 50),
                                 ("buyer", "bd3", 5050, 30)):
        bid = client.post(f"/auctions/{aid}/bids", headers=people[who],
                          json={"client_order_id": cid, "price_fen": price, "quantity_t": qty})
        assert bid.status_code == 201, bid.text
    listed = client.get("/auctions?instrument=JXCI-2023").json()
    assert listed[0]["status"] == "open" and "bids" not in listed[0]
    clock.advance(timedelta(minutes=31))
    desk = next(iter(client.app.state.services.exchange._desks.values()))  # type: ignore[attr-defined]
    desk._tick()
    # Pay as bid, by price then time: 50 t at 5,300, then 50 of the 60 t at 5,100; the 5,050 bid loses.
    result = client.get("/auctions?instrument=JXCI-2023").json()[0]
    assert result["status"] == "filled"
    assert result["result"] == {"allocated_t": 100, "trades": 2, "prices_fen": [5100, 5300],
                                "turnover_fen": 50 * 5300 + 50 * 5100}
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == 0
    assert balances(client, people["buyer"])[(asset, "available")] == 50
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_an_auction_survives_a_restart(client: TestClient, market: dict[str, Any], registry: Registry,
                                       clock: FixedClock) -> None:
    people = market["people"]
    aid = client.post("/auctions", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "ar1", "quantity_t": 20, "reserve_price_fen": 5000,
        "pricing": "UNIFORM", "end_at": (clock.now() + timedelta(minutes=5)).isoformat()}).json()["id"]
    for cid, price in (("ab1", 5200), ("ab2", 5100)):
        assert client.post(f"/auctions/{aid}/bids", headers=people["buyer"],
                           json={"client_order_id": cid, "price_fen": price, "quantity_t": 10}).status_code == 201
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.stop()
    services.exchange = Exchange(registry, services.settings.exchange_fee_bp)
    clock.advance(timedelta(minutes=6))
    services.exchange.desk(services.exchange._instrument_ids()[0])._tick()
    result = client.get("/auctions?instrument=JXCI-2023").json()[0]["result"]
    assert result == {"allocated_t": 20, "trades": 2, "prices_fen": [5100], "turnover_fen": 20 * 5100}
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_unknown_counterparty_or_batch_is_refused_without_harm(client: TestClient, market: dict[str, Any],
                                                               clock: FixedClock) -> None:
    people = market["people"]
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    nobody = client.post("/proposals", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "u1", "counterparty_participant_id": 999_999,
        "side": "sell", "price_fen": 5000, "quantity_t": 5, "expires_at": expires})
    assert nobody.status_code == 404
    no_batch = listing(client, people["buyer"], side="buy", client_order_id="u2", batch_id=999_999)
    assert no_batch.status_code == 409 and no_batch.json()["rule_codes"] == ["JX-18"]
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == 0
