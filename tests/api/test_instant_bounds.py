"""Every instant a request gives is bounded. At the door an instant has a time zone and a UTC time between
2000-01-01 and 2100-12-31 (9999-12-31T23:59:59-14:00 is year 10000 in UTC: PostgreSQL stored it and could
not read it back, SQLite could not store it and failed a whole writer batch). At the exchange an expiry or an
auction's end lies after now and within CARBONX_MAX_HORIZON_DAYS (365 by default)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from api.schemas import BoundedInstant
from api.settings import Settings
from registry.clock import FixedClock

INSTANT: TypeAdapter[datetime] = TypeAdapter(BoundedInstant)


@pytest.mark.parametrize("given", [
    "2000-01-01T00:00:00Z", "2000-01-01T08:00:00+08:00", "2100-12-31T23:59:59.999999Z",
    "2100-12-31T09:59:59-14:00", "2026-11-23T10:00:00+08:00"])
def test_an_instant_within_the_range_passes(given: str) -> None:
    assert INSTANT.validate_python(given) == datetime.fromisoformat(given)


@pytest.mark.parametrize("given", [
    "1999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00+00:01", "2101-01-01T00:00:00Z",
    "2100-12-31T23:59:59-00:01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z", "2026-11-23T10:00:00"])
def test_an_instant_outside_the_range_or_without_a_zone_is_refused(given: str) -> None:
    with pytest.raises(ValidationError):
        INSTANT.validate_python(given)


def _gtd(client: TestClient, headers: dict[str, str], cid: str, expires_at: str) -> Any:
    return client.post("/orders", headers=headers, json={
        "instrument": "JXCI-2023", "client_order_id": cid, "side": "buy", "price_fen": 5000, "quantity_t": 1,
        "tif": "GTD", "expires_at": expires_at})


def _requests(market: dict[str, Any], instant: str) -> list[tuple[str, dict[str, str], dict[str, Any], str]]:
    """Each request that takes an instant: (path, who, body, the instant's field)."""
    people, holders = market["people"], market["holders"]
    return [
        ("/orders", people["buyer"], {"instrument": "JXCI-2023", "client_order_id": "o1", "side": "buy",
                                      "price_fen": 5000, "quantity_t": 1, "tif": "GTD", "expires_at": instant},
         "expires_at"),
        ("/listings", people["seller"], {"instrument": "JXCI-2023", "client_order_id": "l1", "price_fen": 5000,
                                         "quantity_t": 1, "expires_at": instant}, "expires_at"),
        ("/proposals", people["seller"], {"instrument": "JXCI-2023", "client_order_id": "p1", "side": "sell",
                                          "counterparty_participant_id": holders[1].participant_id,
                                          "price_fen": 5000, "quantity_t": 1, "expires_at": instant}, "expires_at"),
        ("/auctions", people["seller"], {"instrument": "JXCI-2023", "client_order_id": "a1", "quantity_t": 1,
                                         "reserve_price_fen": 5000, "end_at": instant}, "end_at"),
    ]


def test_year_10000_in_utc_is_a_422_naming_the_field_on_every_request(client: TestClient,
                                                                      market: dict[str, Any]) -> None:
    for path, who, body, field in _requests(market, "9999-12-31T23:59:59-14:00"):
        answer = client.post(path, headers=who, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [f"body.{field}"], answer.json()
    batch = client.post("/orders/batch", headers=market["people"]["buyer"], json={"place": [
        _requests(market, "9999-12-31T23:59:59-14:00")[0][2] | {"client_order_id": "b1"}]})
    assert batch.status_code == 422 and batch.json()["errors"][0]["field"] == "body.place[0].expires_at"
    assert client.get("/orders", headers=market["people"]["buyer"]).json() == []


@pytest.mark.parametrize(("offset", "status", "code"), [
    (timedelta(days=365), 201, None),
    (timedelta(days=365, seconds=1), 422, "BEYOND_HORIZON"),
    (timedelta(seconds=1), 201, None),
    (timedelta(0), 422, "INSTANT_PASSED"),
    (timedelta(days=-1), 422, "INSTANT_PASSED"),
])
def test_an_expiry_or_an_auction_end_lies_within_the_horizon(client: TestClient, market: dict[str, Any],
                                                             clock: FixedClock, offset: timedelta, status: int,
                                                             code: str | None) -> None:
    instant = (clock.now() + offset).isoformat()
    for path, who, body, field in _requests(market, instant):
        answer = client.post(path, headers=who, json=body)
        assert answer.status_code == status, (path, answer.text)
        if code is not None:
            problem = answer.json()
            assert problem["rule_codes"] == [code], problem
            assert [v["field"] for v in problem["violations"]] == [field]


def test_the_horizon_is_a_setting(client: TestClient, market: dict[str, Any], clock: FixedClock,
                                  settings: Settings) -> None:
    assert Settings(max_horizon_days=30).max_horizon_days == 30  # type: ignore[call-arg]
    exchange = client.app.state.services.exchange  # type: ignore[attr-defined]
    exchange.terms = replace(exchange.terms, max_horizon_days=30)
    buyer = market["people"]["buyer"]
    assert _gtd(client, buyer, "g1", (clock.now() + timedelta(days=30)).isoformat()).status_code == 201
    late = _gtd(client, buyer, "g2", (clock.now() + timedelta(days=31)).isoformat())
    assert late.status_code == 422 and late.json()["rule_codes"] == ["BEYOND_HORIZON"]


def test_a_retried_order_gets_its_first_answer_even_after_its_expiry_passed(
        client: TestClient, market: dict[str, Any], clock: FixedClock) -> None:
    """The horizon is checked for a new order only: a retry (the same client_order_id) answers as before."""
    buyer = market["people"]["buyer"]
    expires = (clock.now() + timedelta(minutes=10)).isoformat()
    first = _gtd(client, buyer, "r1", expires)
    assert first.status_code == 201
    clock.advance(timedelta(minutes=20))  # (the login lasts an hour)
    again = _gtd(client, buyer, "r1", expires)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


def test_a_market_closure_day_is_bounded_at_the_door(client: TestClient, market: dict[str, Any]) -> None:
    operator = market["operator"]
    far = client.post("/market/closures", headers=operator, json={
        "day": "9999-12-31", "name_zh": "测试", "name_en": "Test", "source": "a typo"})
    assert far.status_code == 422 and [e["field"] for e in far.json()["errors"]] == ["body.day"]
    gone = client.delete("/market/closures/9999-12-31", headers=operator)
    assert gone.status_code == 422 and [e["field"] for e in gone.json()["errors"]] == ["path.day"]
