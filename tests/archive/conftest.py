"""Archive fixtures: every archive test runs against SQLite and a real PostgreSQL.

PostgreSQL is a server the session starts itself (:mod:`tests.postgres_server`), never
one that runs on the machine already; each test gets an empty schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.postgres_server import PostgresProcess, running_postgres
from yure.archive.store import Archive

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresProcess]:
    """One real PostgreSQL for the whole session."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None (SQLite under the test's data dir) or the URL of an emptied PostgreSQL."""
    if request.param == "sqlite":
        return None
    server: PostgresProcess = request.getfixturevalue("postgres_server")
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return server.url


@pytest.fixture
async def archive(database_url: str | None, tmp_path: Path) -> AsyncIterator[Archive]:
    """An opened, migrated, empty archive on each backend."""
    opened = await Archive.open(database_url, tmp_path / "data")
    try:
        yield opened
    finally:
        await opened.close()
