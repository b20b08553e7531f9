"""An acknowledged trade must survive a PostgreSQL crash: the service refuses a server that acknowledges
commits before they are on disk (Trust II)."""

from __future__ import annotations

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from api.app import build_registry
from api.settings import Settings
from registry.database_roles import UnsafeDatabase

pytestmark = pytest.mark.postgres


def _set_database(owner_url: str, setting: str) -> None:
    url = make_url(owner_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{url.database}" {setting}')


def test_the_service_refuses_a_server_without_synchronous_commit(postgres_owner_url: str,
                                                                   postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, jwt_secret=SecretStr("x" * 40))
    build_registry(settings).engine.dispose()  # on: serves
    _set_database(postgres_owner_url, "SET synchronous_commit = off")  # new sessions take it
    try:
        with pytest.raises(UnsafeDatabase, match="synchronous_commit is off"):
            build_registry(settings)
        build_registry(settings.model_copy(update={"allow_asynchronous_commit": True})).engine.dispose()
    finally:
        _set_database(postgres_owner_url, "RESET synchronous_commit")
    build_registry(settings).engine.dispose()
