"""Serial blocks: which serials of a batch an account holds, in which bucket, free to sell from which day.
`plan_credits` works out a movement of credits (a quantity, lowest serials first and never from a batch
frozen for revocation, or exact ranges) and refuses it if the source is short; `apply_credits` writes it as
one journal entry (registry.services.balances) with the blocks it ends and makes, merged where a holding
allows.

The live blocks a transaction has read or made are kept in its cache (`uow.cache`, registry.caches), plain
records rather than ORM objects; what changed is written with its pending rows (`uow.sql`,
registry.statements) ahead of its next query or flush and at commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, false, func, literal_column, select, true, update

from registry import ledger, serials
from registry.errors import RuleViolation, StateConflict
from registry.orm import Balance, Base, Batch, SerialBlock
from registry.services.balances import Entry, held_assets, lock_balances, post
from registry.statements import Fixed, FixedStatement, one_of
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

# The first day a block may be sold, no resale lock counting as the earliest day: the expression the index
# ix_serial_blocks_holding keys on, written as a literal so the database matches it to the index.
USABLE_FROM = func.coalesce(SerialBlock.sellable_from, literal_column("'0001-01-01'"))


@dataclass(frozen=True, slots=True)
class Moved:
    entry: Entry
    blocks: list[serials.Block]

    @property
    def quantity(self) -> int:
        return serials.total(self.blocks)


@dataclass(slots=True, eq=False)
class LiveBlock:
    """A live serial block as this transaction holds it: read and locked (load_blocks), or made by one of its
    movements. Blocks are kept as plain records rather than ORM objects (a batch of trades makes and ends
    hundreds): `_write_blocks` writes what changed, ahead of every flush and at commit."""

    id: int
    batch_id: int
    serial_start: int
    serial_end: int
    account_id: int
    bucket: str
    sellable_from: date | None
    created_entry_id: int
    written: bool  # False for a block this transaction made and has not written yet
    ended_entry_id: int | None = None


_BLOCK_COLUMNS = (SerialBlock.id, SerialBlock.batch_id, SerialBlock.serial_start, SerialBlock.serial_end,
                  SerialBlock.account_id, SerialBlock.bucket, SerialBlock.sellable_from, SerialBlock.created_entry_id)


def _write_blocks(uow: UnitOfWork) -> None:
    """End the blocks read that movements ended, then insert the blocks made (those ended again before being
    written go in ended): in this order, since a piece overlaps the block it came from (the exclusion
    constraint on live blocks)."""
    changed, uow.cache.blocks_to_write = uow.cache.blocks_to_write, []
    if not changed:
        return
    ended = [{"block_id": b.id, "entry_id": b.ended_entry_id} for b in changed if b.written]
    made = [b for b in changed if not b.written]
    if ended:
        uow.sql.execute_many(_END_BLOCK, ended, short=StateConflict("A serial block to end was no longer live.",
                                                                "要结束的序列号区块已不再有效。"))
    if made:
        uow.sql.insert_rows("serial_blocks", [
            {"id": b.id, "batch_id": b.batch_id, "serial_start": b.serial_start, "serial_end": b.serial_end,
             "account_id": b.account_id, "bucket": b.bucket, "live": b.ended_entry_id is None,
             "created_entry_id": b.created_entry_id, "ended_entry_id": b.ended_entry_id,
             "sellable_from": b.sellable_from} for b in made])
        for b in made:
            b.written = True


def _queue_block_writes(uow: UnitOfWork) -> None:
    """Have the serial blocks this transaction made and ended written with its pending rows."""
    cache = uow.cache
    uow.sql.before_write("serial_blocks", lambda: bool(cache.blocks_to_write), lambda: _write_blocks(uow))


_SERIAL_BLOCKS = Base.metadata.tables["serial_blocks"]
_END_BLOCK = FixedStatement(lambda _: update(_SERIAL_BLOCKS).where(
    _SERIAL_BLOCKS.c.id == bindparam("block_id"), _SERIAL_BLOCKS.c.live.is_(true()))
    .values(live=false(), ended_entry_id=bindparam("entry_id")))


def make_block(uow: UnitOfWork, *, batch_id: int, start: int, end: int, holder: tuple[int, str], entry_id: int,
               sellable_from: date | None) -> LiveBlock:
    """A new live block, written with the transaction's next flush."""
    block = LiveBlock(uow.sql.next_id("serial_blocks"), batch_id, start, end, holder[0], holder[1], sellable_from,
                      entry_id, written=False)
    uow.cache.live_blocks.setdefault((block.account_id, block.bucket, block.batch_id), []).append(block)
    uow.cache.blocks_to_write.append(block)
    _queue_block_writes(uow)
    return block


