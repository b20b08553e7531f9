"""A published factor version never changes (Art. 11: an old calculation recomputes to the same result): the
database refuses UPDATE and DELETE of factor rows, even for the tables' owner, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.context import Registry
from registry.demo_emission_factors import demo_drafts
from registry.services import emission_factors
from tests.conftest import Backend


@pytest.mark.parametrize("statement", ["UPDATE emission_factors SET value_kg = '0'", "DELETE FROM emission_factors"])
def test_factor_rows_are_never_changed(backend: Backend, registry: Registry, statement: str) -> None:
    with registry.uow() as uow:
        emission_factors.propose_release(uow, title="t", note="", drafts=demo_drafts()[:1], notice_days=None)
    with pytest.raises(DBAPIError, match="append-only"), backend.privileged_engine.begin() as conn:
        conn.execute(text(statement))
