"""An individual's name is personal data: the individual and the reviewers of its files read it in full, the
public and other traders see it masked (one function, registry.services.participants.name_for, for every
answer that names a participant to someone else)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import Participant
from registry.principals import Principal
from registry.services.participants import masked_name, name_for

FULL_NAME = "王小明"
MASKED = "王**"


def _person(kind: str, name: str = FULL_NAME, pid: int = 7) -> Participant:
    return Participant(id=pid, name=name, kind=kind, status="active")


def _viewer(*roles: str, pid: int = 1) -> Principal:
    return Principal(user_id=1, participant_id=pid, username="v", roles=frozenset(roles))


@pytest.mark.parametrize(("viewer", "seen"), [
    (None, MASKED),
    (_viewer("trader"), MASKED),
    (_viewer("owner", "trader"), MASKED),
    (_viewer("operator"), MASKED),
    (_viewer("verifier"), MASKED),
    (_viewer("admin"), MASKED),
    (_viewer("trader", pid=7), FULL_NAME),  # the individual itself
    (_viewer("bureau"), FULL_NAME),
    (_viewer("center"), FULL_NAME),
    (_viewer("expert"), FULL_NAME),
])
def test_who_reads_an_individuals_name(viewer: Principal | None, seen: str) -> None:
    assert name_for(viewer, _person("individual")) == seen
    assert name_for(viewer, _person("enterprise", "嘉兴某某纺织有限公司")) == "嘉兴某某纺织有限公司"


@pytest.mark.parametrize(("name", "masked"), [("王", "王*"), ("王五", "王*"), ("欧阳小明", "欧***"), ("", "")])
def test_the_mask_keeps_the_first_character_only(name: str, masked: str) -> None:
    assert masked_name(name) == masked


@pytest.fixture
def individual(registry: Registry, market: dict[str, Any]) -> int:
    """The third admitted trader of the market fixture, made an individual."""
    pid = int(market["holders"][2].participant_id)
    with registry.uow() as uow:
        person = uow.session.get(Participant, pid)
        assert person is not None
        person.kind, person.name = "individual", FULL_NAME
        uow.commit()
    return pid


def test_counterparties_mask_an_individual_to_other_traders(client: TestClient, market: dict[str, Any],
                                                            individual: int) -> None:
    people = market["people"]
    for trader in ("seller", "buyer"):
        listed = {c["id"]: c["name"] for c in client.get("/market/counterparties", headers=people[trader]).json()}
        assert listed[individual] == MASKED
        assert FULL_NAME not in str(listed)
    # Organisations keep their names; the individual sees the others as any trader does.
    own_view = {c["id"]: c["name"] for c in client.get("/market/counterparties", headers=people["stranger"]).json()}
    assert own_view == {market["holders"][0].participant_id: "p1", market["holders"][1].participant_id: "p2"}
    assert client.get("/auth/me", headers=people["stranger"]).json()["participant_name"] == FULL_NAME


def test_no_trading_answer_names_the_individual_to_another_trader(client: TestClient, market: dict[str, Any],
                                                                  individual: int, clock: FixedClock) -> None:
    """A listing open to the individual, a proposal to it, a trade beside it: the other traders' reads of the
    market carry ids, never the name."""
    people, holders = market["people"], market["holders"]
    instrument = "JXCI-2023"
    listed = client.post("/listings", headers=people["seller"], json={
        "instrument": instrument, "client_order_id": "l-named", "side": "sell", "price_fen": 5200,
        "quantity_t": 50, "min_pick_t": 10, "allowed_counterparties": [individual, holders[1].participant_id]})
    assert listed.status_code == 201, listed.text
    proposed = client.post("/proposals", headers=people["seller"], json={
        "instrument": instrument, "client_order_id": "p-named", "counterparty_participant_id": individual,
        "side": "sell", "price_fen": 5100, "quantity_t": 5,
        "expires_at": (clock.now() + timedelta(hours=1)).isoformat()})
    assert proposed.status_code == 201, proposed.text
    for side, cid in (("sell", "o-sell"), ("buy", "o-buy")):
        who = people["seller"] if side == "sell" else people["buyer"]
        placed = client.post("/orders", headers=who, json={"instrument": instrument, "client_order_id": cid,
                                                           "side": side, "price_fen": 5000, "quantity_t": 5})
        assert placed.status_code == 201, placed.text
    reads = ["/market/counterparties", f"/listings?instrument={instrument}", "/proposals", "/orders", "/fills",
             f"/market/{instrument}/trades", f"/market/{instrument}/depth", f"/auctions?instrument={instrument}",
             f"/exports/trades.csv?instrument={instrument}", "/exports/orders.csv", "/exports/fills.csv",
             "/market/summary", "/retirements", "/projects", "/exports/projects.csv"]
    for trader in ("seller", "buyer"):
        for path in reads:
            answer = client.get(path, headers=people[trader])
            assert answer.status_code == 200, (path, answer.text)
            assert FULL_NAME not in answer.text, (trader, path)
