"""Registry movements under contention (Trust II): sixteen clients transferring 1 t at a time between the same
accounts, both ways between two holders and both ways around a ring. Opposite transfers take the same balance
rows; each movement locks every balance it touches, debit and credit side, in one statement and one order, so
they queue instead of deadlocking. No transfer may be refused but for an insufficient balance; the ledger
checks clean afterwards and the movements per second are printed (a figure, not an assertion)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry import ledger
from registry.context import Registry
from registry.errors import DomainError
from registry.orm import Account, Participant, User, UserRole
from registry.principals import Principal
from registry.services import balances, holdings, ledger_accounts, ledger_check, transfers
from tests.conftest import Backend
from tests.support import issue_to, seed_ledger

CLIENTS = 16


def _more_holders(registry: Registry, count: int) -> list[Principal]:
    """Further active holders beside the seeded ones (rows written directly, as seed_ledger does)."""
    with registry.uow() as uow:
        now = uow.now()
        people = [Participant(name=f"ring {i}", kind="enterprise", status="active", created_at=now)
                  for i in range(count)]
        uow.session.add_all(people)
        uow.session.flush()
        users = [User(participant_id=p.id, username=f"ring{p.id}", display_name="r", password_hash="x", active=True,
                      created_at=now) for p in people]
        uow.session.add_all(users)
        uow.session.flush()
        uow.session.add_all(UserRole(user_id=u.id, role="owner") for u in users)
        uow.commit()
        return [Principal(u.id, u.participant_id, u.username, frozenset({"owner"})) for u in users]


def _main_code(registry: Registry, holder: Principal) -> str:
    with registry.uow() as uow:
        account: Account = ledger_accounts.main_account(uow, holder.participant_id)
        uow.commit()
        return account.code


def _transfer(registry: Registry, holder: Principal, to_code: str, quantity_t: int, batch_id: int | None) -> None:
    with registry.uow(holder) as uow:
        transfers.transfer(uow, holder, from_account_id=None, to_account_code=to_code, quantity_t=quantity_t,
                           batch_id=batch_id, memo="contention")
        uow.commit()


def _race(clients: list[Callable[[], None]], rounds: int) -> tuple[Counter[str], float]:
    """Run each client `rounds` times, all starting at once; each outcome classified: ok, short (refused for an
    insufficient balance), or the refusal's own words (anything else is a failure of this test)."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(clients))

    def run(client: Callable[[], None]) -> None:
        start.wait()
        for _ in range(rounds):
            try:
                client()
                outcome = "ok"
            except DomainError as refusal:
                outcome = "short" if refusal.message_en.startswith("Not enough") else f"refused: {refusal}"
            except DBAPIError as error:
                outcome = f"database: {type(error.orig).__name__}: {str(error.orig).splitlines()[0]}"
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return outcomes, time.perf_counter() - began


def _report(what: str, backend: Backend, outcomes: Counter[str], seconds: float) -> None:
    moved = outcomes["ok"]
    print(f"\n{what} on {backend.name}: {CLIENTS} clients, {moved} movements in {seconds:.2f} s = "
          f"{moved / seconds:.0f} movements/s; outcomes {dict(outcomes)}")


def _assert_clean(registry: Registry, outcomes: Counter[str], asked: int) -> None:
    assert sum(outcomes.values()) == asked
    assert set(outcomes) <= {"ok", "short"}, outcomes
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems


def test_sixteen_clients_transferring_both_ways_between_two_holders_never_deadlock(
        backend: Backend, registry: Registry) -> None:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 400)
    a, b = holders[0], holders[1]
    code_a, code_b = _main_code(registry, a), _main_code(registry, b)
    _transfer(registry, a, code_b, 200, None)
    rounds = 12 if backend.name == "postgres" else 4
    # Half of each side names the batch, half does not: the two ways a transfer finds what it takes.
    clients = [(lambda i=i: _transfer(registry, a, code_b, 1, batch.id if i % 2 else None)) for i in range(8)]
    clients += [(lambda i=i: _transfer(registry, b, code_a, 1, batch.id if i % 2 else None)) for i in range(8)]
    outcomes, seconds = _race(clients, rounds)
    _report("two holders, both ways", backend, outcomes, seconds)
    _assert_clean(registry, outcomes, CLIENTS * rounds)
    assert outcomes["short"] == 0  # each holds 200 t and at most 96 t leave either
    with registry.uow() as uow:
        total = {a: b for a, b in ((r.account_id, r.amount) for r in holdings.balances_of(
            uow, [ledger_accounts.main_account(uow, h.participant_id).id for h in (a, b)])
            if r.asset == ledger.credit_asset(batch.id) and r.bucket == ledger.AVAILABLE)}
    assert sum(total.values()) == 400


