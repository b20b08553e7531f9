"""Serial blocks merge as credits go back and forth (Trust II): contiguous blocks that land in the same
available holding with the same resale date become one block again (the pieces ended, the merged block made
with the movement's entry), so a holding's live blocks are always its maximal contiguous runs and a movement
never drags the history of the holding along. Held blocks are not merged (each belongs to one open sell
order or one retirement request, which name its exact ranges)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from registry import ledger, serials
from registry.context import Registry
from registry.errors import StateConflict
from registry.orm import SerialBlock
from registry.services import holdings, ledger_accounts, ledger_check, transfers
from tests.conftest import TEST_NOW, Backend
from tests.db.test_ledger_properties import HOLDERS, LedgerMachine
from tests.support import issue_to, seed_ledger


def _adjacent(blocks: list[SerialBlock]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of live available blocks that follow on in one account, batch and resale date (there must be
    none: then every holding is exactly its maximal runs)."""
    groups: dict[tuple[int, int, date | None], list[SerialBlock]] = defaultdict(list)
    for block in blocks:
        if block.live and block.bucket == ledger.AVAILABLE:
            groups[(block.account_id, block.batch_id, block.sellable_from)].append(block)
    return [((a.serial_start, a.serial_end), (b.serial_start, b.serial_end)) for group in groups.values()
            for a, b in pairwise(sorted(group, key=lambda block: block.serial_start))
            if b.serial_start == a.serial_end + 1]


def _live_blocks(registry: Registry) -> list[SerialBlock]:
    with registry.uow() as uow:
        blocks = list(uow.session.scalars(select(SerialBlock).where(SerialBlock.live)))
        uow.session.expunge_all()  # as read: leaving the unit of work would expire them
        return blocks


# --- the pure part -----------------------------------------------------------------------------------------

@st.composite
def _holding(draw: st.DrawFn) -> tuple[list[serials.Block], list[serials.Block]]:
    """Disjoint blocks over a few batches' ranges, some held and some arriving; some serials in neither."""
    held: list[serials.Block] = []
    arriving: list[serials.Block] = []
    start = 1
    for batch_id in range(1, draw(st.integers(1, 3)) + 1):
        cuts = sorted(set(draw(st.lists(st.integers(start + 1, start + 40), max_size=12))))
        edges = [start, *cuts, start + 41]
        for low, high in pairwise(edges):
            where = draw(st.sampled_from(["held", "arriving", "elsewhere"]))
            if where != "elsewhere":
                (held if where == "held" else arriving).append(serials.Block(low, high - 1, batch_id))
        start += 41  # the next batch starts right after: its first serial follows on from this one's last
    return held, arriving


@given(_holding())
def test_merging_leaves_exactly_the_maximal_runs(holding: tuple[list[serials.Block], list[serials.Block]]) -> None:
    held, arriving = holding
    ended, made = serials.merge_into(held, arriving)
    assert set(ended) <= set(held)
    after = sorted([b for b in held if b not in ended] + made)
    # The same serials, each once.
    assert [s for b in after for s in range(b.start, b.end + 1)] == sorted(
        s for b in held + arriving for s in range(b.start, b.end + 1))
    # No two blocks follow on within a batch: they are the maximal runs.
    assert all(not (a.batch_id == b.batch_id and b.start == a.end + 1) for a, b in pairwise(after))
    # Nothing is ended or made for nothing: a held block alone stays, an arriving one alone is made as it is.
    assert all(any(m.batch_id == e.batch_id and m.start <= e.start and e.end <= m.end and m != e for m in made)
               for e in ended)
    assert not set(made) & set(held)


def test_merging_refuses_overlapping_blocks() -> None:
    try:
        serials.merge_into([serials.Block(1, 10, 1)], [serials.Block(10, 12, 1)])
    except ValueError:
        return
    raise AssertionError("an overlap was merged")


def test_blocks_of_different_batches_never_merge() -> None:
    assert serials.merge_into([serials.Block(1, 10, 1)], [serials.Block(11, 20, 2)]) == (
        [], [serials.Block(11, 20, 2)])
    assert serials.merge_into([serials.Block(1, 10, 1)], [serials.Block(11, 20, 1)]) == (
        [serials.Block(1, 10, 1)], [serials.Block(1, 20, 1)])


# --- through the registry ----------------------------------------------------------------------------------

