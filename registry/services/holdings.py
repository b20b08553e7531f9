"""Accounts, journal entries and serial blocks: every movement of credits goes through `post` and
`move_credits`, which lock the spending rows in a fixed order and keep blocks and balances in step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from registry import ledger, numbering, serials
from registry.errors import NotFound, StateConflict
from registry.ledger import Leg
from registry.orm import Account, Balance, JournalEntry, Posting, SerialBlock
from registry.unit_of_work import UnitOfWork

ISSUANCE_ACCOUNT = "JX-ISSUANCE"
BANK_ACCOUNT = "JX-BANK"
FEE_ACCOUNT = "JX-FEE"
# Source accounts stand for the outside world (credits not yet issued, money at the settlement bank):
# movements out of them are what brings value in, so they alone may go negative.
SOURCE_KINDS = ("issuance", "cash")


def _system_account(uow: UnitOfWork, code: str, kind: str, label: str) -> Account:
    account = uow.session.scalar(select(Account).where(Account.code == code))
    if account is None:
        account = Account(code=code, participant_id=None, kind=kind, label=label, created_at=uow.now())
        uow.session.add(account)
        uow.session.flush()
    return account


def issuance_account(uow: UnitOfWork) -> Account:
    """The registry's source of credits: issuance is a movement out of it."""
    return _system_account(uow, ISSUANCE_ACCOUNT, "issuance", "签发来源 / issuance source")


def bank_account(uow: UnitOfWork) -> Account:
    """The settlement bank: deposits come out of it, withdrawals go back."""
    return _system_account(uow, BANK_ACCOUNT, "cash", "结算银行 / settlement bank")


def fee_account(uow: UnitOfWork) -> Account:
    """The exchange's fee income."""
    return _system_account(uow, FEE_ACCOUNT, "fee", "交易手续费 / exchange fees")


def main_account(uow: UnitOfWork, participant_id: int) -> Account:
    """A participant's main holding account, opened on first use."""
    code = f"P{participant_id:06d}-MAIN"
    account = uow.session.scalar(select(Account).where(Account.code == code))
    if account is None:
        account = Account(code=code, participant_id=participant_id, kind="holding", label="主账户 / main",
                          created_at=uow.now())
        uow.session.add(account)
        uow.session.flush()
    return account


def open_sub_account(uow: UnitOfWork, participant_id: int, label: str) -> Account:
    number = numbering.take(uow, f"sub_account:{participant_id}")
    account = Account(code=f"P{participant_id:06d}-S{number:03d}", participant_id=participant_id,
                      kind="holding", label=label, created_at=uow.now())
    uow.session.add(account)
    uow.session.flush()
    uow.audit("account.opened", "account", account.id, {"code": account.code, "label": label})
    return account


def accounts_of(uow: UnitOfWork, participant_id: int) -> list[Account]:
    return list(uow.session.scalars(
        select(Account).where(Account.participant_id == participant_id).order_by(Account.id)))


def own_account(uow: UnitOfWork, participant_id: int, account_id: int) -> Account:
    account = uow.session.get(Account, account_id)
    if account is None or account.participant_id != participant_id:
        raise NotFound(f"Account {account_id} not found.", f"未找到账户 {account_id}。")
    return account


