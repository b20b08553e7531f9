"""The bank workload of the fault tests: a market of traders with cash and credits, client threads that send
seeded transfers, retirements and crossing orders (each with its key) to API servers, and the checks made through
the database afterwards (every ok is there once, nothing refused took effect, each trader's credits and cash are
what the operations that took effect make them)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from bench import loadgen
from registry import ledger
from registry.context import Registry
from registry.orm import Account, Balance, JournalEntry, Order, Retirement, Trade
from registry.services import ledger_accounts
from tests.load.operations import OK, REFUSED, Operation, send

CREDITS_T = 5_000
CASH_FEN = 10**9
PRICE_FEN = 5_000


@dataclass
class Bank:
    market: loadgen.Market
    accounts: list[str]  # each trader's main account code
    run: str

    @property
    def participants(self) -> list[int]:
        return [t.participant_id for t in self.market.traders]


def open_bank(settings: object, registry: Registry, traders: int, run: str) -> Bank:
    """Traders with cash and credits of their own batches, and an instrument to trade them on."""
    market = loadgen.prepare_market(settings, traders=traders, prefix=f"bank{run}",  # type: ignore[arg-type]
                                    instrument=f"BANK-{run.upper()}", registry=registry, cash_fen=CASH_FEN,
                                    credits_t=CREDITS_T)
    with registry.uow() as uow:
        accounts = [ledger_accounts.main_account(uow, t.participant_id).code for t in market.traders]
    return Bank(market, accounts, run)


def bank_operation(rng: random.Random, bank: Bank, trader: int, n: int, kinds: str = "transfer retire order"
                   ) -> Operation:
    """One seeded operation of client `trader`: a transfer, a retirement or an order that may cross."""
    market, accounts = bank.market, bank.accounts
    headers = market.traders[trader].headers
    key = f"{bank.run}-c{trader}-{n}"
    roll = rng.random()
    if "transfer" not in kinds:
        roll = 0.3 + roll * 0.7
    if "retire" not in kinds and 0.3 <= roll < 0.5:
        roll = 0.5 + (roll - 0.3) * 2.5
    if roll < 0.3:
        to = rng.choice([a for i, a in enumerate(accounts) if i != trader])
        return Operation("transfer", key, trader, "POST", "/transfers",
                         {"to_account_code": to, "quantity_t": rng.randint(1, 3), "memo": key},
                         {**headers, "Idempotency-Key": key})
    if roll < 0.5:
        return Operation("retire", key, trader, "POST", "/retirements",
                         {"quantity_t": rng.randint(1, 2), "beneficiary": "bank test",
                          "purpose": {"purpose": "voluntary", "note": key}},
                         {**headers, "Idempotency-Key": key})
    side = rng.choice(["buy", "sell"])
    # Buys a little above and sells a little below the reference: most orders cross, some rest.
    price = PRICE_FEN + (rng.randint(-4, 10) if side == "buy" else -rng.randint(-4, 10))
    return Operation("order", key, trader, "POST", "/orders",
                     {"instrument": market.instrument, "client_order_id": key, "side": side, "order_type": "LIMIT",
                      "price_fen": price, "quantity_t": rng.randint(1, 4)}, headers)


class Clients:
    """One thread per trader, each sending seeded operations to a server it picks at random, one at a time."""

    def __init__(self, bank: Bank, urls: list[str], seed: int, timeout_s: float,
                 kinds: str = "transfer retire order") -> None:
        self.bank, self.urls, self.seed, self.timeout_s, self.kinds = bank, urls, seed, timeout_s, kinds
        self.ops: list[Operation] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i,), daemon=True)
                        for i in range(len(bank.market.traders))]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a client did not finish"

    def done(self) -> int:
        with self.lock:
            return len(self.ops)

    def since(self, count: int) -> list[Operation]:
        with self.lock:
            return self.ops[count:]

    def _client(self, trader: int) -> None:
        rng = random.Random(self.seed * 1000 + trader)
        with httpx.Client() as client:
            for n in range(1_000_000):
                if self.stop.is_set():
                    return
                op = send(client, rng.choice(self.urls), bank_operation(rng, self.bank, trader, n, self.kinds),
                          self.timeout_s)
                with self.lock:
                    self.ops.append(op)
                if op.status is None or op.status >= 500:
                    time.sleep(0.05)  # pacing while a server is away, so the clients do not spin


def balances_by_participant(registry: Registry, participant_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per participant: credits (available + held, every batch), retired credits, and cash (available + held)."""
    with registry.uow() as uow:
        rows = uow.session.execute(select(Account.participant_id, Balance.asset, Balance.bucket, Balance.amount).join(
            Account, Account.id == Balance.account_id).where(Account.participant_id.in_(participant_ids)))
        totals: dict[int, dict[str, int]] = {p: {"credits_t": 0, "retired_t": 0, "cash_fen": 0}
                                             for p in participant_ids}
        for participant_id, asset, bucket, amount in rows:
            assert participant_id is not None
            mine = totals[participant_id]
            if asset == ledger.CASH:
                mine["cash_fen"] += amount
            elif bucket == ledger.RETIRED:
                mine["retired_t"] += amount
            elif bucket in (ledger.AVAILABLE, ledger.HELD):
                mine["credits_t"] += amount
    return totals


Effects = dict[str, Counter[str]]


def effects(registry: Registry, ops: list[Operation], market: loadgen.Market) -> Effects:
    """How many times each operation's key took effect, by kind."""
    return _read_effects(registry, ops, market)[0]


