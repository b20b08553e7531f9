"""The database's reachability, for the health check."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    """Run the smallest statement there is; raises if the database cannot be reached."""
    session.execute(text("SELECT 1"))
