"""Market closures the operator records (a year's holidays when the State Council's notice comes out, or a
closure announced ahead), on both backends: the calendar shows them, books do not open on them, the resale
lock runs over them; only a weekday not yet begun may be closed or reopened, and the notice's own holidays
are never withdrawn. (The tests' clock stands at Monday 2026-11-23, 10:00 in Jiaxing.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.exchange.market_hours import MarketHours
from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import AuditEntry

TUESDAY = "2026-11-24"
CLOSURE = {"day": TUESDAY, "name_zh": "台风停市", "name_en": "Typhoon closure",
           "source": "Operations center announcement 2026-11-20"}


def _record(client: TestClient, operator: dict[str, str], **fields: Any) -> Any:
    return client.post("/market/closures", headers=operator, json=CLOSURE | fields)


def _order(client: TestClient, who: dict[str, str], cid: str, side: str = "sell", quantity_t: int = 10) -> Any:
    return client.post("/orders", headers=who, json={"instrument": "JXCI-2023", "client_order_id": cid,
                                                     "side": side, "quantity_t": quantity_t, "price_fen": 5000})


def test_a_recorded_closure_is_in_the_calendar_until_withdrawn(client: TestClient, market: dict[str, Any],
                                                               registry: Registry) -> None:
    operator = market["people"]["operator"]
    recorded = _record(client, operator)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json() == {"date": TUESDAY, "name_zh": "台风停市", "name_en": "Typhoon closure",
                               "source": CLOSURE["source"], "recorded": True}
    calendar = client.get("/market/calendar").json()
    assert calendar["closures"] == [recorded.json()]
    assert calendar["next_trading_day"] == "2026-11-25" and calendar["years"] == [2025, 2026]
    assert _record(client, operator).status_code == 409  # closed already

    assert client.delete(f"/market/closures/{TUESDAY}", headers=operator).status_code == 204
    calendar = client.get("/market/calendar").json()
    assert calendar["closures"] == [] and calendar["next_trading_day"] == TUESDAY
    assert client.delete(f"/market/closures/{TUESDAY}", headers=operator).status_code == 404
    with registry.uow() as uow:
        actions = [a for (a,) in uow.session.query(AuditEntry.action).filter(
            AuditEntry.subject_type == "market_closure").order_by(AuditEntry.seq)]
    assert actions == ["market_closure.recorded", "market_closure.withdrawn"]


@pytest.mark.parametrize(("fields", "status"), [
    ({"day": "2026-11-23"}, 422),  # today has begun
    ({"day": "2026-11-20"}, 422),  # past
    ({"day": "2026-11-28"}, 422),  # a Saturday: closed anyway
    ({"day": "2026-11-31"}, 422),  # no such day
    ({"day": "2207-01-01"}, 422),  # a mistyped year: beyond the next two
    ({"name_zh": ""}, 422),
    ({"source": "x\u0000y"}, 422),
    ({"day": "2026-11-25", "unknown": 1}, 422),
])
def test_a_closure_that_cannot_be_recorded_is_refused_and_nothing_is_written(
        client: TestClient, market: dict[str, Any], fields: dict[str, Any], status: int) -> None:
    answer = _record(client, market["people"]["operator"], **fields)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/market/calendar").json()["closures"] == []


def test_a_day_begun_or_a_holiday_of_the_notice_cannot_be_withdrawn(client: TestClient, market: dict[str, Any],
                                                                    clock: FixedClock) -> None:
    people = market["people"]
    assert _record(client, people["operator"]).status_code == 201
    notice = client.delete("/market/closures/2026-10-01", headers=people["operator"])  # National Day, the notice's
    assert notice.status_code == 409 and "国务院" in notice.json()["detail_zh"]
    clock.advance(timedelta(days=1))  # the closed Tuesday itself
    assert client.delete(f"/market/closures/{TUESDAY}", headers=people["operator"]).status_code == 422
    assert client.get("/market/calendar").json()["today_is_trading_day"] is False


def test_books_do_not_open_on_a_recorded_closure(client: TestClient, market: dict[str, Any],
                                                 clock: FixedClock) -> None:
    people = market["people"]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.exchange.hours = MarketHours.parse("09:30-11:30,13:00-15:00", always_open=False)
    assert _record(client, market["people"]["operator"]).status_code == 201
    assert _order(client, people["seller"], "mon").status_code == 201  # Monday 10:00: open
    clock.advance(timedelta(days=1))  # Tuesday 10:00, closed by the operator
    assert client.get("/market/calendar").json()["state"] == "closed"
    closed = _order(client, people["seller"], "tue")
    assert closed.status_code == 409, closed.text
    clock.advance(timedelta(days=1))  # Wednesday 10:00
    assert _order(client, people["seller"], "wed").status_code == 201


def test_the_resale_lock_runs_over_a_recorded_closure(client: TestClient, market: dict[str, Any],
                                                      clock: FixedClock) -> None:
    people = market["people"]
    assert _record(client, market["people"]["operator"]).status_code == 201
    assert _order(client, people["seller"], "s1", quantity_t=20).status_code == 201
    bought = _order(client, people["buyer"], "b1", side="buy", quantity_t=20)
    assert bought.json()["status"] == "filled", bought.text
    clock.advance(timedelta(days=1))  # Tuesday (the demo market trades every day; the lock still counts)
    tuesday = _order(client, people["buyer"], "r1", quantity_t=5)
    assert tuesday.status_code == 409 and "resale lock" in tuesday.json()["detail"]
    clock.advance(timedelta(days=1))  # Wednesday: the next trading day after Monday
    assert _order(client, people["buyer"], "r2", quantity_t=5).status_code == 201
