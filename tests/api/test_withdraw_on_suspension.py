"""A participant that may no longer trade leaves the exchange (Art. 19, 26), through HTTP on both backends:
suspended by the operations center, disqualified by the bureau through an immediate revocation or a lapsed
correction order, everything it has there — resting orders, listings, proposals made and received, its
auctions with their bids, its bids in others' auctions — is withdrawn with the reason, the holds go back to
available, nothing of it can be traded against, re-admission brings nothing back, and the ledger still
balances. And the writer's second line: a status change whose withdrawal never came (written past the routes)
still stops every trade with the participant, and the book withdraws it then, or when it is rebuilt."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.exchange.routing import Exchange
from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import Order, Participant
from registry.services import instruments, ledger_check
from tests.api import test_cluster as cluster
from tests.api.test_cluster import cluster_backend
from tests.conftest import Backend
from tests.support import DEPOSIT_FEN, People, balances, bearer, make_user, user_id

__all__ = ["cluster_backend"]  # the fixture, used here as in the cluster tests

INSTRUMENT = "JXCI-2023"


def bureau_of(client: TestClient, registry: Registry) -> dict[str, str]:
    """A bureau user of its own organisation (independent of the batch's owner)."""
    return bearer(client, make_user(registry, "bureau_w", ["bureau"]))


def _post(client: TestClient, path: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(path, headers=headers, json={"instrument": INSTRUMENT, **body} if path in (
        "/orders", "/listings", "/proposals", "/auctions") else body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def seller_everywhere(client: TestClient, market: dict[str, Any], clock: FixedClock) -> dict[str, int]:
    """The seller rests a sell, posts a listing, proposes to the buyer and is proposed to by it, auctions a
    lot the buyer bids on, and offers into the buyer's buy auction: 380 t of its credits held, and the
    buyer's cash held for its bid and its proposal (and its own auction, which stays)."""
    people, holders = market["people"], market["holders"]
    seller, buyer = people["seller"], people["buyer"]
    later = (clock.now() + timedelta(days=30)).isoformat()
    ids = {
        "order": _post(client, "/orders", seller, client_order_id="s-order", side="sell", quantity_t=100,
                       price_fen=5100)["id"],
        "listing": _post(client, "/listings", seller, client_order_id="s-listing", side="sell", price_fen=5200,
                         quantity_t=100, min_pick_t=10)["id"],
        "proposal": _post(client, "/proposals", seller, client_order_id="s-proposal", side="sell",
                          counterparty_participant_id=holders[1].participant_id, price_fen=5000, quantity_t=50,
                          expires_at=later)["id"],
        "proposal_to_seller": _post(client, "/proposals", buyer, client_order_id="b-proposal", side="buy",
                                    counterparty_participant_id=holders[0].participant_id, price_fen=5000,
                                    quantity_t=20, expires_at=later)["id"],
        "auction": _post(client, "/auctions", seller, client_order_id="s-auction", side="sell", quantity_t=100,
                         reserve_price_fen=5000, end_at=later)["id"],
        "buy_auction": _post(client, "/auctions", buyer, client_order_id="b-auction", side="buy", quantity_t=30,
                             reserve_price_fen=5200, end_at=later)["id"],
    }
    ids["bid_on_seller"] = _post(client, f"/auctions/{ids['auction']}/bids", buyer, client_order_id="b-bid",
                                 price_fen=5100, quantity_t=20)["id"]
    ids["seller_bid"] = _post(client, f"/auctions/{ids['buy_auction']}/bids", seller, client_order_id="s-bid",
                              price_fen=5000, quantity_t=30)["id"]
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, seller)[(asset, "held")] == 380
    assert client.get("/cash", headers=buyer).json()["balances_fen"]["held"] > cash_held_for_buy_auction()
    return ids


def cash_held_for_buy_auction() -> int:
    """What the buyer's own buy auction holds (30 t at its 5,200 reserve, plus the 10 bp fee)."""
    return 30 * 5200 + 30 * 5200 // 1000


def orders_by_id(client: TestClient, headers: dict[str, str]) -> dict[int, dict[str, Any]]:
    return {o["id"]: o for o in client.get("/orders", headers=headers).json()}


# What holds (or bids on) the batch's credits: a revocation withdraws it with the batch (Art. 26), before the
# owner's disqualification withdraws the rest.
ON_THE_BATCH = ("order", "listing", "proposal", "auction", "seller_bid", "bid_on_seller")


def assert_withdrawn(client: TestClient, market: dict[str, Any], ids: dict[str, int], reason: str,
                     batch_revoked: bool = False) -> None:
    """Everything of the seller is off the exchange with `reason`; what named it or bid on its auction, the
    buyer's, with the counterparty's reason; the buyer's own auction stays; every hold went back. With
    `batch_revoked`, what held or bid on the batch's credits left with the batch (BATCH_REVOKED)."""
    people, batch = market["people"], market["batch"]

    def expected(kind: str, own: str) -> tuple[str, str]:
        return "cancelled", "BATCH_REVOKED" if batch_revoked and kind in ON_THE_BATCH else own

    mine = orders_by_id(client, people["seller"])
    for kind in ("order", "listing", "proposal", "auction", "seller_bid"):
        assert (mine[ids[kind]]["status"], mine[ids[kind]]["reason"]) == expected(kind, reason), kind
    counterparty = reason.replace("PARTICIPANT_", "COUNTERPARTY_")
    theirs = orders_by_id(client, people["buyer"])
    for kind in ("proposal_to_seller", "bid_on_seller"):
        assert (theirs[ids[kind]]["status"], theirs[ids[kind]]["reason"]) == expected(kind, counterparty), kind
    assert theirs[ids["buy_auction"]]["status"] == "open"
    asset = f"CREDIT:{batch.id}"
    assert balances(client, people["seller"]).get((asset, "held"), 0) == 0
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN - cash_held_for_buy_auction(), "held": cash_held_for_buy_auction()}
    # Nothing of the seller is left to trade against: the board is empty, the book holds no ask.
    assert client.get(f"/listings?instrument={INSTRUMENT}", headers=people["buyer"]).json()["items"] == []
    assert client.get(f"/market/{INSTRUMENT}/depth").json()["depth"]["asks"] == []
    crossing = _post(client, "/orders", people["buyer"], client_order_id="b-cross", side="buy", quantity_t=10,
                     price_fen=5100)
    assert (crossing["status"], crossing["filled_t"]) == ("open", 0)
    assert client.get("/fills", headers=people["buyer"]).json() == []
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def withdrawal_audits(client: TestClient, bureau: dict[str, str], participant_id: int) -> list[dict[str, Any]]:
    entries = client.get(f"/audit/entries?subject_type=participant&subject_id={participant_id}",
                         headers=bureau).json()["items"]
    return [e["payload"] for e in entries if e["action"] == "exchange.participant_withdrawn"]


def test_a_trader_suspended_by_the_operator_leaves_the_exchange(client: TestClient, market: dict[str, Any],
                                                                registry: Registry, clock: FixedClock) -> None:
    people, holders = market["people"], market["holders"]
    ids = seller_everywhere(client, market, clock)
    suspended = client.post(f"/market/participants/{holders[0].participant_id}/admission",
                            headers=people["operator"], json={"trading_status": "suspended", "reason": "暂停交易"})
    assert suspended.status_code == 200, suspended.text
    assert_withdrawn(client, market, ids, "PARTICIPANT_SUSPENDED")
    bureau = bureau_of(client, registry)
    (audit,) = withdrawal_audits(client, bureau, holders[0].participant_id)
    assert audit["reason"] == "PARTICIPANT_SUSPENDED" and audit["instrument"] == INSTRUMENT
    assert {o["id"] for o in audit["orders"]} == set(ids.values()) - {ids["buy_auction"]}

    # Re-admission brings nothing back: the orders stay cancelled, the board and the book stay empty.
    readmitted = client.post(f"/market/participants/{holders[0].participant_id}/admission",
                             headers=people["operator"], json={"trading_status": "admitted", "reason": "恢复"})
    assert readmitted.status_code == 200
    assert client.get("/orders?status=open", headers=people["seller"]).json() == []
    assert client.get(f"/listings?instrument={INSTRUMENT}", headers=people["buyer"]).json()["items"] == []
    assert client.get(f"/market/{INSTRUMENT}/depth").json()["depth"]["asks"] == []
    # Admitted again, the seller trades as before.
    again = _post(client, "/orders", people["seller"], client_order_id="s-again", side="sell", quantity_t=10,
                  price_fen=5100)
    assert (again["status"], again["filled_t"]) == ("filled", 10)
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_a_trader_disqualified_by_an_immediate_revocation_leaves_the_exchange(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    ids = seller_everywhere(client, market, clock)
    bureau = bureau_of(client, registry)
    revoked = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau, json={
        "quantity_t": 100, "reason": "减排量未真实发生", "notice": "关于收回某项目核证减排量的通报"})
    assert revoked.status_code == 201, revoked.text
    assert_withdrawn(client, market, ids, "PARTICIPANT_DISQUALIFIED", batch_revoked=True)
    asset = f"CREDIT:{market['batch'].id}"
    held = balances(client, market["people"]["seller"])
    assert (held[(asset, "available")], held[(asset, "revoked")]) == (900, 100)


def test_a_trader_disqualified_for_a_lapsed_correction_leaves_the_exchange(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    ids = seller_everywhere(client, market, clock)
    bureau = People(client, {"bureau": make_user(registry, "bureau_w", ["bureau"])})
    ordered = client.post(f"/batches/{market['batch'].id}/corrections", headers=bureau["bureau"],
                          json={"finding": "核算报告数据不实，请更正。", "deadline_days": 1})
    assert ordered.status_code == 201, ordered.text
    clock.advance(timedelta(days=2))
    lapsed = client.post(f"/corrections/{ordered.json()['id']}/decision", headers=bureau["bureau"], json={
        "decision": "lapse", "comment": "逾期未改正", "notice": "关于取消某公司碳普惠市场参与资格的通报"})
    assert lapsed.status_code == 200 and lapsed.json()["status"] == "lapsed", lapsed.text
    assert_withdrawn(client, market, ids, "PARTICIPANT_DISQUALIFIED", batch_revoked=True)


def test_a_participant_suspended_in_the_registry_leaves_the_exchange(client: TestClient, market: dict[str, Any],
                                                                   registry: Registry) -> None:
    people, holders = market["people"], market["holders"]
    order = _post(client, "/orders", people["seller"], client_order_id="s-reg", side="sell", quantity_t=10,
                  price_fen=5100)
    bureau = bureau_of(client, registry)
    for who in (holders[0], holders[2]):  # the seller, and the stranger who has nothing on the exchange
        answer = client.post(f"/admin/participants/{who.participant_id}/status", headers=bureau,
                             json={"status": "suspended", "reason": "调查"})
        assert answer.status_code == 200, answer.text
    assert (orders_by_id(client, people["seller"])[order["id"]]["reason"]) == "PARTICIPANT_SUSPENDED"
    assert withdrawal_audits(client, bureau, holders[2].participant_id) == []
    # Reinstated, the seller's order stays cancelled.
    assert client.post(f"/admin/participants/{holders[0].participant_id}/status", headers=bureau,
                       json={"status": "active", "reason": "恢复"}).status_code == 200
    assert client.get("/orders?status=open", headers=people["seller"]).json() == []


# --- the writer's second line -------------------------------------------------------------------------------


def suspend_past_the_routes(registry: Registry, participant_id: int) -> None:
    """A status change whose withdrawal never came: the route's process died after the commit, say."""
    with registry.uow() as uow:
        instruments.set_trading_status(uow, participant_id, "suspended", "无撤单的暂停")
        uow.commit()


def test_no_trade_with_a_participant_whose_withdrawal_never_came(client: TestClient, market: dict[str, Any],
                                                                 registry: Registry) -> None:
    people, holders = market["people"], market["holders"]
    sell = _post(client, "/orders", people["seller"], client_order_id="s-late", side="sell", quantity_t=100,
                 price_fen=5100)
    lid = _post(client, "/listings", people["seller"], client_order_id="s-late-l", side="sell", price_fen=5200,
                quantity_t=50, min_pick_t=10)["id"]
    suspend_past_the_routes(registry, holders[0].participant_id)
    # The buyer's crossing order does not fill against the suspended seller: the writer withdraws the seller
    # first and the buyer's order rests.
    crossing = _post(client, "/orders", people["buyer"], client_order_id="b-late", side="buy", quantity_t=10,
                     price_fen=5100)
    assert (crossing["status"], crossing["filled_t"]) == ("open", 0)
    mine = orders_by_id(client, people["seller"])
    assert [(mine[i]["status"], mine[i]["reason"]) for i in (sell["id"], lid)] == [
        ("cancelled", "PARTICIPANT_SUSPENDED")] * 2
    asset = f"CREDIT:{market['batch'].id}"
    assert balances(client, people["seller"]).get((asset, "held"), 0) == 0
    assert client.get("/fills", headers=people["buyer"]).json() == []
    bureau = bureau_of(client, registry)
    (audit,) = withdrawal_audits(client, bureau, holders[0].participant_id)
    assert audit["by_user_id"] is None  # the writer itself
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


@pytest.mark.parametrize("status", ["suspended", "disqualified"])
def test_a_rebuilt_book_withdraws_a_participant_that_may_not_trade(client: TestClient, market: dict[str, Any],
                                                                   registry: Registry, status: str) -> None:
    people, holders = market["people"], market["holders"]
    sell = _post(client, "/orders", people["seller"], client_order_id="s-r", side="sell", quantity_t=100,
                 price_fen=5100)
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.stop()
    with registry.uow() as uow:
        participant = uow.session.get(Participant, holders[0].participant_id)
        assert participant is not None
        participant.status = status
        uow.commit()
    services.exchange = Exchange(registry, services.settings.exchange_fee_bp)
    # Reading the book builds it: the seller's ask is gone before anyone can see or take it.
    services.exchange.desk(services.exchange.instrument_id(INSTRUMENT))._tick()
    assert client.get(f"/market/{INSTRUMENT}/depth").json()["depth"]["asks"] == []
    reason = {"suspended": "PARTICIPANT_SUSPENDED", "disqualified": "PARTICIPANT_DISQUALIFIED"}[status]
    assert orders_by_id(client, people["seller"])[sell["id"]]["reason"] == reason
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]


def test_the_withdrawal_is_routed_to_the_process_that_owns_the_book(cluster_backend: Backend, registry: Registry,
                                                                   tmp_path: Path) -> None:
    """On a cluster: the operator suspends the seller through an API process that owns no book; the
    withdrawal goes to the books process like any command, and the seller's ask is gone there."""
    backend = cluster_backend
    redis_url = backend.kv.url  # type: ignore[attr-defined]
    api, url = cluster._start(backend.url, redis_url, tmp_path, CARBONX_OWNS_BOOKS="false")
    log = (tmp_path / "books.log").open("wb")
    books = subprocess.Popen([sys.executable, "-m", "api", "books"], cwd=cluster.ROOT, stdout=log,
                             stderr=subprocess.STDOUT, env=cluster._env(backend.url, redis_url, tmp_path))
    try:
        instrument_id, seller, buyer = cluster._market(registry, url)
        deadline = time.monotonic() + 30
        while cluster._owner_pid(backend.url, instrument_id) != books.pid:
            assert time.monotonic() < deadline, "the books process did not take the book"
            time.sleep(0.3)
        resting = cluster.order(url, seller, "s1", "sell", 100, 5000)
        assert resting.status_code == 201, resting.text
        with registry.uow() as uow:
            seller_id = uow.session.get(Order, resting.json()["id"]).participant_id  # type: ignore[union-attr]
        operator = cluster._headers(user_id(registry, "operator"))
        suspended = httpx.post(f"{url}/market/participants/{seller_id}/admission", headers=operator, timeout=40,
                               json={"trading_status": "suspended", "reason": "暂停交易"})
        assert suspended.status_code == 200, suspended.text
        assert httpx.get(f"{url}/market/JXCI-2023/depth", timeout=40).json()["depth"]["asks"] == []
        mine = {o["id"]: o for o in httpx.get(f"{url}/orders", headers=seller, timeout=40).json()}
        assert (mine[resting.json()["id"]]["status"], mine[resting.json()["id"]]["reason"]) == (
            "cancelled", "PARTICIPANT_SUSPENDED")
        crossing = cluster.order(url, buyer, "b1", "buy", 30, 5000)
        assert crossing.status_code == 201 and crossing.json()["filled_t"] == 0, crossing.text
    finally:
        for process in (api, books):
            process.kill()
            process.wait(timeout=10)
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems


def test_an_auction_ending_for_a_participant_whose_withdrawal_never_came_allocates_nothing_to_it(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    """Time passing (the idle book's tick) would close the seller's auction and trade: refused, the seller
    withdrawn instead, and the buyer's bid goes back."""
    people, holders = market["people"], market["holders"]
    ends = (clock.now() + timedelta(minutes=5)).isoformat()
    aid = _post(client, "/auctions", people["seller"], client_order_id="s-a", side="sell", quantity_t=20,
                reserve_price_fen=5000, end_at=ends)["id"]
    bid = _post(client, f"/auctions/{aid}/bids", people["buyer"], client_order_id="b-a", price_fen=5200,
                quantity_t=20)["id"]
    suspend_past_the_routes(registry, holders[0].participant_id)
    clock.advance(timedelta(minutes=6))
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.desk(services.exchange.instrument_id(INSTRUMENT))._tick()
    auction = orders_by_id(client, people["seller"])[aid]
    assert (auction["status"], auction["reason"]) == ("cancelled", "PARTICIPANT_SUSPENDED")
    mine = orders_by_id(client, people["buyer"])[bid]
    assert (mine["status"], mine["reason"]) == ("cancelled", "COUNTERPARTY_SUSPENDED")
    assert client.get("/fills", headers=people["buyer"]).json() == []
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"] == {
        "available": DEPOSIT_FEN, "held": 0}
    check = client.get("/ledger/check", headers=people["operator"]).json()
    assert check["ok"], check["problems"]
