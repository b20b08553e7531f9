"""The monthly partitions of `behaviour_records` (PostgreSQL): made ahead by the tables' owner, and the months
that hold rows, so an old month can be detached and archived whole (README, Residents' points). Jiaxing months:
a partition's bounds are midnight in Asia/Shanghai."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

SCHEMA = "points_partitions"


def _following(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def ensure_month_partitions(owner: Connection, first: date, months: int) -> list[str]:
    """Make the partitions of `months` months from `first`'s month on, those missing; their names. Run as the
    tables' owner (a partition is a table); rows of a month without its partition wait in the default one."""
    made = []
    month = first.replace(day=1)
    for _ in range(months):
        name = f"behaviour_records_{month:%Y_%m}"
        exists = owner.execute(text("SELECT to_regclass(:n)"), {"n": f"{SCHEMA}.{name}"}).scalar()
        if exists is None:
            owner.execute(text(
                f"CREATE TABLE {SCHEMA}.{name} PARTITION OF behaviour_records FOR VALUES FROM "
                f"('{month:%Y-%m-%d} 00:00:00+08') TO ('{_following(month):%Y-%m-%d} 00:00:00+08')"))
            made.append(name)
        month = _following(month)
    return made


def partitions(conn: Connection) -> list[str]:
    """The partitions attached to behaviour_records, by name."""
    return list(conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'behaviour_records'::regclass ORDER BY c.relname")).scalars())
