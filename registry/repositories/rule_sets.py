"""Rule sets' queries: the registered rule sets, as stored records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import RuleSetRecord


def rule_set_records(session: Session) -> list[RuleSetRecord]:
    """Every registered rule set, in the order they take effect."""
    return list(session.scalars(select(RuleSetRecord).order_by(RuleSetRecord.effective_from)))


def rule_set_registered(session: Session, code: str) -> bool:
    """Whether a rule set with this code is registered."""
    return session.scalar(select(RuleSetRecord.id).where(RuleSetRecord.code == code)) is not None
