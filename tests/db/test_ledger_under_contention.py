"""What the database itself guarantees when callers race or bypass the code (Trust II, the fault tests 3 and 4):
one filing gives one batch however many issue it at once; no serial number sits in two live blocks; a retired
tonne never moves, even by plain SQL as the tables' owner."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from registry.context import Registry
from registry.errors import DomainError
from registry.orm import Batch, SerialBlock
from registry.services import issuance, retirements
from tests.conftest import Backend
from tests.support import issue_to, registered_filing, seed_ledger

ISSUERS = 20


def test_twenty_concurrent_issuances_of_one_filing_make_exactly_one_batch(backend: Backend,
                                                                          registry: Registry) -> None:
    bureau, _ = seed_ledger(registry)
    filing_id = registered_filing(registry, bureau, 500)
    start = threading.Barrier(ISSUERS)
    outcomes: list[str] = []

    def issue() -> None:
        start.wait()
        try:
            with registry.uow(bureau) as uow:
                issuance.issue(uow, bureau, filing_id, "issue")
                uow.commit()
            outcomes.append("issued")
        except DomainError as refusal:
            outcomes.append(type(refusal).__name__)
        except DBAPIError as error:  # a constraint caught it: acceptable, but never a second batch
            outcomes.append(f"database: {type(error.orig).__name__}")

    threads = [threading.Thread(target=issue) for _ in range(ISSUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == ISSUERS
    assert outcomes.count("issued") == 1, outcomes
    with registry.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Batch).where(Batch.filing_id == filing_id)) == 1
        assert uow.session.scalar(select(func.sum(Batch.quantity_t))) == 500


def test_an_overlapping_live_serial_block_is_refused_even_by_plain_sql(backend: Backend,
                                                                       registry: Registry) -> None:
    if backend.name != "postgres":
        pytest.skip("the exclusion constraint over serial ranges is PostgreSQL's (SQLite has no such constraint)")
    bureau, _ = seed_ledger(registry)
    batch = issue_to(registry, bureau, 100)
    with registry.uow() as uow:
        block = uow.session.scalars(select(SerialBlock).where(SerialBlock.live)).one()
        columns = {c.name: getattr(block, c.key) for c in SerialBlock.__table__.columns if c.name != "id"}
    overlapping = columns | {"serial_start": batch.serial_start + 50, "serial_end": batch.serial_end + 50}
    names = ", ".join(overlapping)
    with pytest.raises(DBAPIError, match="ex_serial_blocks_no_overlap"), backend.privileged_engine.begin() as conn:
        conn.execute(text(f"INSERT INTO serial_blocks ({names}) VALUES ({', '.join(':' + n for n in overlapping)})"),
                     overlapping)


def test_a_retired_block_cannot_be_moved_by_plain_sql(backend: Backend, registry: Registry) -> None:
    bureau, holders = seed_ledger(registry)
    issue_to(registry, bureau, 100)
    owner = holders[0]
    with registry.uow(owner) as uow:
        retirements.request(uow, owner, account_id=None, quantity_t=40, batch_id=None, purpose="voluntary",
                            beneficiary="b", details={}, auto_execute=True)
        uow.commit()
    with registry.uow() as uow:
        retired_id = uow.session.scalars(select(SerialBlock.id).where(SerialBlock.bucket == "retired")).one()
    for statement in ("UPDATE serial_blocks SET bucket = 'available' WHERE id = :id",
                      "UPDATE serial_blocks SET account_id = account_id + 1 WHERE id = :id",
                      "UPDATE serial_blocks SET live = false WHERE id = :id",
                      "DELETE FROM serial_blocks WHERE id = :id"):
        with pytest.raises(DBAPIError), backend.privileged_engine.begin() as conn:
            conn.execute(text(statement), {"id": retired_id})
    with registry.uow() as uow:
        again = uow.session.get(SerialBlock, retired_id)
        assert again is not None and again.live and again.bucket == "retired"
