"""The review flow's queries: the steps taken on a reviewed subject."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import ReviewAction


def review_actions(session: Session, subject_type: str, subject_id: int) -> list[ReviewAction]:
    """The review steps taken on the subject, in order."""
    return list(session.scalars(
        select(ReviewAction).where(ReviewAction.subject_type == subject_type, ReviewAction.subject_id == subject_id)
        .order_by(ReviewAction.id)))
