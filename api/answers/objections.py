"""Objections as the API answers them: what anyone sees of one they lodged, and the bureau's full view."""

from __future__ import annotations

from pydantic import BaseModel

from registry.orm import Objection


class ObjectionOut(BaseModel):
    """An objection as its objector and the public see it: never who lodged it."""

    id: int
    subject_type: str
    subject_id: int
    status: str
    text: str
    lodged_at: str
    ruling: str | None


class ObjectionDetailOut(BaseModel):
    """An objection as the bureau sees it, with the objector's name and contact."""

    id: int
    subject_type: str
    subject_id: int
    status: str
    objector_name: str
    objector_contact: str
    text: str
    lodged_at: str
    ruling: str | None
    ruled_at: str | None


def objection_out(o: Objection) -> ObjectionOut:
    return ObjectionOut(id=o.id, subject_type=o.subject_type, subject_id=o.subject_id, status=o.status,
                        text=o.text, lodged_at=o.lodged_at.isoformat(), ruling=o.ruling)


def detail_out(o: Objection) -> ObjectionDetailOut:
    return ObjectionDetailOut(id=o.id, subject_type=o.subject_type, subject_id=o.subject_id, status=o.status,
                              objector_name=o.objector_name, objector_contact=o.objector_contact, text=o.text,
                              lodged_at=o.lodged_at.isoformat(), ruling=o.ruling,
                              ruled_at=o.ruled_at.isoformat() if o.ruled_at else None)
