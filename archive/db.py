"""The two things the archive asks of a database, whichever it is.

:class:`Database` is implemented by :mod:`archive.sqlite_db` (the default: a file in
the data dir) and :mod:`archive.postgres_db` (``YURE_DATABASE_URL``); :func:`open_database`
picks one. Drivers run :class:`~archive.sql.Statement`\\ s and nothing else: every
statement is written in :mod:`archive.sql`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

from yure.archive.sql import Row, Statement

T = TypeVar("T")

#: Deadline of one statement (a page of history, one write transaction's step).
STATEMENT_TIMEOUT_S = 10.0
#: How long a writer waits for another writer (another process, the importer).
LOCK_TIMEOUT_S = 30.0
#: Name of the SQLite file under the data dir.
SQLITE_FILE_NAME = "archive.sqlite3"


class Transaction(Protocol):
    """Statements inside one write transaction."""

    async def execute(self, statement: Statement) -> int:
        """Run ``statement``; return the number of rows it changed."""

    async def fetch(self, statement: Statement) -> list[Row]:
        """Run ``statement``; return its rows."""


class Database(Protocol):
    """A connection (pool) to the archive's database."""

    #: "sqlite" or "postgresql" (for logs and metrics).
    name: str

    async def read(self, statement: Statement) -> list[Row]:
        """Rows of one read-only ``statement``.

        Raises:
            archive.errors.StorageError: the database failed or timed out.
        """

    async def write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction, one writer at a time across processes;
        commit when it returns, roll back when it raises.

        Raises:
            archive.errors.StorageError: the database failed or timed out.
        """

    async def close(self) -> None:
        """Release connections (idempotent)."""


async def open_database(database_url: str | None, data_dir: Path) -> Database:
    """The archive's database: PostgreSQL at ``database_url``, else SQLite under
    ``data_dir``.

    Raises:
        archive.errors.StorageError: the database cannot be reached or opened.
    """
    if database_url is None:
        from yure.archive.sqlite_db import SqliteDatabase

        return await SqliteDatabase.open(data_dir / SQLITE_FILE_NAME)
    from yure.archive.postgres_db import PostgresDatabase

    return await PostgresDatabase.open(database_url)