def _ensure_balance_rows(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> None:
    if not keys:
        return
    negative = set(uow.session.scalars(select(Account.id).where(Account.kind.in_(SOURCE_KINDS))))
    rows = [{"account_id": a, "asset": s, "bucket": b, "amount": 0, "may_go_negative": a in negative}
            for a, s, b in sorted(keys)]
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    uow.session.execute(insert(Balance).values(rows).on_conflict_do_nothing())


def _lock(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> dict[tuple[int, str, str], Balance]:
    rows = uow.session.scalars(
        select(Balance)
        .where(tuple_(Balance.account_id, Balance.asset, Balance.bucket).in_(sorted(keys)))
        .order_by(Balance.account_id, Balance.asset, Balance.bucket)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(b.account_id, b.asset, b.bucket): b for b in rows}


def lock_balances(uow: UnitOfWork, keys: set[tuple[int, str, str]]) -> dict[tuple[int, str, str], Balance]:
    """Lock the rows in one fixed order (account, asset, bucket), so two movements over the same rows queue
    instead of deadlocking. Rows seen for the first time are created, then locked with the rest (only two
    transactions creating the same new row at once can still deadlock; PostgreSQL detects it and the loser
    is answered 409, to retry)."""
    locked = _lock(uow, keys)
    if len(locked) == len(keys):
        return locked
    _ensure_balance_rows(uow, keys - set(locked))
    return _lock(uow, keys)


def post(uow: UnitOfWork, kind: str, legs: Sequence[Leg], *, reference: str = "", memo: str = "",
         locked: dict[tuple[int, str, str], Balance] | None = None) -> JournalEntry:
    """One journal entry: its legs must balance per asset; no balance but the source may go negative."""
    off = ledger.unbalanced(legs)
    if off:
        raise ValueError(f"unbalanced journal entry {kind}: {off}")  # a programming error, never user input
    keys = {(leg.account_id, leg.asset, leg.bucket) for leg in legs}
    balances = locked if locked is not None and keys <= set(locked) else lock_balances(uow, keys)
    entry = JournalEntry(kind=kind, reference=reference[:80], memo=memo[:500],
                         actor_user_id=uow.actor.user_id if uow.actor else None, created_at=uow.now())
    uow.session.add(entry)
    uow.session.flush()
    for leg in legs:
        balance = balances[(leg.account_id, leg.asset, leg.bucket)]
        balance.amount += leg.amount
        if balance.amount < 0 and not balance.may_go_negative:
            raise StateConflict(
                f"Not enough {leg.bucket} {leg.asset} in account {leg.account_id}: short by {-balance.amount}.",
                f"账户 {leg.account_id} 的 {leg.asset}（{leg.bucket}）不足，差 {-balance.amount}。",
            )
        uow.session.add(Posting(entry_id=entry.id, account_id=leg.account_id, asset=leg.asset, bucket=leg.bucket,
                                amount=leg.amount))
    return entry


@dataclass(frozen=True, slots=True)
class Moved:
    entry: JournalEntry
    blocks: list[serials.Block]

    @property
    def quantity(self) -> int:
        return serials.total(self.blocks)


def _live_blocks(uow: UnitOfWork, account_id: int, bucket: str, batch_ids: Sequence[int] | None) -> list[SerialBlock]:
    query = select(SerialBlock).where(SerialBlock.account_id == account_id, SerialBlock.bucket == bucket,
                                      SerialBlock.live.is_(True))
    if batch_ids is not None:
        query = query.where(SerialBlock.batch_id.in_(batch_ids))
    return list(uow.session.scalars(query.order_by(SerialBlock.serial_start).with_for_update()))


def move_credits(
    uow: UnitOfWork,
    kind: str,
    *,
    source: tuple[int, str],
    target: tuple[int, str],
    quantity: int | None = None,
    batch_ids: Sequence[int] | None = None,
    ranges: Sequence[serials.Block] | None = None,
    reference: str = "",
    memo: str = "",
    sellable_on: date | None = None,
    lock_until: date | None = None,
) -> Moved:
    """Move credits with their serial blocks: `quantity` tonnes taking the lowest serials first (optionally
    only from some batches), or exactly the given `ranges`. One journal entry, balances and blocks together.
    `sellable_on` leaves out credits still under the resale lock on that date; `lock_until` puts the moved
    credits under it (a trade's delivery); otherwise every piece keeps the lock of the block it came from."""
    if (quantity is None) == (ranges is None):
        raise ValueError("give either a quantity or exact ranges")
    account_id, bucket = source
    assets_query = select(Balance.asset).where(Balance.account_id == account_id, Balance.bucket == bucket,
                                               Balance.asset.like("CREDIT:%"), Balance.amount > 0)
    assets = set(uow.session.scalars(assets_query))
    if ranges is not None:
        assets &= {ledger.credit_asset(b.batch_id) for b in ranges}
    elif batch_ids is not None:
        assets &= {ledger.credit_asset(b) for b in batch_ids}
    if not assets:
        raise StateConflict(f"No {bucket} credits to move in this account.", f"该账户没有可用（{bucket}）的减排量。")
    locked = lock_balances(uow, {(account_id, a, bucket) for a in assets} | {(target[0], a, target[1]) for a in assets})
    held_batches = sorted(b for b in (ledger.batch_of(a) for a in assets) if b is not None)
    all_rows = _live_blocks(uow, account_id, bucket, held_batches)
    rows = [r for r in all_rows if sellable_on is None or r.sellable_from is None or r.sellable_from <= sellable_on]
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
        locked_t = sum(r.serial_end - r.serial_start + 1 for r in all_rows) - available
        lock_en = f" ({locked_t} t bought recently are under the resale lock)" if locked_t else ""
        lock_zh = f"（另有 {locked_t} 吨新买入的减排量处于转售限制期）" if locked_t else ""
        raise StateConflict(f"Not enough {bucket} credits: {available} t usable, {asked} t asked{lock_en}.",
                            f"可用减排量不足：可用 {available} 吨，申请 {asked} 吨{lock_zh}。") from exc
    per_batch: dict[int, int] = defaultdict(int)
    for block in moving:
        per_batch[block.batch_id] += block.quantity
    legs = [leg for batch_id, qty in sorted(per_batch.items())
            for leg in ledger.move(ledger.credit_asset(batch_id), qty, source, target)]
    entry = post(uow, kind, legs, reference=reference, memo=memo, locked=locked)
    by_range = {(r.serial_start, r.serial_end): r for r in rows}
    for block in touched:
        row = by_range[(block.start, block.end)]
        row.live = False
        row.ended_entry_id = entry.id
    uow.session.flush()  # end the old blocks before their pieces appear (the exclusion constraint)
    def lock_of(piece: serials.Block) -> date | None:
        return next(r.sellable_from for r in rows
                    if r.batch_id == piece.batch_id and r.serial_start <= piece.start <= r.serial_end)

    for piece in moving:
        uow.session.add(SerialBlock(batch_id=piece.batch_id, serial_start=piece.start, serial_end=piece.end,
                                    account_id=target[0], bucket=target[1], live=True, created_entry_id=entry.id,
                                    sellable_from=lock_until or lock_of(piece)))
    for piece in leftovers:
        uow.session.add(SerialBlock(batch_id=piece.batch_id, serial_start=piece.start, serial_end=piece.end,
                                    account_id=account_id, bucket=bucket, live=True, created_entry_id=entry.id,
                                    sellable_from=lock_of(piece)))
    uow.session.flush()
    return Moved(entry, moving)


def holdings(uow: UnitOfWork, account_ids: Sequence[int]) -> list[SerialBlock]:
    """The live serial blocks in these accounts, in serial order."""
    return list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.account_id.in_(account_ids), SerialBlock.live.is_(True))
        .order_by(SerialBlock.serial_start)))


def balances_of(uow: UnitOfWork, account_ids: Sequence[int]) -> list[Balance]:
    return list(uow.session.scalars(
        select(Balance).where(Balance.account_id.in_(account_ids), Balance.amount != 0)
        .order_by(Balance.account_id, Balance.asset, Balance.bucket)))
