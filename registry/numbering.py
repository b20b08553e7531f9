"""Registry-wide counters for reference numbers and serials, taken under a row lock so two concurrent
requests never get the same number."""

from __future__ import annotations

from registry.orm import Counter
from registry.unit_of_work import UnitOfWork


def take(uow: UnitOfWork, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive numbers of counter `name`; the first one (numbers start at 1)."""
    counter = uow.session.get(Counter, name, with_for_update=True)
    if counter is None:
        # Two first uses racing both insert: the loser's unique violation is answered 409 and may retry.
        counter = Counter(name=name, value=0)
        uow.session.add(counter)
        uow.session.flush()
    first = counter.value + 1
    counter.value += count
    return first
