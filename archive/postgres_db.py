"""PostgreSQL driver (psycopg 3, asyncio, with a small connection pool).

Driver module. Statements come from :mod:`archive.sql` with ``?`` placeholders,
turned into psycopg's ``%s`` here (no statement has a literal ``?`` or ``%``). A write
transaction first takes a transaction-scoped advisory lock, so writers (the ingest
holder, an import) take turns across processes as SQLite's ``BEGIN IMMEDIATE`` makes
them do.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import psycopg_pool

from yure.archive.db import LOCK_TIMEOUT_S, STATEMENT_TIMEOUT_S, Transaction
from yure.archive.errors import StorageError
from yure.archive.sql import Row, Statement

T = TypeVar("T")

#: Connections per process at most (history pages are short reads).
POOL_MAX_CONNECTIONS = 4
#: Deadline of opening the pool's first connection.
CONNECT_TIMEOUT_S = 10.0
#: The advisory lock id of archive writers ("yure" + "arch" in ASCII).
WRITE_LOCK_ID = 0x7975726561726368


@functools.lru_cache(maxsize=256)
def _psycopg_sql(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresDatabase:
    """The archive in PostgreSQL."""

    name = "postgresql"

    def __init__(self, pool: psycopg_pool.AsyncConnectionPool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect to ``url`` (``postgresql://…``).

        Raises:
            StorageError: no connection within :data:`CONNECT_TIMEOUT_S`.
        """
        pool = psycopg_pool.AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX_CONNECTIONS,
            open=False,
            timeout=LOCK_TIMEOUT_S,
            kwargs={"autocommit": True},
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as err:
            await pool.close()
            raise StorageError(f"postgresql: cannot connect: {err}") from err
        return cls(pool)

    async def read(self, statement: Statement) -> list[Row]:
        """See :meth:`archive.db.Database.read`."""
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S), self._pool.connection() as conn:
                cursor = await conn.execute(_psycopg_sql(statement.sql), statement.params)
                return list(await cursor.fetchall())
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as err:
            raise StorageError(f"postgresql: {err}") from err
        except TimeoutError as err:
            raise StorageError("postgresql: timed out") from err

    async def write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """See :meth:`archive.db.Database.write`."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                transaction = _Transaction(conn)
                await transaction.execute(
                    Statement("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_ID,))
                )
                return await work(transaction)
        except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as err:
            raise StorageError(f"postgresql: {err}") from err

    async def close(self) -> None:
        """See :meth:`archive.db.Database.close`."""
        await self._pool.close()


class _Transaction:
    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn

    async def execute(self, statement: Statement) -> int:
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S + LOCK_TIMEOUT_S):
                cursor = await self._conn.execute(_psycopg_sql(statement.sql), statement.params)
        except TimeoutError as err:
            raise StorageError("postgresql: timed out") from err
        return cursor.rowcount

    async def fetch(self, statement: Statement) -> list[Row]:
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S):
                cursor = await self._conn.execute(_psycopg_sql(statement.sql), statement.params)
                return list(await cursor.fetchall())
        except TimeoutError as err:
            raise StorageError("postgresql: timed out") from err
