"""Retirement (注销, Art. 21): the request and the serial ranges it retires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in

RETIREMENT_PURPOSES = ("event_neutrality", "pilot_unit", "ecological_restoration", "voluntary")
RETIREMENT_STATUSES = ("requested", "executed", "cancelled")


class Retirement(Base):
    """A request to retire (注销) credits for a purpose, executed by the operations center."""

    __tablename__ = "retirements"
    __table_args__ = (
        CheckConstraint(_in("purpose", RETIREMENT_PURPOSES), name="purpose"),
        CheckConstraint(_in("status", RETIREMENT_STATUSES), name="status"),
        CheckConstraint("quantity_t > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    quantity_t: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(30))
    beneficiary: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    executed_at: Mapped[datetime | None]
    executed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RetirementBlock(Base):
    """The serial ranges a retirement holds, then retires: the certificate lists them."""

    __tablename__ = "retirement_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    retirement_id: Mapped[int] = mapped_column(ForeignKey("retirements.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
