"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` build it.

Every instant is a ``UTCDateTime``. Constraint names follow ``NAMING_CONVENTION`` so that
Alembic's batch mode (SQLite table rebuilds) can find and alter them by name.
A test compares this metadata with the migrated schema on both dialects.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from orderbridge.adapters.db.types import IdType, JSONType, UTCDateTime

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
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Identifiers of remote objects (TikTok ids are long digit strings; Shopify uses gids).
_REMOTE_ID = 255


def _id() -> Column[int]:
    return Column("id", IdType, primary_key=True, autoincrement=True)


def _connection_fk(*, nullable: bool, ondelete: str = "CASCADE") -> Column[int]:
    return Column(
        "connection_id", IdType, ForeignKey("connections.id", ondelete=ondelete),
        nullable=nullable,
    )


connections = Table(
    "connections",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("tiktok_shop_id", String(_REMOTE_ID), nullable=False, unique=True),
    Column("tiktok_shop_cipher", String(_REMOTE_ID)),
    Column("tiktok_shop_name", String(_REMOTE_ID)),
    Column("tiktok_app_key", String(_REMOTE_ID)),
    # Tokens are Fernet ciphertext (crypto.TokenCipher); never plaintext.
    Column("tiktok_access_token_enc", Text),
    Column("tiktok_access_token_expires_at", UTCDateTime),
    Column("tiktok_refresh_token_enc", Text),
    Column("tiktok_refresh_token_expires_at", UTCDateTime),
    Column("shopify_domain", String(_REMOTE_ID), nullable=False),
    Column("shopify_token_enc", Text),
    Column("shopify_scopes", Text),
    Column("shopify_location_id", String(_REMOTE_ID)),
    # Expiring offline tokens (OAuth install): when the access token ends, and its refresh token.
    Column("shopify_token_expires_at", UTCDateTime),
    Column("shopify_refresh_token_enc", Text),
    Column("shopify_refresh_token_expires_at", UTCDateTime),
    Column("policy", JSONType, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

order_links = Table(
    "order_links",
    metadata,
    _id(),
    _connection_fk(nullable=False),
    Column("tiktok_order_id", String(_REMOTE_ID), nullable=False),
    Column("shopify_order_id", String(_REMOTE_ID), index=True),
    Column("shopify_order_name", String(_REMOTE_ID)),
    Column("state", String(64), nullable=False, index=True),
    Column("tiktok_status", String(64)),
    # decide()'s persistent state: allocation, hold ids, timers, counters.
    Column("memory", JSONType, nullable=False),
    Column("tiktok_snapshot", JSONType),
    Column("shopify_snapshot", JSONType),
    # When the link is next due; while leased it is at most the lease expiry (claims set
    # it there) so that a crashed worker's link comes back by itself.
    Column("next_due_at", UTCDateTime, index=True),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    # Lower runs first (links.DEFAULT_PRIORITY is the middle).
    Column("priority", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Shopify webhooks that named the order, counted by the intake (never touches the
    # version); the count the stored Shopify snapshot covers (its read began after them),
    # and until when that snapshot may stand in for a read when only TikTok has news
    # (NULL: read on the next pass). engine/observe.py ``snapshot_stands``.
    Column("shopify_hints", Integer, nullable=False, server_default="0"),
    Column("shopify_seen_hints", Integer),
    Column("shopify_fresh_until", UTCDateTime),
    UniqueConstraint("connection_id", "tiktok_order_id"),
    # The dashboard's order list pages by (first_seen_at, id), newest first.
    Index("ix_order_links_first_seen_at_id", "first_seen_at", "id"),
    # Its filters by connection (every scoped user's list) and by TikTok status (SLA risk).
    Index("ix_order_links_connection_id_first_seen_at_id", "connection_id", "first_seen_at", "id"),
    Index("ix_order_links_tiktok_status_first_seen_at_id", "tiktok_status", "first_seen_at", "id"),
    # Its search: a TikTok order id (whatever the connection) or a Shopify order name.
    Index("ix_order_links_tiktok_order_id", "tiktok_order_id"),
    Index("ix_order_links_shopify_order_name", "shopify_order_name"),
)

order_exceptions = Table(
    "order_exceptions",
    metadata,
    _id(),
    Column("link_id", IdType, ForeignKey("order_links.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSONType),
    Column("action", String(64)),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    # At most one open exception per code on a link (both dialects support partial indexes).
    Index(
        "ux_order_exceptions_open_link_code",
        "link_id",
        "code",
        unique=True,
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
)

events = Table(
    "events",
    metadata,
    _id(),
    Column("link_id", IdType, ForeignKey("order_links.id", ondelete="CASCADE")),
    _connection_fk(nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", JSONType),
    Column("remote_request_id", String(_REMOTE_ID)),
    Column("duration_ms", Integer),
    Index("ix_events_link_id_at", "link_id", "at"),
)

inbox = Table(
    "inbox",
    metadata,
    _id(),
    Column("source", String(32), nullable=False),
    Column("event_id", String(_REMOTE_ID), nullable=False),
    _connection_fk(nullable=True, ondelete="SET NULL"),
    Column("topic", String(_REMOTE_ID)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("headers", JSONType),
    # The raw bytes as received: signatures are over bytes, and parsing may improve later.
    Column("body", LargeBinary, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("error", Text),
    UniqueConstraint("source", "event_id"),
    Index("ix_inbox_processed_at_received_at", "processed_at", "received_at"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("kind", String(64), nullable=False),
    Column("key", String(_REMOTE_ID), nullable=False),
    _connection_fk(nullable=True),
    Column("payload", JSONType, nullable=False),
    Column("next_due_at", UTCDateTime, index=True),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "key"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(_REMOTE_ID), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    _connection_fk(nullable=False),
    Column("stream", String(64), nullable=False),
    Column("watermark", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "stream"),
)

sku_links = Table(
    "sku_links",
    metadata,
    _connection_fk(nullable=False),
    Column("tiktok_sku_id", String(_REMOTE_ID), nullable=False),
    Column("shopify_variant_id", String(_REMOTE_ID), nullable=False),
    Column("shopify_inventory_item_id", String(_REMOTE_ID)),
    Column("seller_sku", String(_REMOTE_ID)),
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "tiktok_sku_id"),
)

# The stock push (engine/stock_push.py): per linked TikTok SKU, when its stock is due to be
# pushed (debounced, durable), the claim, what was last pushed and any open problem.
stock_skus = Table(
    "stock_skus",
    metadata,
    _connection_fk(nullable=False),
    Column("tiktok_sku_id", String(_REMOTE_ID), nullable=False),
    Column("product_id", String(_REMOTE_ID)),
    Column("due_at", UTCDateTime, index=True),
    Column("claimed_until", UTCDateTime),
    Column("hints", Integer, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("changed_at", UTCDateTime),
    Column("pushed", JSONType),
    Column("pushed_at", UTCDateTime),
    Column("problem_kind", String(32)),
    Column("problem_code", Integer),
    Column("problem_message", Text),
    Column("problem_at", UTCDateTime),
    PrimaryKeyConstraint("connection_id", "tiktok_sku_id"),
)

# When each connection's linked SKUs were last all made due (the daily full reconciliation).
stock_reconciles = Table(
    "stock_reconciles",
    metadata,
    _connection_fk(nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id"),
)

# Catalog snapshots: what each side listed at the last catalog sync, for SKU matching and
# the "link a SKU" screen without spending API budget.
tiktok_skus = Table(
    "tiktok_skus",
    metadata,
    _connection_fk(nullable=False),
    Column("sku_id", String(_REMOTE_ID), nullable=False),
    Column("product_id", String(_REMOTE_ID)),
    Column("seller_sku", String(_REMOTE_ID), index=True),
    Column("title", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "sku_id"),
)

shopify_variants = Table(
    "shopify_variants",
    metadata,
    _connection_fk(nullable=False),
    Column("variant_id", String(_REMOTE_ID), nullable=False),
    Column("inventory_item_id", String(_REMOTE_ID)),
    Column("product_id", String(_REMOTE_ID)),
    Column("sku", String(_REMOTE_ID), index=True),
    Column("title", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "variant_id"),
)

# 3PL orders as last seen (polls, webhooks, searches), by the references the seller's
# Shopify->3PL app gave them: the engine reads a link's from here, never from the 3PL.
threepl_orders = Table(
    "threepl_orders",
    metadata,
    _connection_fk(nullable=False),
    Column("provider", String(32), nullable=False),
    Column("threepl_order_id", String(_REMOTE_ID), nullable=False),
    Column("reference", String(_REMOTE_ID), nullable=False),
    Column("alt_reference", String(_REMOTE_ID)),
    Column("view", JSONType, nullable=False),
    Column("remote_updated_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "provider", "threepl_order_id"),
    Index("ix_threepl_orders_reference", "connection_id", "reference"),
    Index("ix_threepl_orders_alt_reference", "connection_id", "alt_reference"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("link_id", IdType, ForeignKey("order_links.id", ondelete="CASCADE"), nullable=False),
    Column("threshold", String(32), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("link_id", "threshold"),
)

# Operators of the private surface (docs/security.md): the API takes per-user tokens, the
# dashboard a password (argon2id hash; None: the user cannot sign in to the dashboard).
users = Table(
    "users",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("password_hash", String(255)),
)

# Dashboard sessions: only the SHA-256 of the cookie's value is stored; the CSRF token is
# per session (every form carries it).
web_sessions = Table(
    "web_sessions",
    metadata,
    _id(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("client", String(_REMOTE_ID)),
)

# Which connections a user may see (dashboard and API); admins see every connection.
user_connections = Table(
    "user_connections",
    metadata,
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _connection_fk(nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "connection_id"),
    Index("ix_user_connections_connection_id", "connection_id"),
)

# API tokens: only the SHA-256 of the token is stored (the token itself is shown once).
api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

# Who did what, when: every state-changing request of the private surface, and the
# CLI's user/token commands. Kept when users are deleted (``actor`` keeps the name).
audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("user_id", IdType, ForeignKey("users.id", ondelete="SET NULL")),
    Column("token_id", IdType, ForeignKey("api_tokens.id", ondelete="SET NULL")),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("client", String(_REMOTE_ID)),
)
