"""Queries of retirements and the serial blocks each one holds or retired."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry import ledger
from registry.orm import Balance, Retirement, RetirementBlock
from registry.pagination import Page, paginate


def retirement(session: Session, retirement_id: int, *, for_update: bool = False) -> Retirement | None:
    return session.get(Retirement, retirement_id, with_for_update=for_update)


def blocks_of(session: Session, retirement_id: int) -> list[RetirementBlock]:
    """The retirement's serial blocks in serial order."""
    return list(session.scalars(select(RetirementBlock).where(RetirementBlock.retirement_id == retirement_id)
                                .order_by(RetirementBlock.serial_start)))


def batch_ids_of(session: Session, retirement_id: int) -> set[int]:
    """The batches the retirement's serial blocks belong to."""
    return set(session.scalars(select(RetirementBlock.batch_id).where(RetirementBlock.retirement_id == retirement_id)))


def available_t(session: Session, account_id: int, batch_id: int | None) -> int:
    """The credits available in the account (of one batch, or of all), as the balances have them."""
    query = select(func.coalesce(func.sum(Balance.amount), 0)).where(
        Balance.account_id == account_id, Balance.bucket == ledger.AVAILABLE)
    query = query.where(Balance.asset == ledger.credit_asset(batch_id)) if batch_id is not None \
        else query.where(Balance.asset.like("CREDIT:%"))
    return int(session.scalar(query) or 0)


def requested_of_batch(session: Session, batch_id: int) -> list[Retirement]:
    """The requests not yet executed that hold serials of the batch, locked, in the fixed lock order."""
    return list(session.scalars(
        select(Retirement).where(Retirement.status == "requested",
                                 Retirement.id.in_(select(RetirementBlock.retirement_id)
                                                   .where(RetirementBlock.batch_id == batch_id)))
        .order_by(Retirement.account_id, Retirement.id).with_for_update()))


def executed_of_serial(session: Session, serial: int) -> Retirement | None:
    """The executed retirement that retired this serial number, if any."""
    return session.scalar(select(Retirement)
                          .join(RetirementBlock, RetirementBlock.retirement_id == Retirement.id)
                          .where(RetirementBlock.serial_start <= serial, RetirementBlock.serial_end >= serial,
                                 Retirement.status == "executed"))


def retirements_page(session: Session, *, participant_id: int | None, executed_only: bool, status: str | None,
                     purpose: str | None, offset: int, limit: int) -> Page[Retirement]:
    """Retirements newest first: of one participant (`participant_id`), or executed ones only, or all."""
    query = select(Retirement)
    if participant_id is not None:
        query = query.where(Retirement.participant_id == participant_id)
    elif executed_only:
        query = query.where(Retirement.status == "executed")
    if status:
        query = query.where(Retirement.status == status)
    if purpose:
        query = query.where(Retirement.purpose == purpose)
    return paginate(session, query.order_by(Retirement.id.desc()), offset, limit)