def _end_block(uow: UnitOfWork, block: LiveBlock, entry_id: int) -> None:
    uow.cache.live_blocks[(block.account_id, block.bucket, block.batch_id)].remove(block)
    uow.cache.blocks_ended.add(block.id)
    block.ended_entry_id = entry_id
    if block.written:  # else it is still waiting to be written, and goes out ended
        uow.cache.blocks_to_write.append(block)
        _queue_block_writes(uow)


@dataclass(frozen=True, slots=True)
class CreditMove:
    """A movement of credits worked out and checked but not yet written (see plan_credits)."""

    source: tuple[int, str]
    target: tuple[int, str]
    rows: list[LiveBlock]  # the source's usable live blocks it looked at
    touched: list[serials.Block]  # the blocks it ends
    moving: list[serials.Block]  # the pieces that go to the target
    leftovers: list[serials.Block]  # the pieces of the ended blocks that stay
    lock_until: date | None

    @property
    def quantity(self) -> int:
        return serials.total(self.moving)


def load_blocks(uow: UnitOfWork, account_ids: set[int], buckets: set[str], batch_ids: Sequence[int],
                sellable_on: date | None = None) -> None:
    """Read and lock the live blocks of these accounts, buckets and batches in one query, unless this
    transaction has them already: all of them, or with `sellable_on` only those free of the resale lock on
    that day (credits bought today pile up in small blocks a seller cannot use yet). From then on
    `uow.cache.live_blocks` holds them, kept current by `_record_blocks`, so a movement sees the earlier ones of
    its transaction without a flush."""
    def covered(key: tuple[int, str, int]) -> bool:
        if key not in uow.cache.blocks_loaded:
            return False
        loaded_on = uow.cache.blocks_loaded[key]
        return loaded_on is None or (sellable_on is not None and sellable_on <= loaded_on)

    keys = {k for a in account_ids for b in buckets for batch in batch_ids if not covered(k := (a, b, batch))}
    if not keys:
        return
    params: dict[str, Any] = {"a": sorted({k[0] for k in keys}), "b": sorted({k[1] for k in keys}),
                              "batch": sorted({k[2] for k in keys})}
    if sellable_on is not None:
        params["day"] = sellable_on
    # Not one already known (read, made, or taken back), nor one this transaction ended and has not written yet.
    known = {b.id for key in keys for b in uow.cache.live_blocks.get(key, ())}
    for block_id, batch_id, start, end, account_id, bucket, sellable_from, created_entry_id in uow.sql.fetch(
            _USABLE_BLOCKS if sellable_on is not None else _LIVE_BLOCKS, params):
        key = (account_id, bucket, batch_id)
        if key in keys and block_id not in known and block_id not in uow.cache.blocks_ended:
            uow.cache.live_blocks.setdefault(key, []).append(LiveBlock(
                block_id, batch_id, start, end, account_id, bucket, sellable_from, created_entry_id, written=True))
    uow.cache.blocks_loaded.update(dict.fromkeys(keys, sellable_on))


def _blocks_query(dialect: str, usable: bool) -> Fixed:
    """The live blocks of some accounts, buckets and batches, locked; `usable`: only those free of the resale
    lock on the day given."""
    query = select(*_BLOCK_COLUMNS).where(
        one_of(SerialBlock.account_id, "a", dialect), one_of(SerialBlock.bucket, "b", dialect),
        one_of(SerialBlock.batch_id, "batch", dialect), SerialBlock.live)
    if usable:
        query = query.where(bindparam("day", type_=Date) >= USABLE_FROM)
    return query.order_by(SerialBlock.serial_start).with_for_update(of=SerialBlock)


