"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` build it.

The tables live in ``orders.py``, ``catalog.py`` and ``operators.py`` (shared parts in
``base.py``); every one is importable from here, and importing this package registers them
all on ``metadata``.

Every instant is a ``UTCDateTime``. Constraint names follow ``NAMING_CONVENTION`` so that
Alembic's batch mode (SQLite table rebuilds) can find and alter them by name.
A test compares this metadata with the migrated schema on both dialects.
"""

from __future__ import annotations

from orderbridge.adapters.db.tables.base import NAMING_CONVENTION, metadata
from orderbridge.adapters.db.tables.catalog import (
    shopify_variants,
    sku_links,
    stock_reconciles,
    stock_skus,
    tiktok_skus,
)
from orderbridge.adapters.db.tables.operators import (
    api_tokens,
    audit_log,
    user_connections,
    users,
    web_sessions,
)
from orderbridge.adapters.db.tables.orders import (
    alerts,
    connections,
    cursors,
    events,
    inbox,
    jobs,
    leases,
    order_exceptions,
    order_links,
    threepl_orders,
)

__all__ = [
    "NAMING_CONVENTION",
    "alerts",
    "api_tokens",
    "audit_log",
    "connections",
    "cursors",
    "events",
    "inbox",
    "jobs",
    "leases",
    "metadata",
    "order_exceptions",
    "order_links",
    "shopify_variants",
    "sku_links",
    "stock_reconciles",
    "stock_skus",
    "threepl_orders",
    "tiktok_skus",
    "user_connections",
    "users",
    "web_sessions",
]
