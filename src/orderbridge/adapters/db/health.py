"""Is the database usable: the readiness probes (``web/readiness.py``) and the command
line's checks before it connects (``cli/db.py``).

``probe_write`` writes a row in a transaction that is always rolled back, so it proves the
database takes writes (a read-only replica, a full disk, a ``chmod 0444`` SQLite file all
fail it) and leaves nothing behind. ``revision`` is the schema revision seen by an open
transaction. ``ping`` connects once, outside any pool, and raises the driver's error
(``errors.DriverError``) when the server or the database cannot be reached.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from orderbridge.adapters.db.engine import make_engine, transaction
from orderbridge.adapters.db.tables import leases

__all__ = ["display_url", "ping", "probe_write", "revision", "sqlite_file"]

# The probe's lease row never commits; it only has to be a valid row.
_PROBE_PREFIX: Final = "readyz-probe:"


class _Rollback(Exception):
    """Raised inside the probe transaction so it is rolled back, never committed."""


def probe_write(engine: Engine, now: datetime) -> None:
    """Write one row and roll it back; raises whatever keeps the database from writing."""
    try:
        with transaction(engine) as conn:
            conn.execute(insert(leases).values(
                name=_PROBE_PREFIX + secrets.token_hex(8), owner="readyz",
                expires_at=now + timedelta(seconds=1)))
            raise _Rollback
    except _Rollback:
        return


def revision(conn: Connection) -> str | None:
    """The schema revision the database is at (``None``: never migrated)."""
    from alembic.runtime.migration import MigrationContext  # slow to import: only when asked

    return MigrationContext.configure(conn).get_current_revision()


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database or another dialect)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    name = parsed.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def ping(url: str) -> None:
    """Connect to ``url`` once (no pool) and run ``SELECT 1``; raises ``DriverError`` when
    it cannot. Connecting to SQLite creates the file: check ``sqlite_file`` first."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
