"""What accounts hold, and moving it: every movement of credits goes through `move_credits` (serial blocks and
balances together: registry.services.serial_blocks plans and writes it, registry.services.balances posts its
journal entry); an account's live serial blocks and its balances as the API shows them.

The pieces: registry.services.ledger_accounts (which accounts there are), registry.services.balances
(journal entries, balances and their lock order), registry.services.serial_blocks (serial blocks, and
planning and writing a movement of credits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from registry import serials
from registry.orm import Balance, SerialBlock
from registry.services.serial_blocks import Moved, apply_credits, plan_credits
from registry.unit_of_work import UnitOfWork


def move_credits(uow: UnitOfWork, kind: str, *, source: tuple[int, str], target: tuple[int, str],
                 quantity: int | None = None, batch_ids: Sequence[int] | None = None,
                 ranges: Sequence[serials.Block] | None = None, reference: str = "", memo: str = "",
                 sellable_on: date | None = None, lock_until: date | None = None) -> Moved:
    """Move credits with their serial blocks at once: `plan_credits` then `apply_credits`."""
    plan = plan_credits(uow, source=source, target=target, quantity=quantity, batch_ids=batch_ids, ranges=ranges,
                        sellable_on=sellable_on, lock_until=lock_until)
    return apply_credits(uow, kind, plan, reference=reference, memo=memo)


def holdings(uow: UnitOfWork, account_ids: Sequence[int]) -> list[SerialBlock]:
    """The live serial blocks in these accounts, in serial order."""
    return list(uow.session.scalars(
        select(SerialBlock).where(SerialBlock.account_id.in_(account_ids), SerialBlock.live)
        .order_by(SerialBlock.serial_start)))


def balances_of(uow: UnitOfWork, account_ids: Sequence[int]) -> list[Balance]:
    return list(uow.session.scalars(
        select(Balance).where(Balance.account_id.in_(account_ids), Balance.amount != 0)
        .order_by(Balance.account_id, Balance.asset, Balance.bucket).execution_options(populate_existing=True)))