_LIVE_BLOCKS = FixedStatement(lambda dialect: _blocks_query(dialect, usable=False))
_USABLE_BLOCKS = FixedStatement(lambda dialect: _blocks_query(dialect, usable=True))


def known_blocks_holding(uow: UnitOfWork, holder: tuple[int, str],
                         ranges: Sequence[serials.Block]) -> list[LiveBlock] | None:
    """The live blocks this transaction knows that hold each of these ranges whole, in serial order, or None
    when it does not know one for every range (then they must be read)."""
    found: dict[int, LiveBlock] = {}
    for r in ranges:
        block = next((b for b in uow.cache.live_blocks.get((holder[0], holder[1], r.batch_id), ())
                      if b.serial_start <= r.start and r.end <= b.serial_end), None)
        if block is None:
            return None
        found[block.id] = block
    return sorted(found.values(), key=lambda b: b.serial_start)


def know_blocks(uow: UnitOfWork, blocks: Sequence[LiveBlock]) -> None:
    """Take back live blocks an earlier transaction of the same long-lived caller kept (an instrument's
    writer: the blocks an open sell order holds, which no one else changes), so that moving exact ranges out
    of them needs no read (see known_blocks_holding)."""
    known_ids: dict[tuple[int, str, int], set[int]] = {}
    for block in blocks:
        key = (block.account_id, block.bucket, block.batch_id)
        known = uow.cache.live_blocks.setdefault(key, [])
        ids = known_ids.get(key)
        if ids is None:
            ids = known_ids[key] = {b.id for b in known}
        if block.id not in uow.cache.blocks_ended and block.id not in ids:
            known.append(block)
            ids.add(block.id)


def _live_blocks(uow: UnitOfWork, account_id: int, bucket: str, batch_ids: Sequence[int],
                 sellable_on: date | None = None) -> list[LiveBlock]:
    """The live blocks of an account and bucket in these batches, in serial order; with `sellable_on` only
    those free of the resale lock that day (see load_blocks)."""
    load_blocks(uow, {account_id}, {bucket}, batch_ids, sellable_on)
    rows = (row for b in batch_ids for row in uow.cache.live_blocks.get((account_id, bucket, b), ()))
    return sorted((row for row in rows if sellable_on is None or row.sellable_from is None
                   or row.sellable_from <= sellable_on), key=lambda row: row.serial_start)


def _locked_t(uow: UnitOfWork, account_id: int, bucket: str, batch_ids: Sequence[int], day: date) -> int:
    """Tonnes in the account still under the resale lock on that day (for a refusal's message)."""
    size = SerialBlock.serial_end - SerialBlock.serial_start + 1
    return uow.session.scalar(select(func.coalesce(func.sum(size), 0)).where(
        SerialBlock.account_id == account_id, SerialBlock.bucket == bucket, SerialBlock.live,
        SerialBlock.batch_id.in_(batch_ids), SerialBlock.sellable_from > day)) or 0


def frozen_violation() -> Violation:
    """A batch frozen for revocation (Art. 26): its credits are shut out of holds, transfers and retirements."""
    return Violation("JX-26", "Art. 26", "batch_id",
                     "该批次正被主管部门收回（第二十六条），其减排量不得交易、转让或注销。",
                     "The batch is being taken back by the bureau (Art. 26): its credits may not be traded, "
                     "transferred or retired.")


def _without_frozen(uow: UnitOfWork, assets: set[str]) -> set[str]:
    """The credit assets whose batch is not frozen for revocation (cash and the like pass); refused with
    JX-26 when every batch asked for is frozen. A quantity is taken from what is left, so a sell or transfer
    that may use several batches picks other batches' credits."""
    batch_ids = {b for b in (ledger.batch_of(a) for a in assets) if b is not None}
    if not batch_ids:
        return assets
    frozen = set(uow.session.scalars(select(Batch.id).where(Batch.id.in_(sorted(batch_ids)),
                                                            Batch.frozen_at.is_not(None))))
    if not frozen:
        return assets
    left = {a for a in assets if ledger.batch_of(a) not in frozen}
    if not left:
        raise RuleViolation([frozen_violation()])
    return left