def test_a_thousand_small_transfers_leave_few_blocks(backend: Backend, registry: Registry) -> None:
    """The issue's measurement: after many one-tonne transfers back and forth a holding was 137 blocks and a
    200 t transfer carried 200 one-tonne blocks. Now each holding stays its maximal runs."""
    bureau, holders = seed_ledger(registry)
    issue_to(registry, bureau, 600)
    a, b = holders[0], holders[1]
    with registry.uow() as uow:
        codes = {h.user_id: ledger_accounts.main_account(uow, h.participant_id).code for h in (a, b, holders[2])}
        uow.commit()
    with registry.uow(a) as uow:
        transfers.transfer(uow, a, from_account_id=None, to_account_code=codes[b.user_id], quantity_t=100,
                           batch_id=None, memo="")
        uow.commit()
    rounds = 300 if backend.name == "postgres" else 150
    seeded = random.Random(15)
    for step in range(rounds):
        source, target = (a, b) if step % 2 == 0 else (b, a)
        with registry.uow(source) as uow:
            transfers.transfer(uow, source, from_account_id=None, to_account_code=codes[target.user_id],
                               quantity_t=1 if step < 100 else seeded.randint(1, 3), batch_id=None, memo="")
            uow.commit()
    live = _live_blocks(registry)
    assert _adjacent(live) == []
    with registry.uow(a) as uow:
        moved = transfers.transfer(uow, a, from_account_id=None, to_account_code=codes[holders[2].user_id],
                                   quantity_t=200, batch_id=None, memo="")
        uow.commit()
    per_holder = defaultdict(int)
    for block in live:
        per_holder[block.account_id] += 1
    print(f"\nafter {rounds} transfers back and forth on {backend.name}: live blocks per holding "
          f"{dict(per_holder)}; a 200 t transfer carried {len(moved.blocks)} blocks")
    with registry.uow() as uow:
        account_a = ledger_accounts.main_account(uow, a.participant_id).id
    assert len(moved.blocks) <= per_holder[account_a]
    assert _adjacent(_live_blocks(registry)) == []
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    assert report.ok, report.problems


def test_blocks_with_different_resale_dates_stay_apart(backend: Backend, registry: Registry) -> None:
    """Credits under a resale lock merge only with credits free on the same day: merging them with others
    would move the day the whole block may be sold."""
    bureau, holders = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    a, b = holders[0], holders[1]
    with registry.uow() as uow:
        account_a, account_b = (ledger_accounts.main_account(uow, h.participant_id).id for h in (a, b))
        uow.commit()
    tomorrow = TEST_NOW.date() + timedelta(days=1)
    for quantity, lock in ((10, tomorrow), (10, tomorrow), (10, None), (10, None)):
        with registry.uow(a) as uow:
            holdings.move_credits(uow, "transfer", source=(account_a, ledger.AVAILABLE),
                                  target=(account_b, ledger.AVAILABLE), quantity=quantity, lock_until=lock)
            uow.commit()
    held = sorted((blk.serial_start, blk.serial_end, blk.sellable_from) for blk in _live_blocks(registry)
                  if blk.account_id == account_b)
    first = batch.serial_start
    assert held == [(first, first + 19, tomorrow), (first + 20, first + 39, None)]
    assert [(blk.serial_start, blk.serial_end) for blk in _live_blocks(registry) if blk.account_id == account_a] == [
        (first + 40, batch.serial_end)]


class MergingMachine(LedgerMachine):
    """The ledger machine (issue, transfer, retire, revoke) with small movements back and forth, some under
    a resale lock, and one more invariant: every available holding is exactly its maximal runs."""

    @rule(source=st.integers(0, HOLDERS - 1), recipient=st.integers(0, HOLDERS - 1), quantity=st.integers(1, 4),
          lock_days=st.sampled_from([None, None, 1, 2]))
    def move_a_little(self, source: int, recipient: int, quantity: int, lock_days: int | None) -> None:
        if source == recipient:
            return
        try:
            with self.registry.uow(self.holders[source]) as uow:
                from_account = ledger_accounts.main_account(uow, self.holders[source].participant_id).id
                to_account = ledger_accounts.main_account(uow, self.holders[recipient].participant_id).id
                holdings.move_credits(uow, "transfer", source=(from_account, ledger.AVAILABLE),
                                      target=(to_account, ledger.AVAILABLE), quantity=quantity,
                                      lock_until=TEST_NOW.date() + timedelta(days=lock_days) if lock_days else None)
                uow.commit()
        except StateConflict:
            pass

    @invariant()
    def holdings_are_maximal_runs(self) -> None:
        assert _adjacent(_live_blocks(self.registry)) == []


def test_holdings_stay_their_maximal_runs_under_random_movements(backend: Backend) -> None:
    MergingMachine.backend = backend
    run_state_machine_as_test(MergingMachine, settings=settings(
        max_examples=12 if backend.name == "postgres" else 20, stateful_step_count=30, deadline=None,
        suppress_health_check=list(HealthCheck)))
