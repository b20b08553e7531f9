"""Who acts: participants (organisations and individuals), their users and roles, and what guards
signing in (a username's failed logins and lockout, tokens revoked before their expiry)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in

ROLES = ("admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader", "resident")
PARTICIPANT_KINDS = ("enterprise", "institution", "agency", "association", "individual")
PARTICIPANT_STATUSES = ("active", "suspended", "disqualified")
TRADING_STATUSES = ("not_admitted", "admitted", "suspended")


class Participant(Base):
    """An organisation or individual known to the registry; users act on its behalf."""

    __tablename__ = "participants"
    __table_args__ = (
        CheckConstraint(_in("kind", PARTICIPANT_KINDS), name="kind"),
        CheckConstraint(_in("status", PARTICIPANT_STATUSES), name="status"),
        CheckConstraint(_in("trading_status", TRADING_STATUSES), name="trading_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Admission to the trading platform (Art. 19) by the operations center, apart from registry status.
    trading_status: Mapped[str] = mapped_column(String(20), default="not_admitted", server_default="not_admitted")
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class SignInFailure(Base):
    """A username's failed logins in a row and the lockout they earned. Kept in the database, not only in
    Redis, so that a restarted cache does not lift a lockout; keyed by the username typed (existing or not),
    so that a lockout tells nothing about which usernames exist."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class RevokedToken(Base):
    """An access token revoked before its expiry (logout). The book of record for revocations: Redis holds a
    copy for the hot path and may come back empty. A row is pruned once its token has expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime]
