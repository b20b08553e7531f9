"""The registry's side of the health check."""

from __future__ import annotations

from registry.repositories import health as health_repo
from registry.unit_of_work import UnitOfWork


def database_reachable(uow: UnitOfWork) -> None:
    """Raise unless the database answers."""
    health_repo.ping(uow.session)
