"""The registry as the API sees it: where its data lives, what time it is, where documents go."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from registry.clock import Clock
from registry.documents import DocumentStore
from registry.principals import Principal
from registry.unit_of_work import UnitOfWork


@dataclass
class Registry:
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    documents: DocumentStore

    def uow(self, actor: Principal | None = None) -> UnitOfWork:
        """A fresh unit of work acting for `actor` (None for the public)."""
        return UnitOfWork(self.session_factory, self.clock, actor)
