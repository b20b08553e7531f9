"""Run the Alembic migrations programmatically (used by the CLI and by the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from registry.database import make_engine, normalise_url
from registry.database_roles import grant_service_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`."""
    command.upgrade(alembic_config(url), revision)


def migrate(owner_url: str, service_url: str) -> str | None:
    """Upgrade the schema as its owner, then grant the service's role its privileges (PostgreSQL, when the two
    URLs name different roles). Returns the role granted, if any."""
    upgrade(owner_url)
    owner, service = make_url(normalise_url(owner_url)), make_url(normalise_url(service_url))
    if owner.get_backend_name() != "postgresql" or service.username in (None, owner.username):
        return None
    engine = make_engine(owner_url)
    try:
        with engine.begin() as conn:
            grant_service_role(conn, service.username)
    finally:
        engine.dispose()
    return service.username