def plan_credits(
    uow: UnitOfWork,
    *,
    source: tuple[int, str],
    target: tuple[int, str],
    quantity: int | None = None,
    batch_ids: Sequence[int] | None = None,
    ranges: Sequence[serials.Block] | None = None,
    sellable_on: date | None = None,
    lock_until: date | None = None,
) -> CreditMove:
    """Work out a movement of credits and refuse it if the source is short, writing nothing (the rows it
    reads stay locked): `quantity` tonnes taking the lowest serials first (optionally only from some
    batches), or exactly the given `ranges`. `sellable_on` leaves out credits still under the resale lock on
    that date; `lock_until` puts the moved credits under it (a trade's delivery); otherwise every piece keeps
    the lock of the block it came from. A quantity is never taken from a batch frozen for revocation (Art. 26,
    see `_without_frozen`); exact ranges (releases, deliveries of what is held, the take back itself) are."""
    if (quantity is None) == (ranges is None):
        raise ValueError("give either a quantity or exact ranges")
    account_id, bucket = source
    if ranges is not None:
        # Exact ranges name their batches: no need to ask which the account holds.
        assets = {ledger.credit_asset(b.batch_id) for b in ranges}
    elif batch_ids is not None:
        assets = {ledger.credit_asset(b) for b in batch_ids}
    else:  # which it holds, unlocked: the lock below decides
        assets = set(uow.session.scalars(select(Balance.asset).where(
            Balance.account_id == account_id, Balance.bucket == bucket, Balance.asset.like("CREDIT:%"),
            Balance.amount > 0)))
    if uow.cache.defer_balances:  # an instrument's writer: `post` locks what it takes from, credits are not read
        if ranges is None:
            assets = held_assets(uow, account_id, bucket, assets)
    elif assets:
        # Both sides, debit and credit, in one statement and the one order, before anything else is locked:
        # taking the source's rows in one statement and the target's in another, opposite transfers took the
        # same rows in opposite orders and deadlocked.
        locked = lock_balances(uow, {(account_id, a, bucket) for a in assets}
                               | {(target[0], a, target[1]) for a in assets})
        if ranges is None:
            assets = {a for a in assets if locked[(account_id, a, bucket)].amount > 0}
    if quantity is not None and assets:
        assets = _without_frozen(uow, assets)
    if not assets:
        raise StateConflict(f"No {bucket} credits to move in this account.", f"该账户没有可用（{bucket}）的减排量。")
    held_batches = sorted(b for b in (ledger.batch_of(a) for a in assets) if b is not None)
    if not uow.cache.defer_balances and target[1] == ledger.AVAILABLE:
        # The blocks the moved credits may merge with (see _place), locked after the balances like the source's.
        load_blocks(uow, {target[0]}, {ledger.AVAILABLE}, held_batches)
    rows = (ranges is not None and known_blocks_holding(uow, source, ranges)) or _live_blocks(
        uow, account_id, bucket, held_batches, sellable_on)
    blocks = [serials.Block(r.serial_start, r.serial_end, r.batch_id) for r in rows]
    try:
        if ranges is not None:
            touched, leftovers = serials.take_ranges(blocks, ranges)
            moving = sorted(ranges)
        else:
            assert quantity is not None
            moving, leftovers = serials.take_lowest(blocks, quantity)
            touched = [b for b in blocks if any(m.batch_id == b.batch_id and b.start <= m.start <= b.end
                                                for m in moving)]
    except ValueError as exc:
        available = serials.total(blocks)
        asked = quantity or serials.total(ranges or [])
        locked_t = _locked_t(uow, account_id, bucket, held_batches, sellable_on) if sellable_on else 0
        lock_en = f" ({locked_t} t bought recently are under the resale lock)" if locked_t else ""
        lock_zh = f"（另有 {locked_t} 吨新买入的减排量处于转售限制期）" if locked_t else ""
        raise StateConflict(f"Not enough {bucket} credits: {available} t usable, {asked} t asked{lock_en}.",
                            f"可用减排量不足：可用 {available} 吨，申请 {asked} 吨{lock_zh}。") from exc
    return CreditMove(source, target, rows, touched, moving, leftovers, lock_until)


