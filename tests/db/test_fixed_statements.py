"""The writer's fixed statements (registry.statements.FixedStatement): the same answers as the ORM's queries
on both backends, whatever a list's length, and a write that must change every row it names refuses the
whole transaction when one is missing, also when it went out in the pending rows' pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, update

from registry.context import Registry
from registry.errors import StateConflict
from registry.orm import Account, Balance
from registry.services import balances
from registry.statements import FixedStatement, one_of

CODES = [f"TEST-{i:02d}" for i in range(12)]

_ACCOUNTS_BY_CODE = FixedStatement(lambda dialect: select(Account.code, Account.kind).where(
    one_of(Account.code, "codes", dialect)).order_by(Account.code))
_RELABEL = FixedStatement(lambda _: update(Account.__table__).where(
    Account.__table__.c.code == bindparam("c")).values(label=bindparam("l")))


def _accounts(registry: Registry) -> None:
    with registry.uow() as uow:
        for code in CODES:
            uow.session.add(Account(code=code, participant_id=None, kind="holding", label="", created_at=uow.now()))
        uow.commit()


@pytest.mark.parametrize("asked", [[], ["TEST-03"], CODES[:5], [*CODES, "NOT-THERE"]])
def test_a_list_parameter_reads_what_an_in_list_reads(registry: Registry, asked: list[str]) -> None:
    _accounts(registry)
    with registry.uow() as uow:
        fixed = uow.sql.fetch(_ACCOUNTS_BY_CODE, {"codes": sorted(asked)})
        orm = [tuple(row) for row in uow.session.execute(
            select(Account.code, Account.kind).where(Account.code.in_(asked)).order_by(Account.code))]
    assert fixed == orm == [(code, "holding") for code in sorted(set(asked) & set(CODES))]


def test_a_write_names_its_rows_and_counts_them(registry: Registry) -> None:
    _accounts(registry)
    with registry.uow() as uow:
        changed = uow.sql.execute_many(_RELABEL, [{"c": "TEST-01", "l": "一"}, {"c": "TEST-02", "l": "二"},
                                              {"c": "NOT-THERE", "l": "?"}])
        assert changed == 2
        with pytest.raises(StateConflict):
            uow.sql.execute_many(_RELABEL, [{"c": "NOT-THERE", "l": "?"}], short=StateConflict("gone", "不存在"))
        uow.commit()
    with registry.uow() as uow:
        labels = {code: label for code, label in uow.session.execute(
            select(Account.code, Account.label).where(Account.code.in_(CODES[:3])))}
    assert labels == {"TEST-00": "", "TEST-01": "一", "TEST-02": "二"}


def test_a_missing_balance_refuses_the_commit_from_inside_the_pipeline(registry: Registry) -> None:
    """A change to a balance row the transaction never read goes out with the pending rows (in one pipeline on
    PostgreSQL); the row being absent is found when the pipeline syncs, and nothing of the transaction stays."""
    _accounts(registry)
    with registry.uow() as uow:
        account_id = uow.session.scalar(select(Account.id).where(Account.code == "TEST-00"))
        uow.sql.append("balances", {"account_id": account_id, "asset": "CASH", "bucket": "available", "amount": 5,
                                "may_go_negative": False})
        uow.cache.unread_changes[(account_id, "CASH", "held")] = (-5, False)  # spends a hold whose row does not exist
        balances._queue_balance_writes(uow)
        with pytest.raises(StateConflict, match="missing"):
            uow.commit()
    with registry.uow() as uow:
        assert uow.session.scalars(select(Balance).where(Balance.account_id == account_id)).all() == []
