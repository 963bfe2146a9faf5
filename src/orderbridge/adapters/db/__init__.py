"""The database adapter: SQLAlchemy Core tables, repositories, claims/leases, migrations.

Public surface::

    make_engine(url) -> Engine            engine.py (SQLite WAL + BEGIN IMMEDIATE; psycopg 3)
    transaction(engine, write=True)       one transaction, as a Connection
    TokenCipher(key), generate_key()      crypto.py (Fernet / MultiFernet)
    migrate.upgrade/downgrade/current/check/head/schema_diffs
    links, inbox, jobs, leases, events, order_exceptions, connections, cursors,
    sku_links, alerts                     repositories: functions taking a Connection
    link_overrides                        a person's versioned write to an unleased link
    orders, board                         operators' reads (API and CLI; the dashboard)
    intake, redaction                     webhook intake's look-ups; buyers' data removed
    operators, web_sessions               users, API tokens, audit log; dashboard sessions
    health, scrub                         readiness probes and reachability; SQLite scrubbing
    gauges, retention, sla_desk           the metrics scrape's, retention's and the SLA desk's reads
    migrate                               (imported on demand: Alembic is slow to load)
    wake                                  LISTEN/NOTIFY: waking workers in other processes
    Connection, Database                  the types of a transaction and of a database (engine.py)
    DatabaseError, DriverError            the database's own failures (errors.py)

Every repository function takes the ``Connection`` of a ``transaction(...)`` first; times
are aware UTC datetimes passed in (``now``), never read from a clock here. Modules outside
this package import only this surface: never SQLAlchemy, ``tables`` or a ``_private``
module (``tests/unit/test_boundaries.py``).
"""

from sqlalchemy import Connection

from orderbridge.adapters.db import (
    alerts,
    board,
    connections,
    cursors,
    events,
    gauges,
    health,
    inbox,
    intake,
    jobs,
    leases,
    link_overrides,
    links,
    operators,
    order_exceptions,
    orders,
    redaction,
    retention,
    scrub,
    sku_links,
    sla_desk,
    threepl_orders,
    wake,
    web_sessions,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.crypto import TokenCipher, generate_key
from orderbridge.adapters.db.engine import (
    Database,
    in_transaction,
    is_sqlite,
    make_engine,
    run_sync,
    transaction,
)
from orderbridge.adapters.db.errors import (
    AlreadyExists,
    DatabaseError,
    DriverError,
    LeaseLost,
    SchemaMismatch,
)
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.db.operators import Principal, Role, UserRow
from orderbridge.adapters.db.order_exceptions import ExceptionRow
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
    "Connection",
    "ConnectionRow",
    "ConnectionStatus",
    "Database",
    "DatabaseError",
    "DriverError",
    "EventKind",
    "ExceptionRow",
    "ExceptionSeverity",
    "ExceptionStatus",
    "InboxSource",
    "LeaseLost",
    "LinkRow",
    "Principal",
    "Role",
    "SchemaMismatch",
    "SkuLinkSource",
    "TokenCipher",
    "UTCDateTime",
    "UserRow",
    "alerts",
    "board",
    "connections",
    "cursors",
    "events",
    "gauges",
    "generate_key",
    "health",
    "in_transaction",
    "inbox",
    "intake",
    "is_sqlite",
    "jobs",
    "leases",
    "link_overrides",
    "links",
    "make_engine",
    "metadata",
    "operators",
    "order_exceptions",
    "orders",
    "redaction",
    "retention",
    "run_sync",
    "scrub",
    "sku_links",
    "sla_desk",
    "threepl_orders",
    "transaction",
    "wake",
    "web_sessions",
]
