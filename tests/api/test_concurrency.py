"""Double spend under real concurrency: a live server (uvicorn on a free local port) and 50 clients at once.
50 requests of 25 t each race for one holding of 1,000 t (1,250 t asked): exactly 1,000 t are retired,
every other request gets a 409 with a reason, and the ledger checks clean. Runs on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from api.settings import Settings
from api.tokens import issue_token
from registry.context import Registry
from registry.services import cash, holdings, instruments, ledger_accounts, ledger_check
from tests.support import issue_to, seed_ledger

CLIENTS = 50
PIECE_T = 25


def test_fifty_clients_cannot_retire_more_than_is_held(live_server: str, registry: Registry,
                                                       settings: Settings) -> None:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 1000)
    owner = holders[0]
    token, _ = issue_token(settings, owner.user_id, registry.clock.now())
    start = threading.Barrier(CLIENTS)

    def retire(i: int) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            return http.post("/retirements", headers={"Authorization": f"Bearer {token}"}, json={
                "quantity_t": PIECE_T, "beneficiary": f"client {i}", "purpose": {"purpose": "voluntary"}})

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(retire, range(CLIENTS)))
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes.count(201) * PIECE_T == 1000
    for refused in (r for r in responses if r.status_code == 409):
        body = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert body["detail"] and body["detail_zh"]
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems
    assert report.batches == [{"batch": batch.code, "issued_t": 1000, "available_t": 0, "held_t": 0,
                               "retired_t": 1000, "revoked_t": 0}]


def test_no_tonne_is_both_sold_and_retired(live_server: str, registry: Registry, settings: Settings) -> None:
    """The seller's 100 t are raced by 20 sell orders (against a resting buy that takes everything) and 20
    retirement requests, 10 t each: at most 100 t leave, and the sold and retired serials never meet."""
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    seller, buyer = holders[0], holders[1]
    with registry.uow(bureau) as uow:
        for holder in (seller, buyer):
            instruments.set_trading_status(uow, holder.participant_id, "admitted", "test")
        instruments.define(uow, code="JXCI-2023", name_zh="2023", name_en="2023", vintage=2023,
                           methodology_field=None, config={"reference_price_fen": 5000})
        cash.record(uow, bureau, participant_id=buyer.participant_id, kind="deposit", amount_fen=10**9,
                    bank_reference="BANK-DS-1")
        uow.commit()

    def token(user_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(settings, user_id, registry.clock.now())[0]}"}

    with httpx.Client(base_url=live_server, timeout=60) as http:
        resting = http.post("/orders", headers=token(buyer.user_id), json={
            "instrument": "JXCI-2023", "client_order_id": "take-all", "side": "buy", "quantity_t": 1000,
            "price_fen": 5000})
        assert resting.status_code == 201, resting.text
    start = threading.Barrier(40)

    def act(i: int) -> tuple[str, int, str]:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            start.wait()
            if i % 2:
                r = http.post("/orders", headers=token(seller.user_id), json={
                    "instrument": "JXCI-2023", "client_order_id": f"s{i}", "side": "sell", "quantity_t": 10,
                    "price_fen": 5000})
                return "sold", r.status_code, r.json().get("detail", "")
            r = http.post("/retirements", headers=token(seller.user_id), json={
                "quantity_t": 10, "beneficiary": f"r{i}", "purpose": {"purpose": "voluntary"}})
            # A retirement refused for want of credits names Art. 21.
            return "retired", r.status_code, " ".join(r.json().get("rule_codes", [])) or r.json().get("detail", "")

    with ThreadPoolExecutor(40) as pool:
        results = list(pool.map(act, range(40)))
    assert {code for _, code, _ in results} <= {201, 409}
    # Every refusal is for want of credits, never an error of the race itself.
    refusals = {detail for _, code, detail in results if code == 409}
    assert all("Not enough" in detail or "No available" in detail or detail == "JX-21" for detail in refusals), \
        refusals
    sold = sum(10 for kind, code, _ in results if kind == "sold" and code == 201)
    retired = sum(10 for kind, code, _ in results if kind == "retired" and code == 201)
    assert sold + retired == 100  # which side wins more is the race's business; together never more
    with registry.uow() as uow:
        report = ledger_check.check(uow)
        seller_account = ledger_accounts.main_account(uow, seller.participant_id).id
        retired_blocks = [b for b in holdings.holdings(uow, [seller_account]) if b.bucket == "retired"]
        bought = holdings.holdings(uow, [ledger_accounts.main_account(uow, buyer.participant_id).id])
        sold_serials = {n for b in bought for n in range(b.serial_start, b.serial_end + 1)}
        retired_serials = {n for b in retired_blocks for n in range(b.serial_start, b.serial_end + 1)}
    assert report.ok, report.problems
    assert report.batches[0] == {"batch": batch.code, "issued_t": 100, "available_t": sold, "held_t": 0,
                                 "retired_t": retired, "revoked_t": 0}
    assert len(sold_serials) == sold and len(retired_serials) == retired and not sold_serials & retired_serials
