"""The engine: SQLite pragmas and BEGIN IMMEDIATE, UTC datetimes through both dialects."""

from __future__ import annotations

import asyncio
import contextvars
import os
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, exc, select

from orderbridge.adapters.db import is_sqlite, leases, make_engine, run_sync, transaction
from orderbridge.adapters.db.tables import leases as leases_table

from .conftest import T0


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_sqlite_write_transaction_takes_the_lock_at_begin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    holder = make_engine(url)
    impatient = make_engine(url, busy_timeout_ms=50)
    try:
        with holder.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with transaction(holder) as conn:
            # Nothing written yet: BEGIN IMMEDIATE alone holds the write lock.
            with pytest.raises(exc.OperationalError, match="locked"), transaction(impatient):
                pass
            # Readers are not blocked (WAL), and a plain BEGIN does not lock.
            with transaction(impatient, write=False) as reader:
                assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with transaction(impatient) as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    finally:
        holder.dispose()
        impatient.dispose()


def test_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
            conn.exec_driver_sql("INSERT INTO counter VALUES (0)")

        def bump() -> None:
            for _ in range(25):
                with transaction(engine) as c:
                    # read-then-write: only safe because BEGIN IMMEDIATE serialises it
                    n = c.exec_driver_sql("SELECT n FROM counter").scalar_one()
                    c.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        with transaction(engine, write=False) as c:
            assert c.exec_driver_sql("SELECT n FROM counter").scalar_one() == 100
    finally:
        engine.dispose()


def test_sqlite_writers_of_one_process_queue_in_process(tmp_path: Path) -> None:
    """With no busy timeout at all, threads of one process still never see "database is
    locked": they queue on the engine's own writer lock, not on SQLite's sleeping busy
    handler (which waits in steps of up to 100 ms). Other processes still use the timeout."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url, busy_timeout_ms=0)
    other_process = make_engine(url, busy_timeout_ms=0)  # another engine: not queued with us
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
            conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
        errors: list[BaseException] = []

        def bump() -> None:
            try:
                for _ in range(50):
                    with transaction(engine) as c:
                        n = c.exec_driver_sql("SELECT n FROM counter").scalar_one()
                        c.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")
            except BaseException as e:  # collected for the assertion
                errors.append(e)

        threads = [threading.Thread(target=bump) for _ in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors
        with transaction(engine, write=False) as c:
            assert c.exec_driver_sql("SELECT n FROM counter").scalar_one() == 300
        with transaction(engine), pytest.raises(exc.OperationalError, match="locked"), \
                transaction(other_process):
            pass
    finally:
        engine.dispose()
        other_process.dispose()


_CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="none")


def test_run_sync_serves_sqlite_from_one_thread_in_order(migrated_engine: Engine) -> None:
    """Async callers' database work: on SQLite one thread of the engine's own, in the order
    asked; on PostgreSQL the default pool. The caller's context variables go along."""
    ran: list[tuple[int, str, str]] = []

    def work(i: int) -> int:
        ran.append((i, threading.current_thread().name, _CALLER.get()))
        with transaction(migrated_engine) as conn:
            leases.acquire(conn, f"job-{i}", "me", T0, seconds=10)
        return i

    async def main() -> list[int]:
        _CALLER.set("the caller")
        return list(await asyncio.gather(*(run_sync(migrated_engine, work, i) for i in range(20))))

    assert asyncio.run(main()) == list(range(20))
    assert {caller for _, _, caller in ran} == {"the caller"}
    threads = {name for _, name, _ in ran}
    assert threading.main_thread().name not in threads
    if is_sqlite(migrated_engine):
        assert len(threads) == 1
        assert threads.pop().startswith("orderbridge-sqlite")
        assert [i for i, _, _ in ran] == list(range(20))
    else:
        assert not any(name.startswith("orderbridge-sqlite") for name in threads)
    with transaction(migrated_engine, write=False) as conn:
        assert len(conn.execute(select(leases_table.c.name)).scalars().all()) == 20


def test_rollback_on_error(migrated_engine: Engine) -> None:
    def fail_midway() -> None:
        with transaction(migrated_engine) as conn:
            leases.acquire(conn, "poller", "a", T0, seconds=10)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_midway()
    with transaction(migrated_engine, write=False) as conn:
        assert leases.holder(conn, "poller", T0) is None


def test_datetimes_come_back_aware_utc(migrated_engine: Engine) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=plus_two)
    with transaction(migrated_engine) as conn:
        assert leases.acquire(conn, "x", "me", local - timedelta(hours=1), seconds=3600)
    with transaction(migrated_engine, write=False) as conn:
        expires = conn.execute(select(leases_table.c.expires_at)).scalar_one()
    assert expires == local
    assert expires.tzinfo is UTC
    assert expires.hour == 12
    with pytest.raises(exc.StatementError, match="naive"), transaction(migrated_engine) as conn:
        leases.acquire(conn, "y", "me", datetime(2026, 1, 1), seconds=1)


def test_a_new_sqlite_file_is_private_to_its_owner(tmp_path: Path) -> None:
    """It holds buyers' addresses: 0600, and its WAL files take the same mode."""
    path = tmp_path / "private.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(engine) as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        wal = tmp_path / "private.db-wal"
        assert wal.exists()
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600
    finally:
        engine.dispose()