def apply_credits(uow: UnitOfWork, kind: str, plan: CreditMove, *, reference: str = "", memo: str = "") -> Moved:
    """Write a planned movement: one journal entry, its balances and serial blocks together."""
    source, target = plan.source, plan.target
    per_batch: dict[int, int] = defaultdict(int)
    for block in plan.moving:
        per_batch[block.batch_id] += block.quantity
    legs = [leg for batch_id, qty in sorted(per_batch.items())
            for leg in ledger.move(ledger.credit_asset(batch_id), qty, source, target)]
    entry = post(uow, kind, legs, reference=reference, memo=memo)
    by_range = {(r.serial_start, r.serial_end): r for r in plan.rows}
    for block in plan.touched:
        _end_block(uow, by_range[(block.start, block.end)], entry.id)

    def lock_of(piece: serials.Block) -> date | None:
        return next(r.sellable_from for r in plan.rows
                    if r.batch_id == piece.batch_id and r.serial_start <= piece.start <= r.serial_end)

    _place(uow, target, [(piece, plan.lock_until or lock_of(piece)) for piece in plan.moving], entry.id)
    _place(uow, source, [(piece, lock_of(piece)) for piece in plan.leftovers], entry.id)
    return Moved(entry, plan.moving)


def _place(uow: UnitOfWork, holder: tuple[int, str], pieces: Sequence[tuple[serials.Block, date | None]],
           entry_id: int) -> None:
    """Make the blocks of pieces that land in a holding, each with its resale date, merged with the blocks
    there they follow on from (same batch, bucket and date) where the holding may be merged (_mergeable):
    the pieces are ended and the merged block is made with the movement's entry (serials.merge_into), so a
    holding does not fall apart into ever smaller blocks as credits go back and forth."""
    account_id, bucket = holder
    groups: dict[tuple[int, date | None], list[serials.Block]] = defaultdict(list)
    for piece, day in pieces:
        groups[(piece.batch_id, day)].append(piece)
    for (batch_id, day), arriving in groups.items():
        key = (account_id, bucket, batch_id)
        held = {(b.serial_start, b.serial_end): b for b in uow.cache.live_blocks.get(key, ())
                if b.sellable_from == day} if _mergeable(uow, key, day) else {}
        ended, made = serials.merge_into([serials.Block(s, e, batch_id) for s, e in held], arriving)
        for block in ended:
            _end_block(uow, held[(block.start, block.end)], entry_id)
        for block in made:
            make_block(uow, batch_id=batch_id, start=block.start, end=block.end, holder=holder, entry_id=entry_id,
                       sellable_from=day)


def _mergeable(uow: UnitOfWork, key: tuple[int, str, int], day: date | None) -> bool:
    """Whether this transaction may merge the blocks of a holding with this resale date: only available
    credits (a held block belongs to one open sell order or one retirement request, which name its exact
    ranges, and an instrument's writer keeps an open sell's blocks from one batch to the next: merging held
    blocks would end blocks it still holds, and join blocks of orders of different books); only where it
    holds the holding's balance locked (no one else can be changing its blocks, and blocks are locked after
    balances, in every movement); and only where it has read every live block with that date (load_blocks)."""
    account_id, bucket, batch_id = key
    if bucket != ledger.AVAILABLE or (account_id, ledger.credit_asset(batch_id), bucket) not in uow.cache.locked:
        return False
    if key not in uow.cache.blocks_loaded:
        return False
    loaded_on = uow.cache.blocks_loaded[key]
    return loaded_on is None or day is None or day <= loaded_on  # a date read: all blocks free on that day

