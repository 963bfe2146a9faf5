"""The database adapter: SQLAlchemy Core tables, repositories, claims/leases, migrations.

Public surface::

    make_engine(url) -> Engine            engine.py (SQLite WAL + BEGIN IMMEDIATE; psycopg 3)
    transaction(engine, write=True)       one transaction, as a Connection
    TokenCipher(key), generate_key()      crypto.py (Fernet / MultiFernet)
    migrate.upgrade/downgrade/current/check/head/schema_diffs
    links, inbox, jobs, leases, events, order_exceptions, connections, cursors,
    sku_links, alerts                     repositories: functions taking a Connection
    wake                                  LISTEN/NOTIFY: waking workers in other processes

Every repository function takes the ``Connection`` of a ``transaction(...)`` first; times
are aware UTC datetimes passed in (``now``), never read from a clock here.
"""

from orderbridge.adapters.db import (
    alerts,
    connections,
    cursors,
    events,
    inbox,
    jobs,
    leases,
    links,
    order_exceptions,
    sku_links,
    threepl_orders,
    wake,
)
from orderbridge.adapters.db.crypto import TokenCipher, generate_key
from orderbridge.adapters.db.engine import (
    Database,
    in_transaction,
    is_sqlite,
    make_engine,
    run_sync,
    transaction,
)
from orderbridge.adapters.db.errors import AlreadyExists, LeaseLost, SchemaMismatch
from orderbridge.adapters.db.tables import metadata
from orderbridge.adapters.db.types import (
    ConnectionStatus,
    EventKind,
    ExceptionSeverity,
    ExceptionStatus,
    InboxSource,
    SkuLinkSource,
    UTCDateTime,
)

__all__ = [
    "AlreadyExists",
    "ConnectionStatus",
    "Database",
    "EventKind",
    "ExceptionSeverity",
    "ExceptionStatus",
    "InboxSource",
    "LeaseLost",
    "SchemaMismatch",
    "SkuLinkSource",
    "TokenCipher",
    "UTCDateTime",
    "alerts",
    "connections",
    "cursors",
    "events",
    "generate_key",
    "in_transaction",
    "inbox",
    "is_sqlite",
    "jobs",
    "leases",
    "links",
    "make_engine",
    "metadata",
    "order_exceptions",
    "run_sync",
    "sku_links",
    "threepl_orders",
    "transaction",
    "wake",
]
