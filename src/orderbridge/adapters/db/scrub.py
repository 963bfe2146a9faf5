"""Deleting buyer data so that no copy is left in the database's files (SQLite).

On PostgreSQL a deleted or overwritten row is gone from every reader at commit and its space
is reclaimed by autovacuum; what is left on disk is the operator's disk encryption's concern.
SQLite keeps more copies the program can reach by simply reading the files: the freed space
in the pages (unless ``secure_delete``), the free pages, and the write-ahead log, which keeps
every page image written since its last reset. So, on SQLite:

- ``secure_delete(conn)`` inside the transaction that deletes or overwrites buyer data: the
  freed bytes are overwritten with zeros (some builds have it on by default, not all);
- ``flush_deleted(engine, vacuum=…)`` after that transaction commits: ``VACUUM`` (optional:
  it rewrites the whole file and holds the write lock meanwhile) and a ``TRUNCATE``
  checkpoint, which copies the log into the file and empties the log.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext

from sqlalchemy import Connection, Engine

from orderbridge.adapters.db.engine import _SQLITE_WRITERS, is_sqlite

__all__ = ["flush_deleted", "secure_delete"]

log = logging.getLogger(__name__)


def secure_delete(conn: Connection) -> None:
    """On SQLite, zero the bytes this connection frees from now on (no-op elsewhere)."""
    if is_sqlite(conn):
        conn.exec_driver_sql("PRAGMA secure_delete = ON")


def flush_deleted(engine: Engine, *, vacuum: bool) -> bool:
    """On SQLite, leave no old page image behind: ``VACUUM`` if asked, then empty the
    write-ahead log. True when done (always on PostgreSQL); False, with a log line, when a
    reader kept the log from being emptied (the next call retries)."""
    if not is_sqlite(engine):
        return True
    writers = _SQLITE_WRITERS.get(engine)
    with writers if writers is not None else nullcontext():
        raw = engine.raw_connection()  # outside SQLAlchemy's transaction: VACUUM needs that
        try:
            cursor = raw.cursor()
            if vacuum:
                cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = cursor.fetchone()
            cursor.close()
        finally:
            raw.close()
    busy = bool(row and row[0])
    if busy:
        log.warning("SQLite write-ahead log not emptied (a reader was busy): deleted buyer data "
                    "may stay in the -wal file until the next retention pass")
    return not busy
