"""Correction order answers (责令限期改正, Art. 26): what the public, the ordered owner and the bureau see of an
order."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import CorrectionOrder
from registry.principals import Principal
from rules import corrections as correction_rules


class CorrectionOrderOut(BaseModel):
    id: int
    code: str
    batch_id: int
    filing_id: int
    participant_id: int
    status: str
    status_zh: str
    ordered_on: str
    deadline_days: int
    deadline: str
    notice: str | None
    decided_at: str | None
    revocation_id: int | None
    # The bureau and the ordered owner only:
    finding: str | None = None
    response: str | None = None
    response_documents: list[str] | None = None
    responded_at: str | None = None
    decision_comment: str | None = None


def correction_out(order: CorrectionOrder, viewer: Principal | None) -> CorrectionOrderOut:
    party = viewer is not None and (viewer.has("bureau") or viewer.participant_id == order.participant_id)
    out = CorrectionOrderOut(
        id=order.id, code=order.code, batch_id=order.batch_id, filing_id=order.filing_id,
        participant_id=order.participant_id, status=order.status,
        status_zh=correction_rules.STATUS_NAMES[order.status][0], ordered_on=order.ordered_on.isoformat(),
        deadline_days=order.deadline_days, deadline=order.deadline.isoformat(), notice=order.notice,
        decided_at=order.decided_at.isoformat() if order.decided_at else None, revocation_id=order.revocation_id)
    if party:
        out.finding = order.finding
        out.response = order.response
        out.response_documents = list(order.response_documents)
        out.responded_at = order.responded_at.isoformat() if order.responded_at else None
        out.decision_comment = order.decision_comment
    return out
