"""The reads the portal's trading and operator pages need: participants with their admission, the
counterparties a negotiated transfer may name, and the trading calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from tests.support import participant_id


def test_the_operator_sees_every_participant_with_its_admission(client: TestClient, registry: Registry,
                                                                market: dict[str, Any]) -> None:
    people = market["people"]
    listed = client.get("/market/participants", headers=people["operator"], params={"limit": 200}).json()
    by_id = {p["id"]: p for p in listed["items"]}
    assert listed["total"] == len(listed["items"])
    for holder in market["holders"]:
        assert by_id[holder.participant_id]["trading_status"] == "admitted"
        assert by_id[holder.participant_id]["status"] == "active"
    assert by_id[participant_id(registry, "operator")]["trading_status"] == "not_admitted"
    paged = client.get("/market/participants", headers=people["operator"], params={"limit": 1, "offset": 1}).json()
    assert paged["items"] == [listed["items"][1]] and paged["total"] == listed["total"]


def test_counterparties_are_the_other_admitted_active_traders(client: TestClient, market: dict[str, Any]) -> None:
    people, holders = market["people"], market["holders"]
    seller, buyer, stranger = (h.participant_id for h in holders)
    names = client.get("/market/counterparties", headers=people["seller"]).json()
    assert [c["id"] for c in names] == [buyer, stranger]
    client.post(f"/market/participants/{stranger}/admission", headers=people["operator"],
                json={"trading_status": "suspended", "reason": "暂停"})
    assert [c["id"] for c in client.get("/market/counterparties", headers=people["seller"]).json()] == [buyer]
    assert [c["id"] for c in client.get("/market/counterparties", headers=people["buyer"]).json()] == [seller]


def test_the_calendar_says_whether_the_market_is_open(client: TestClient, clock: FixedClock) -> None:
    # The tests' clock is a Monday at 10:00 in Jiaxing: inside the morning session.
    calendar = client.get("/market/calendar").json()
    assert (calendar["sessions"], calendar["opening_call"], calendar["always_open"], calendar["state"]) == (
        [["09:30", "11:30"], ["13:00", "15:00"]], "09:15", False, "open")
    clock.advance(timedelta(hours=2))  # 12:00, the lunch break
    assert client.get("/market/calendar").json()["state"] == "break"
    clock.advance(timedelta(hours=20, minutes=15))  # Tuesday 08:15: before the opening call
    assert client.get("/market/calendar").json()["state"] == "closed"
    clock.advance(timedelta(hours=1, minutes=5))  # 09:20: the opening call auction
    assert client.get("/market/calendar").json()["state"] == "call"


def test_my_orders_say_their_trade_mode(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    placed = client.post("/orders", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "o-1", "side": "sell", "price_fen": 5200, "quantity_t": 10})
    listed = client.post("/listings", headers=people["seller"], json={
        "instrument": "JXCI-2023", "client_order_id": "l-1", "price_fen": 5100, "quantity_t": 20})
    assert placed.status_code == listed.status_code == 201, (placed.text, listed.text)
    mine = client.get("/orders", headers=people["seller"]).json()
    assert [(o["client_order_id"], o["kind"]) for o in mine] == [("l-1", "listing"), ("o-1", "order")]
