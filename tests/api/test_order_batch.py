"""POST /orders/batch: cancels and places in one request, each carried out or refused on its own as if sent
alone, answered in the order asked; a malformed batch is refused whole; a retry gets the first answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.routers.orders import ORDER_BATCH_MAX
from tests.support import balances, order

CODE = "JXCI-2023"


def _place(cid: str, side: str, quantity_t: int, price_fen: int, instrument: str = CODE) -> dict[str, Any]:
    return {"instrument": instrument, "client_order_id": cid, "side": side, "quantity_t": quantity_t,
            "price_fen": price_fen}


def _batch(client: TestClient, who: dict[str, str], *, cancel: list[int] | None = None,
           place: list[dict[str, Any]] | None = None) -> Any:
    return client.post("/orders/batch", headers=who, json={"cancel": cancel or [], "place": place or []})


def test_each_command_of_a_batch_is_carried_out_or_refused_on_its_own(client: TestClient,
                                                                     market: dict[str, Any]) -> None:
    people, asset = market["people"], f"CREDIT:{market['batch'].id}"
    ladder = _batch(client, people["seller"], place=[
        _place("s1", "sell", 10, 5100), _place("s2", "sell", 20, 5200),
        _place("s3", "sell", 5, 9999),  # outside the price band: refused, the others stand
        _place("s4", "sell", 30, 5300), _place("s5", "sell", 1, 5000, instrument="JXCI-1999")])
    assert ladder.status_code == 200, ladder.text
    placed = ladder.json()["place"]
    assert [item["status"] for item in placed] == [201, 201, 409, 201, 404]
    assert [item["order"]["client_order_id"] for item in placed if item["status"] == 201] == ["s1", "s2", "s4"]
    assert placed[2]["problem"]["rule_codes"] == ["PRICE_ABOVE_BAND"] and placed[2]["problem"]["status"] == 409
    assert placed[4]["problem"]["code"] == "not_found"
    assert ladder.json()["cancel"] == []
    assert balances(client, people["seller"])[(asset, "held")] == 60
    ids = [item["order"]["id"] for item in placed if item["status"] == 201]

    # Re-quote: cancel two rungs (and one order that is not the seller's), place a new one that a buyer lifts.
    theirs = order(client, people["buyer"], client_order_id="b0", quantity_t=1, price_fen=4600).json()["id"]
    requote = _batch(client, people["seller"], cancel=[ids[0], theirs, ids[2]],
                     place=[_place("s6", "sell", 15, 5050)])
    assert requote.status_code == 200, requote.text
    cancelled = requote.json()["cancel"]
    assert [item["status"] for item in cancelled] == [200, 404, 200]
    assert cancelled[0]["order"]["status"] == "cancelled" and cancelled[2]["order"]["id"] == ids[2]
    assert requote.json()["place"][0]["order"]["status"] == "open"
    assert balances(client, people["seller"])[(asset, "held")] == 20 + 15
    assert client.get("/orders?status=open", headers=people["buyer"]).json()[0]["id"] == theirs  # untouched
    lift = _batch(client, people["buyer"], place=[_place("b1", "buy", 15, 5050)])
    assert lift.json()["place"][0]["order"]["status"] == "filled"
    depth = client.get(f"/market/{CODE}/depth").json()["depth"]
    assert depth["asks"] == [{"price_fen": 5200, "quantity_t": 20, "order_count": 1}]
    check = client.get("/ledger/check", headers=market["operator"]).json()
    assert check["ok"], check["problems"]


def test_a_retried_batch_gets_the_first_answers_and_changes_nothing_more(client: TestClient,
                                                                         market: dict[str, Any]) -> None:
    people = market["people"]
    resting = order(client, people["buyer"], client_order_id="r1", quantity_t=5, price_fen=4800).json()["id"]
    body = {"cancel": [resting], "place": [_place("q1", "buy", 3, 4900), _place("q2", "buy", 4, 4950)]}
    first = client.post("/orders/batch", headers=people["buyer"], json=body)
    again = client.post("/orders/batch", headers=people["buyer"], json=body)
    assert first.status_code == again.status_code == 200
    # The same orders, not new ones, each marked as a replay.
    assert again.json()["place"] == [item | {"replayed": True} for item in first.json()["place"]]
    assert first.json()["cancel"][0]["status"] == 200
    assert again.json()["cancel"][0]["status"] == 409  # already cancelled: refused, nothing changes
    mine = client.get("/orders", headers=people["buyer"]).json()
    assert sorted(o["client_order_id"] for o in mine) == ["q1", "q2", "r1"]
    assert client.get("/cash", headers=people["buyer"]).json()["balances_fen"]["held"] == (
        3 * 4900 + 3 * 4900 * 10 // 10_000 + 4 * 4950 + 4 * 4950 * 10 // 10_000)


def test_a_malformed_batch_is_refused_whole(client: TestClient, market: dict[str, Any]) -> None:
    people = market["people"]
    refusals = {
        "empty": {"cancel": [], "place": []},
        "twice the same client order id": {"place": [_place("d1", "buy", 1, 5000), _place("d1", "buy", 2, 5000)]},
        "a cancel twice": {"cancel": [7, 7]},
        "too many": {"place": [_place(f"m{i}", "buy", 1, 5000) for i in range(ORDER_BATCH_MAX + 1)]},
        "too many in all": {"cancel": list(range(1, 27)), "place": [_place(f"n{i}", "buy", 1, 5000)
                                                                    for i in range(ORDER_BATCH_MAX - 25)]},
        "an invalid order": {"place": [_place("v1", "buy", 1, 5000), _place("v2", "buy", 0, 5000)]},
        "an unknown field": {"place": [_place("u1", "buy", 1, 5000)], "amend": []},
    }
    for why, body in refusals.items():
        refused = client.post("/orders/batch", headers=people["buyer"], json=body)
        assert refused.status_code == 422, (why, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    invalid = client.post("/orders/batch", headers=people["buyer"], json=refusals["an invalid order"]).json()
    assert [e["field"] for e in invalid["errors"]] == ["body.place[1].quantity_t"]
    at_limit = {"place": [_place(f"k{i}", "buy", 1, 4500 + i) for i in range(ORDER_BATCH_MAX)]}
    accepted = client.post("/orders/batch", headers=people["buyer"], json=at_limit)
    assert accepted.status_code == 200 and {i["status"] for i in accepted.json()["place"]} == {201}
    # Nothing of the refused batches was written: only the accepted one's orders exist.
    assert len(client.get("/orders?limit=500", headers=people["buyer"]).json()) == ORDER_BATCH_MAX
    assert client.post("/orders/batch", json=at_limit).status_code == 401
    keyed = client.post("/orders/batch", headers=people["buyer"] | {"Idempotency-Key": "k-1"},
                        json={"place": [_place("i1", "buy", 1, 5000)]})
    assert keyed.status_code == 422 and keyed.json()["code"] == "invalid_input"
    assert "i1" not in {o["client_order_id"] for o in client.get("/orders?limit=500", headers=people["buyer"]).json()}


def test_a_batch_counts_against_the_rate_limit_as_the_orders_it_carries(client: TestClient,
                                                                       market: dict[str, Any]) -> None:
    """Fifty orders in one request cost what fifty requests would: a batch over what is left of the caller's
    minute is refused whole (429), before anything of it is done; one within it goes through."""
    seller = market["people"]["seller"]
    client.app.state.services.settings.rate_limit_per_minute = 12  # type: ignore[attr-defined]
    # A fresh minute: the counter of the setup's requests expires 60 s (real time) after the first of them, which
    # a slow machine can reach between the two batches below.
    client.app.state.services.registry.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    within = _batch(client, seller, place=[_place(f"r{i}", "sell", 1, 5100 + i) for i in range(10)])
    assert within.status_code == 200 and [item["status"] for item in within.json()["place"]] == [201] * 10
    over = _batch(client, seller, place=[_place(f"o{i}", "sell", 1, 5200 + i) for i in range(3)])
    assert over.status_code == 429, over.text
    assert over.headers["content-type"].startswith("application/problem+json")
    client.app.state.services.settings.rate_limit_per_minute = 1000  # type: ignore[attr-defined]
    open_orders = client.get("/orders?status=open", headers=seller).json()
    assert sorted(o["client_order_id"] for o in open_orders) == sorted(f"r{i}" for i in range(10))  # none of o*
