"""Schema migrations (Alembic), configured in code so they run from an installed package.

The Alembic environment and revisions live in ``migrations/`` next to this module; there
is no ``alembic.ini``. ``upgrade`` is what ``orderbridge db upgrade`` runs; ``check`` is what
the app runs at start to refuse a schema it does not know. Concurrent upgrades are safe:
they serialise on SQLite's write lock or a PostgreSQL advisory lock (see ``env.py``).

To write a new revision (developers): change ``tables/``, then
``make_revision("sqlite:///scratch.db", "what changed")`` against a database at head, review
the generated file (batch mode for SQLite), and keep ``schema_diffs`` empty on both dialects.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url
from sqlalchemy.pool import NullPool

from orderbridge.adapters.db.engine import WRITE_OPTION, make_engine
from orderbridge.adapters.db.errors import SchemaMismatch
from orderbridge.adapters.db.tables import metadata

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check",
    "current",
    "downgrade",
    "head",
    "make_revision",
    "schema_diffs",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Alembic keeps the running migration in module globals (``alembic.context``, ``op``), so
# two threads of one process must not run commands at once. Processes are serialised by
# the database (env.py).
_ALEMBIC_COMMAND_LOCK = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations (for ``alembic.command``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolation: a literal % must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _migration_engine(url: str) -> Engine:
    # Foreign keys off on SQLite: batch mode rebuilds tables, which must not cascade;
    # env.py checks the keys before committing. NullPool: nothing lingers afterwards.
    return make_engine(url, foreign_keys=False, poolclass=NullPool)


@contextlib.contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """On a SQLite file, an exclusive lock on ``<database>.migrate-lock`` for the whole command.

    All revisions already run in one ``BEGIN IMMEDIATE`` transaction, but concurrent
    upgrades of a fresh SQLite file were seen (rarely) to run a revision twice ("table ...
    already exists"); a lock the operating system holds for the whole command serialises
    processes whatever SQLite does. PostgreSQL serialises on its advisory lock (env.py).
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrate-lock", "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_command(url: str, fn: Any, *args: Any) -> None:
    engine = _migration_engine(url)
    try:
        with _ALEMBIC_COMMAND_LOCK, _file_lock(url), engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            fn(cfg, *args)
            conn.commit()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest)."""
    _run_command(url, command.upgrade, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Take the database at ``url`` down to ``revision`` (default: empty)."""
    _run_command(url, command.downgrade, revision)


def head() -> str:
    """The newest revision this code ships."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if found is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found")
    return found


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at (``None`` when never migrated)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def check(url: str) -> None:
    """Raise ``SchemaMismatch`` unless the database at ``url`` is at this code's head."""
    expected = head()
    found = current(url)
    if found == expected:
        return
    if found is None:
        raise SchemaMismatch(
            "the database has no OrderBridge schema yet: run `orderbridge db upgrade`"
        )
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if found not in known:
        raise SchemaMismatch(
            f"the database schema is at revision {found}, which this version of OrderBridge "
            "does not know (the database was migrated by a newer version): upgrade OrderBridge"
        )
    raise SchemaMismatch(
        f"the database schema is at revision {found}, this code expects {expected}: "
        "run `orderbridge db upgrade`"
    )


def make_revision(url: str, message: str, *, rev_id: str | None = None) -> None:
    """Autogenerate a revision file in ``migrations/versions`` from the difference between
    ``tables.metadata`` and the database at ``url`` (which must be at head)."""
    _run_command(url, _revision, message, rev_id)


def _revision(cfg: Config, message: str, rev_id: str | None) -> None:
    command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


def schema_diffs(url: str) -> list[Any]:
    """Differences between ``tables.metadata`` and the live schema (empty when they match)."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()
