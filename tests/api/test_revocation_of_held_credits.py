"""Art. 26: a revocation takes back the batch's credits wherever they sit, those held on the exchange too.

The batch is frozen first (nothing holds its credits again: JX-26), the exchange withdraws whatever holds them,
whoever's (BATCH_REVOKED), and only then are they taken back; while a book has not let go, the revocation is
refused with 503 and the freeze stays, so that the same request completes it. A partial revocation lifts the
freeze once done. Before the fix the take back saw only the available credits: an owner whose credits all
rested in a sell got "nothing left" (JX-26) and kept trading them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import Batch, Participant
from tests.api.test_withdraw_on_suspension import INSTRUMENT, _post, bureau_of
from tests.support import balances, bearer, make_user

REVOKE = {"reason": "减排量未真实发生", "notice": "关于收回某项目核证减排量的通报"}


def asset(market: dict[str, Any]) -> str:
    return f"CREDIT:{market['batch'].id}"


def frozen(registry: Registry, batch_id: int) -> bool:
    with registry.uow() as uow:
        batch = uow.session.get(Batch, batch_id)
        assert batch is not None
        return batch.frozen_at is not None


def status_of(registry: Registry, participant_id: int) -> str:
    with registry.uow() as uow:
        participant = uow.session.get(Participant, participant_id)
        assert participant is not None
        return participant.status


def order_of(client: TestClient, headers: dict[str, str], order_id: int) -> dict[str, Any]:
    (found,) = [o for o in client.get("/orders", headers=headers).json() if o["id"] == order_id]
    return dict(found)


def assert_sound(client: TestClient, market: dict[str, Any]) -> None:
    check = client.get("/ledger/check", headers=market["people"]["operator"]).json()
    assert check["ok"], check["problems"]


def test_an_owner_with_every_credit_in_a_resting_sell_is_revoked_fully(
        client: TestClient, market: dict[str, Any], registry: Registry) -> None:
    seller = market["people"]["seller"]
    sell = _post(client, "/orders", seller, client_order_id="all-in", side="sell", quantity_t=1000, price_fen=5100)
    revoked = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau_of(client, registry),
                          json=REVOKE)
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["quantity_t"] == 1000
    assert (order_of(client, seller, sell["id"])["status"], order_of(client, seller, sell["id"])["reason"]) == (
        "cancelled", "BATCH_REVOKED")
    held = balances(client, seller)
    assert (held.get((asset(market), "held"), 0), held.get((asset(market), "available"), 0),
            held[(asset(market), "revoked")]) == (0, 0, 1000)
    assert status_of(registry, market["holders"][0].participant_id) == "disqualified"
    assert client.get(f"/market/{INSTRUMENT}/depth").json()["depth"]["asks"] == []
    assert frozen(registry, market["batch"].id)  # a full take back leaves nothing to trade: it stays
    assert_sound(client, market)


def test_a_buyer_reselling_credits_of_the_batch_has_them_taken_back_too(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    people = market["people"]
    seller, buyer = people["seller"], people["buyer"]
    _post(client, "/orders", seller, client_order_id="s-1", side="sell", quantity_t=100, price_fen=5000)
    bought = _post(client, "/orders", buyer, client_order_id="b-1", side="buy", quantity_t=100, price_fen=5000)
    assert bought["status"] == "filled", bought
    clock.advance(timedelta(days=7))  # past the resale lock (and the tokens: fresh ones)
    seller, buyer = people["seller"], people["buyer"]
    resale = _post(client, "/orders", buyer, client_order_id="b-resell", side="sell", quantity_t=60, price_fen=5300)
    assert balances(client, buyer)[(asset(market), "held")] == 60
    revoked = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau_of(client, registry),
                          json=REVOKE)
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["quantity_t"] == 1000
    assert order_of(client, buyer, resale["id"])["reason"] == "BATCH_REVOKED"
    theirs = balances(client, buyer)
    assert (theirs.get((asset(market), "held"), 0), theirs.get((asset(market), "available"), 0),
            theirs[(asset(market), "revoked")]) == (0, 0, 100)
    assert balances(client, seller)[(asset(market), "revoked")] == 900
    assert status_of(registry, market["holders"][1].participant_id) == "active"  # only the owner is disqualified
    assert_sound(client, market)


def test_a_book_that_does_not_let_go_refuses_with_503_and_the_retry_completes(
        client: TestClient, market: dict[str, Any], registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    people = market["people"]
    seller, buyer = people["seller"], people["buyer"]
    _post(client, "/orders", seller, client_order_id="s-rest", side="sell", quantity_t=400, price_fen=5100)
    bureau = bureau_of(client, registry)
    from api.routers import ledger as ledger_routes
    monkeypatch.setattr(ledger_routes, "withdraw_batch_from_market", lambda *_: [])  # the books out of reach
    refused = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau, json=REVOKE)
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "unavailable" and refused.headers.get("Retry-After")
    assert frozen(registry, market["batch"].id)
    assert balances(client, seller)[(asset(market), "held")] == 400  # nothing taken back
    assert status_of(registry, market["holders"][0].participant_id) == "active"
    # Frozen: no hold, transfer or retirement request takes the batch's credits, with JX-26.
    for path, body in (
            ("/orders", {"instrument": INSTRUMENT, "client_order_id": "s-late", "side": "sell", "quantity_t": 10,
                         "price_fen": 5100}),
            ("/listings", {"instrument": INSTRUMENT, "client_order_id": "s-late-l", "side": "sell",
                           "price_fen": 5100, "quantity_t": 10, "min_pick_t": 10}),
            ("/transfers", {"to_account_code": _account_code(client, buyer), "quantity_t": 10})):
        late = client.post(path, headers=seller, json=body)
        assert late.status_code == 409, late.text
        assert [v["code"] for v in late.json()["violations"]] == ["JX-26"], late.text
    monkeypatch.undo()
    again = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau, json=REVOKE)
    assert again.status_code == 201, again.text
    assert again.json()["quantity_t"] == 1000
    assert balances(client, seller).get((asset(market), "held"), 0) == 0
    assert_sound(client, market)


def _account_code(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/accounts", headers=headers).json()[0]["code"])


def test_a_partial_revocation_takes_back_and_lifts_the_freeze(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    people = market["people"]
    seller, buyer = people["seller"], people["buyer"]
    _post(client, "/orders", seller, client_order_id="s-1", side="sell", quantity_t=100, price_fen=5000)
    _post(client, "/orders", buyer, client_order_id="b-1", side="buy", quantity_t=100, price_fen=5000)
    _post(client, "/orders", seller, client_order_id="s-rest", side="sell", quantity_t=900, price_fen=5100)
    revoked = client.post(f"/batches/{market['batch'].id}/revocations", headers=bureau_of(client, registry),
                          json={**REVOKE, "quantity_t": 950})
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["quantity_t"] == 950  # the owner's 900 first (no longer held), then the lowest serials
    assert balances(client, seller)[(asset(market), "revoked")] == 900
    assert not frozen(registry, market["batch"].id)
    # The rest trades again: the buyer resells what it kept.
    clock.advance(timedelta(days=7))
    buyer = people["buyer"]
    assert balances(client, buyer)[(asset(market), "available")] == 50
    resale = _post(client, "/orders", buyer, client_order_id="b-resell", side="sell", quantity_t=50, price_fen=5300)
    assert resale["status"] == "open"
    assert_sound(client, market)


def test_a_sanction_of_a_correction_order_takes_back_what_rests_in_sells(
        client: TestClient, market: dict[str, Any], registry: Registry, clock: FixedClock) -> None:
    seller = market["people"]["seller"]
    sell = _post(client, "/orders", seller, client_order_id="all-in", side="sell", quantity_t=1000, price_fen=5100)
    bureau_id = make_user(registry, "bureau_w", ["bureau"])
    ordered = client.post(f"/batches/{market['batch'].id}/corrections", headers=bearer(client, bureau_id),
                          json={"finding": "核算报告数据不实，请更正。", "deadline_days": 1})
    assert ordered.status_code == 201, ordered.text
    clock.advance(timedelta(days=2))
    seller, bureau = market["people"]["seller"], bearer(client, bureau_id)
    lapsed = client.post(f"/corrections/{ordered.json()['id']}/decision", headers=bureau, json={
        "decision": "lapse", "comment": "逾期未改正", "notice": "关于取消某公司碳普惠市场参与资格的通报"})
    assert lapsed.status_code == 200, lapsed.text
    assert lapsed.json()["revocation_id"] is not None
    assert order_of(client, seller, sell["id"])["reason"] == "BATCH_REVOKED"
    held = balances(client, seller)
    assert (held.get((asset(market), "held"), 0), held[(asset(market), "revoked")]) == (0, 1000)
    assert status_of(registry, market["holders"][0].participant_id) == "disqualified"
    assert_sound(client, market)
