"""Engines and transactions for the two supported databases.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout.
Python's ``sqlite3`` (3.11) does not emit BEGIN where SQLAlchemy expects, so we use
SQLAlchemy's documented recipe: ``isolation_level = None`` on connect (the driver stops
managing transactions) and our own BEGIN on SQLAlchemy's ``begin`` event. A write
transaction begins ``BEGIN IMMEDIATE``: it takes SQLite's single write lock up front, so two
writers queue on the busy timeout instead of one failing with "database is locked" when it
upgrades a read lock. PostgreSQL goes through psycopg 3 with ``pool_pre_ping`` and the
session time zone set to UTC.

The engine is synchronous; async code calls into it with ``run_sync``: on PostgreSQL a
thread of asyncio's default pool (many connections work at once), on SQLite the engine's
own single database thread. SQLite has one writer anyway; one thread serves the process's
database work in the order it was asked, instead of several threads taking turns at the
write lock and at the GIL (measured: p99 webhook-to-create latency about halved under load).
Do not set ``isolation_level`` on SQLite engines or connections: the pysqlite dialect would
re-enable the driver's own transaction handling and undo the recipe.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext, suppress
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import Connection, make_url

from orderbridge.adapters import jsontext
from orderbridge.errors import ConfigurationError

# The handle the rest of the code holds for "the database" (callers never see SQLAlchemy).
Database = Engine

__all__ = [
    "DEFAULT_SQLITE_BUSY_TIMEOUT_MS",
    "WRITE_OPTION",
    "Database",
    "Tx",
    "in_transaction",
    "is_sqlite",
    "make_engine",
    "run_sync",
    "transaction",
]

T = TypeVar("T")

# How long a SQLite writer waits for the write lock before "database is locked".
DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connection attempts give up after this many seconds.
DEFAULT_PG_CONNECT_TIMEOUT_SECONDS = 10
# A SQLite file OrderBridge creates is readable and writable by its owner only.
SQLITE_FILE_MODE = 0o600
# Execution option that makes the SQLite BEGIN an IMMEDIATE one.
WRITE_OPTION = "orderbridge_write"
# One writer at a time per SQLite engine, queued in-process (see ``transaction``).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
# The one thread that runs a SQLite engine's work for async callers (see ``run_sync``).
_SQLITE_THREADS: weakref.WeakKeyDictionary[Engine, ThreadPoolExecutor] = weakref.WeakKeyDictionary()


def is_sqlite(bind: Engine | Connection) -> bool:
    """True when ``bind`` talks to SQLite."""
    return bind.dialect.name == "sqlite"


def make_engine(
    url: str,
    *,
    echo: bool = False,
    foreign_keys: bool = True,
    busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
    **engine_kwargs: Any,
) -> Engine:
    """Create the SQLAlchemy engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``).

    ``foreign_keys=False`` is for migrations only (SQLite table rebuilds).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # The JSON columns (link snapshots, memory, timeline data) through orjson: the same
    # values as the standard library's, at a fraction of the CPU (``adapters.jsontext``).
    engine_kwargs.setdefault("json_serializer", jsontext.dumps)
    engine_kwargs.setdefault("json_deserializer", jsontext.loads)
    if backend == "sqlite":
        if parsed.get_driver_name() not in ("pysqlite", ""):
            raise ConfigurationError(f"ORDERBRIDGE_DATABASE_URL: unsupported SQLite driver in {url!r}")
        _create_private(parsed.database, uri=bool(parsed.query.get("uri")))
        engine = create_engine(parsed, echo=echo, **engine_kwargs)
        _install_sqlite_hooks(engine, foreign_keys=foreign_keys, busy_timeout_ms=busy_timeout_ms)
        _SQLITE_WRITERS[engine] = threading.RLock()
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="orderbridge-sqlite")
        _SQLITE_THREADS[engine] = thread
        weakref.finalize(engine, thread.shutdown, wait=False)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigurationError(
                "ORDERBRIDGE_DATABASE_URL: use the psycopg 3 driver: "
                "postgresql+psycopg://user@host:5432/dbname"
            )
        connect_args = dict(engine_kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", DEFAULT_PG_CONNECT_TIMEOUT_SECONDS)
        connect_args.setdefault("options", "-c timezone=UTC")
        return create_engine(
            parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args, **engine_kwargs
        )
    raise ConfigurationError(
        f"ORDERBRIDGE_DATABASE_URL: unsupported database {backend!r}; "
        "use sqlite:///file.db or postgresql+psycopg://…"
    )


def _create_private(database: str | None, *, uri: bool) -> None:
    """Create a new SQLite file 0600 (owner only): it holds buyers' addresses. SQLite gives
    its ``-wal`` and ``-shm`` files the database file's mode. An existing file is left as is."""
    if not database or database == ":memory:" or uri or database.startswith("file:"):
        return
    with suppress(FileExistsError, FileNotFoundError):  # exists / no such directory
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, SQLITE_FILE_MODE))


def _install_sqlite_hooks(engine: Engine, *, foreign_keys: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not emit BEGIN/COMMIT on its own (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            # WAL: readers never block the writer and vice versa. (No-op for :memory:.)
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver (it manages no transactions here, see above): the same
        # BEGIN as ``exec_driver_sql`` without a SQLAlchemy execution context, a statement's
        # worth of CPU saved on every transaction.
        begin = "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN"
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            driver.execute(begin).close()
        except sqlite3.Error as error:  # as SQLAlchemy would raise it ("database is locked")
            raise exc.DBAPIError.instance(begin, None, error, sqlite3.Error) from error


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on error.

    ``write=True`` (the default) begins ``BEGIN IMMEDIATE`` on SQLite (one writer at a time,
    waiting up to the busy timeout) and a normal READ COMMITTED transaction on PostgreSQL.
    Use ``write=False`` for read-only work. Never hold one open across an HTTP call.

    SQLite writers of one process also queue on an in-process lock first: SQLite's busy
    handler waits by sleeping in growing steps (up to 100 ms each), so threads contending
    for the write lock would wait far longer than the few milliseconds a write takes. The
    busy timeout still covers writers in other processes.
    """
    writers = _SQLITE_WRITERS.get(engine) if write else None
    with writers if writers is not None else nullcontext(), engine.connect() as conn:
        if write:
            conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


async def run_sync(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """Run the blocking ``work(*args)`` (which uses ``engine``) off the event loop.

    Like ``asyncio.to_thread`` (the caller's context variables go along), but SQLite work
    runs on the engine's single database thread, in the order it was asked for.
    """
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, work, *args)
    return await loop.run_in_executor(_SQLITE_THREADS.get(engine), call)


async def in_transaction(engine: Engine, work: Callable[[Connection], T], *, write: bool = True) -> T:
    """``work(conn)`` inside one transaction (a write transaction unless ``write=False``,
    for work that only reads), through ``run_sync``."""

    def run() -> T:
        with transaction(engine, write=write) as conn:
            return work(conn)

    return await run_sync(engine, run)


# For code outside this package that hands work to ``in_transaction`` / ``run_sync``
# without importing SQLAlchemy itself: the connection of an open transaction that
# repository functions take (``Database``, the database, is defined at the top).
Tx = Connection