def test_sixteen_clients_transferring_both_ways_around_a_ring_never_deadlock(
        backend: Backend, registry: Registry) -> None:
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 300)
    ring = [holders[0], holders[1], holders[2], *_more_holders(registry, 3)]
    codes = [_main_code(registry, holder) for holder in ring]
    for code in codes[1:]:
        _transfer(registry, ring[0], code, 50, None)
    rounds = 10 if backend.name == "postgres" else 3

    def client(i: int) -> Callable[[], None]:
        here = i % len(ring)
        there = (here + (1 if i < CLIENTS // 2 else -1)) % len(ring)  # half clockwise, half the other way
        return lambda: _transfer(registry, ring[here], codes[there], 1, batch.id if i % 3 == 0 else None)

    outcomes, seconds = _race([client(i) for i in range(CLIENTS)], rounds)
    _report("a ring of six, both ways", backend, outcomes, seconds)
    _assert_clean(registry, outcomes, CLIENTS * rounds)
    assert outcomes["short"] == 0  # each holds 50 t and at most 30 t leave any


def _wait_until_a_lock_is_awaited(backend: Backend, timeout_s: float = 30) -> None:
    """Until some session of this test's database waits for a lock (a condition, not a pause)."""
    deadline = time.monotonic() + timeout_s
    with backend.privileged_engine.connect() as conn:
        while True:
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock'")).scalar_one()
            if waiting:
                return
            assert time.monotonic() < deadline, "the transfer never waited for the writer's lock"
            time.sleep(0.01)


def test_a_transfer_waiting_for_a_writer_holds_nothing_the_writer_credits(backend: Backend,
                                                                          registry: Registry) -> None:
    """An instrument's writer locks what its batch spends when the batch starts and adds what it credits at
    commit (TransactionCache.defer_balances). A registry transfer from A to S, A's row first in the lock order, once
    locked A and then waited for S, which the writer held: the writer's credit to A at commit then waited for
    the transfer, a deadlock that PostgreSQL broke after a second by failing one of them. Now the transfer
    waits holding none of its rows, and both go through."""
    if backend.name != "postgres":
        pytest.skip("row locks and deadlocks are PostgreSQL's (SQLite serialises every writer)")
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    a, s = holders[0], holders[1]
    code_s = _main_code(registry, s)
    _transfer(registry, a, code_s, 50, None)
    asset = ledger.credit_asset(batch.id)
    with registry.uow() as uow:
        account_a, account_s = (ledger_accounts.main_account(uow, h.participant_id).id for h in (a, s))
    assert account_a < account_s  # the transfer locks A's row before S's
    outcomes: dict[str, str] = {}

    def transfer() -> None:
        try:
            _transfer(registry, a, code_s, 1, None)
            outcomes["transfer"] = "ok"
        except (DomainError, DBAPIError) as error:
            outcomes["transfer"] = repr(error)

    with registry.uow() as writer:
        writer.cache.defer_balances = True
        balances.lock_accounts(writer, {account_s}, {asset}, [ledger.AVAILABLE])  # the batch's seller
        racing = threading.Thread(target=transfer)
        racing.start()
        _wait_until_a_lock_is_awaited(backend)
        try:  # a trade that credits A: unread until the commit
            holdings.move_credits(writer, "trade_delivery", source=(account_s, ledger.AVAILABLE),
                                  target=(account_a, ledger.AVAILABLE), quantity=2)
            writer.commit()
            outcomes["writer"] = "ok"
        except (DomainError, DBAPIError) as error:
            outcomes["writer"] = repr(error)
    racing.join(timeout=60)
    assert outcomes == {"writer": "ok", "transfer": "ok"}
    with registry.uow() as uow:
        report = ledger_check.check(uow)
        moved = {r.account_id: r.amount for r in holdings.balances_of(uow, [account_a, account_s])
                 if r.asset == asset and r.bucket == ledger.AVAILABLE}
    assert report.ok, report.problems
    assert moved == {account_a: 50 - 1 + 2, account_s: 50 + 1 - 2}
