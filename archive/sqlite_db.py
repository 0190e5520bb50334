"""SQLite driver (stdlib ``sqlite3``): one connection on one thread of its own.

Driver module. The file is opened in WAL mode so that every worker process can read
while the ingest holder writes; a write transaction is ``BEGIN IMMEDIATE`` (one writer
at a time across processes, waiting up to :data:`~archive.db.LOCK_TIMEOUT_S`).
Statements run on a single-thread executor, so the connection never changes threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from yure.archive.db import LOCK_TIMEOUT_S, STATEMENT_TIMEOUT_S, Transaction
from yure.archive.errors import StorageError
from yure.archive.sql import Row, Statement

T = TypeVar("T")
R = TypeVar("R")


class SqliteDatabase:
    """The archive in one SQLite file."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="archive-sqlite"
        )
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (create) the file at ``path``.

        Raises:
            StorageError: it cannot be opened.
        """
        database = cls(path)
        await database._call(database._connect)
        return database

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        self._connection = connection

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StorageError(f"sqlite database {self.path} is closed")
        return self._connection

    async def _call(self, function: Callable[..., R], *args: Any) -> R:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S + LOCK_TIMEOUT_S):
                return await loop.run_in_executor(self._executor, function, *args)
        except sqlite3.Error as err:
            raise StorageError(f"sqlite {self.path}: {err}") from err
        except TimeoutError as err:
            raise StorageError(f"sqlite {self.path}: timed out") from err

    def _fetch(self, statement: Statement) -> list[Row]:
        return self._conn().execute(statement.sql, statement.params).fetchall()

    def _execute(self, statement: Statement) -> int:
        return self._conn().execute(statement.sql, statement.params).rowcount

    async def read(self, statement: Statement) -> list[Row]:
        """See :meth:`archive.db.Database.read`."""
        return await self._call(self._fetch, statement)

    async def write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """See :meth:`archive.db.Database.write`."""
        async with self._lock:
            await self._call(self._conn().execute, "BEGIN IMMEDIATE")
            try:
                result = await work(_Transaction(self))
            except BaseException:
                await asyncio.shield(self._call(self._conn().execute, "ROLLBACK"))
                raise
            await self._call(self._conn().execute, "COMMIT")
            return result

    async def close(self) -> None:
        """See :meth:`archive.db.Database.close`."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.get_running_loop().run_in_executor(self._executor, connection.close)
        self._executor.shutdown(wait=False)


class _Transaction:
    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database

    async def execute(self, statement: Statement) -> int:
        return await self._database._call(self._database._execute, statement)

    async def fetch(self, statement: Statement) -> list[Row]:
        return await self._database._call(self._database._fetch, statement)
