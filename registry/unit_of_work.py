"""One use case, one transaction: leaving the block without commit() rolls everything back.

A unit of work holds the use case's session, clock and actor, and appends its audit entries to the chain at
commit. What the transaction keeps outside the ORM is in `uow.cache` (registry.caches) and the SQL that goes
around the ORM in `uow.sql` (registry.statements), whose pending rows it writes ahead of the commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from registry.audit import GENESIS_HASH, entry_hash, jsonable
from registry.caches import TransactionCache
from registry.clock import Clock, business_date
from registry.errors import StateConflict
from registry.orm import AuditEntry
from registry.principals import Principal
from registry.statements import Statements

# Any constant key works; it only has to be the same for every writer of the audit chain.
AUDIT_CHAIN_LOCK = 0x4A58_4155_4449_54


# Deadlock, lock not available, statement timeout, serialization failure (and SQLite's busy file): the database is
# there and rolled the transaction back, so nothing was saved and a retry will most likely pass.
ROLLED_BACK_SQLSTATES = frozenset({"40P01", "55P03", "57014", "40001"})


def _rolled_back(exc: OperationalError) -> bool:
    """Whether an operational error at commit is a rollback the database made (not a lost connection)."""
    return getattr(exc.orig, "sqlstate", None) in ROLLED_BACK_SQLSTATES or "database is locked" in str(exc.orig)


class UnitOfWork:
    """Holds the session of one use case, its cache and statements around the ORM, and the audit entries it
    will append at commit."""

    def __init__(self, session_factory: Callable[[], Session], clock: Clock, actor: Principal | None,
                 cache: TransactionCache | None = None) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self.actor = actor
        # What this transaction keeps outside the ORM (registry.caches): a fresh one unless a long-lived
        # caller, an instrument's writer, gives one made from what it keeps between its transactions.
        self.cache = cache if cache is not None else TransactionCache()
        self._pending_audit: list[tuple[str, str, str, dict[str, Any]]] = []
        self.committed = False
        # Set once the COMMIT is sent: a failure from then on (but a refusal the database answered, which
        # `commit` turns into StateConflict) leaves it unknown whether the transaction took effect.
        self.committing = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.sql = Statements(self.session, self.cache.keys)
        self._now = self.clock.now()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self.session.rollback()
        self.session.close()

    def now(self) -> datetime:
        """The instant of this use case: every row it writes carries the same time."""
        return self._now

    def today(self) -> date:
        return business_date(self.clock)

    def audit(self, action: str, subject_type: str, subject_id: object, payload: dict[str, Any]) -> None:
        """Queue an audit entry; it is chained and written in this transaction at commit."""
        self._pending_audit.append((action, subject_type, str(subject_id), jsonable(payload)))

    def commit(self) -> None:
        try:
            self.session.flush()
            self.sql.write_pending()  # when nothing of the ORM's was left to flush
            self._write_audit()
            self.committing = True
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise StateConflict(
                "A concurrent change or a database constraint refused this write; nothing was saved.",
                "并发修改或数据库约束拒绝了本次写入，未保存任何内容。",
            ) from exc
        except OperationalError as exc:
            self.session.rollback()
            if not _rolled_back(exc):
                # The connection was lost (the server went away) during the commit: the COMMIT may or may not
                # have reached it, so this is no refusal; the API answers 503 and a retry with the same key
                # learns the outcome.
                raise
            raise StateConflict(
                "The database could not complete this write in time (lock timeout); please retry.",
                "数据库未能及时完成写入（锁等待超时），请重试。",
            ) from exc
        self.committed = True

    def _write_audit(self) -> None:
        if not self._pending_audit:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            # Serialise chain appends; held only for the end of this transaction.
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_CHAIN_LOCK})
        last = self.session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
        actor_id = self.actor.user_id if self.actor else None
        for action, subject_type, subject_id, payload in self._pending_audit:
            seq += 1
            fields: dict[str, Any] = {"seq": seq, "occurred_at": self._now, "actor_user_id": actor_id,
                                      "action": action, "subject_type": subject_type, "subject_id": subject_id,
                                      "payload": payload, "prev_hash": prev}
            digest = entry_hash(**fields)
            self.session.add(AuditEntry(**fields, entry_hash=digest))
            prev = digest
        self._pending_audit.clear()
        self.session.flush()