def _read_effects(registry: Registry, ops: list[Operation], market: loadgen.Market) -> tuple[
        Effects, dict[str, int], dict[str, int], dict[tuple[int, str], tuple[int, int, str, int]]]:
    with registry.uow() as uow:
        transfers: Counter[str] = Counter(uow.session.scalars(select(JournalEntry.memo).where(
            JournalEntry.kind == "transfer", JournalEntry.memo.in_([op.key for op in ops if op.kind == "transfer"]))))
        entry_ids = {e.memo: e.id for e in uow.session.scalars(select(JournalEntry).where(
            JournalEntry.kind == "transfer", JournalEntry.memo.in_(list(transfers))))}
        retired: Counter[str] = Counter()
        retirement_ids: dict[str, int] = {}
        traders = [t.participant_id for t in market.traders]
        for retirement in uow.session.scalars(select(Retirement).where(Retirement.participant_id.in_(traders))):
            note = str(retirement.details.get("note", ""))
            retired[note] += 1
            retirement_ids[note] = retirement.id
            assert retirement.status == "executed", (note, retirement.status)
        orders = {(p, cid): (oid, qty, side, filled) for p, cid, oid, qty, side, filled in uow.session.execute(
            select(Order.participant_id, Order.client_order_id, Order.id, Order.quantity_t, Order.side,
                   Order.filled_t).where(Order.instrument_id == market.instrument_id))}
    effects = {"transfer": transfers, "retire": retired, "order": Counter(cid for (_, cid) in orders)}
    return effects, entry_ids, retirement_ids, orders


def check_every_answer_in_the_database(registry: Registry, ops: list[Operation], market: loadgen.Market) -> None:
    """Each key took effect at most once; an ok one exactly once, as answered; a refused one not at all."""
    assert len({op.key for op in ops}) == len(ops)
    effects, entry_ids, retirement_ids, orders = _read_effects(registry, ops, market)
    twice = {kind: [k for k, n in c.items() if n > 1] for kind, c in effects.items()}
    assert not any(twice.values()), f"keys that took effect twice: {twice}"
    for op in ops:
        took_effect = effects[op.kind][op.key]
        if op.outcome == OK:
            assert took_effect == 1, f"{op.kind} {op.key} answered ok is not in the database: {op.answer}"
            if op.kind == "transfer":
                assert op.answer["entry_id"] == entry_ids[op.key], op.answer
            elif op.kind == "retire":
                assert op.answer["id"] == retirement_ids[op.key], op.answer
            else:
                order_id, quantity_t, side, filled_t = orders[(market.traders[op.trader].participant_id, op.key)]
                assert (order_id, quantity_t, side) == (
                    op.answer["id"], op.body["quantity_t"], op.body["side"]), op.answer
                assert filled_t >= op.answer["filled_t"], (filled_t, op.answer)
        else:
            assert op.outcome == REFUSED, op
            assert took_effect == 0, f"{op.kind} {op.key} was refused ({op.attempts}) but took effect"


def check_conservation(registry: Registry, ops: list[Operation], participants: list[int],
                        start: dict[int, dict[str, int]], market: loadgen.Market) -> None:
    """Each trader's credits, retired credits and cash are its starting amounts moved by exactly the operations
    that took effect and the trades the book made; in sum, the traders' credits are conserved and their cash
    only paid the exchange's fee."""
    expected = {p: dict(v) for p, v in start.items()}
    account_owner = {f"P{p:06d}-MAIN": p for p in participants}
    for op in ops:
        if op.outcome != OK:
            continue
        me = participants[op.trader]
        if op.kind == "transfer":
            expected[me]["credits_t"] -= op.body["quantity_t"]
            expected[account_owner[op.body["to_account_code"]]]["credits_t"] += op.body["quantity_t"]
        elif op.kind == "retire":
            expected[me]["credits_t"] -= op.body["quantity_t"]
            expected[me]["retired_t"] += op.body["quantity_t"]
    fees = 0
    with registry.uow() as uow:
        owner_of = dict(uow.session.execute(select(Order.id, Order.participant_id).where(
            Order.instrument_id == market.instrument_id)).all())
        trades = uow.session.execute(select(Trade.buy_order_id, Trade.sell_order_id, Trade.price_fen,
                                            Trade.quantity_t, Trade.fee_fen).where(
            Trade.instrument_id == market.instrument_id)).all()
    for buy_order_id, sell_order_id, price_fen, quantity_t, fee_fen in trades:
        buyer, seller = owner_of[buy_order_id], owner_of[sell_order_id]
        expected[buyer]["credits_t"] += quantity_t
        expected[seller]["credits_t"] -= quantity_t
        expected[buyer]["cash_fen"] -= price_fen * quantity_t + fee_fen
        expected[seller]["cash_fen"] += price_fen * quantity_t
        fees += fee_fen
    now = balances_by_participant(registry, participants)
    assert now == expected, {p: (now[p], expected[p]) for p in participants if now[p] != expected[p]}
    assert sum(v["credits_t"] + v["retired_t"] for v in now.values()) == sum(
        v["credits_t"] + v["retired_t"] for v in start.values())
    assert sum(v["cash_fen"] for v in now.values()) + fees == sum(v["cash_fen"] for v in start.values())
    print(f"trades {len(trades)}, fees {fees} fen; per trader credits/retired/cash as the operations make them")
