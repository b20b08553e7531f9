"""Queries of participants, their users and the users' roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Participant, User, UserRole
from registry.pagination import Page, paginate


def participant(session: Session, participant_id: int, *, for_update: bool = False) -> Participant | None:
    return session.get(Participant, participant_id, with_for_update=for_update)


def credit_code_taken(session: Session, credit_code: str) -> bool:
    """Whether a participant with this unified social credit code exists."""
    return session.scalar(select(Participant.id).where(Participant.credit_code == credit_code)) is not None


def participants_page(session: Session, offset: int, limit: int) -> Page[Participant]:
    """Participants in id order."""
    return paginate(session, select(Participant).order_by(Participant.id), offset, limit)


def admitted_traders_except(session: Session, participant_id: int) -> list[Participant]:
    """The active participants admitted to trading, other than this one, in id order."""
    return list(session.scalars(select(Participant).where(
        Participant.trading_status == "admitted", Participant.status == "active",
        Participant.id != participant_id).order_by(Participant.id)))


def verifier_organisations(session: Session) -> list[Participant]:
    """The active participants with at least one verifier user, in id order."""
    verifiers = (select(User.participant_id).join(UserRole, UserRole.user_id == User.id)
                 .where(UserRole.role == "verifier"))
    return list(session.scalars(select(Participant).where(Participant.status == "active",
                                                          Participant.id.in_(verifiers)).order_by(Participant.id)))


def user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_id_of(session: Session, username: str) -> int | None:
    """The id of the user with this username, or None."""
    return session.scalar(select(User.id).where(User.username == username))


def roles_of_user(session: Session, user_id: int) -> set[str]:
    return set(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def roles_of_organisation(session: Session, participant_id: int) -> set[str]:
    """Every role any user of the participant holds."""
    return set(session.scalars(select(UserRole.role).join(User, User.id == UserRole.user_id)
                               .where(User.participant_id == participant_id)))


def user_with_roles(session: Session, user_id: int) -> list[Any]:
    """The user's participant, username and active flag with each of its roles (one row per role; one row with
    role None for a user without roles; none for an unknown user), in one query."""
    return list(session.execute(
        select(User.participant_id, User.username, User.active, UserRole.role)
        .outerjoin(UserRole, UserRole.user_id == User.id).where(User.id == user_id)).all())
