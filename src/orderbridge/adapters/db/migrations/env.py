"""Alembic environment: runs inside OrderBridge, configured by ``migrate.py`` (no .ini).

``migrate`` hands us an open connection in ``config.attributes["connection"]``; without
one we build an engine from the ``sqlalchemy.url`` option. All revisions run in one
transaction: ``BEGIN IMMEDIATE`` on SQLite (foreign keys off on that connection so batch
table rebuilds work, then checked before commit), and on PostgreSQL under an advisory
lock, so two processes starting at once migrate one after the other.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from orderbridge.adapters.db.engine import WRITE_OPTION, make_engine
from orderbridge.adapters.db.tables import metadata

# Any constant shared by every OrderBridge process: the key of the migration lock.
_PG_MIGRATION_LOCK_KEY = 0x0B5C_4E4A

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left foreign keys broken: {broken[:10]}")


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migration")
    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            _run(conn)
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
