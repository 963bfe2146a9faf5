"""Connections, order links and what the engine keeps per link: exceptions, events, the
webhook inbox, jobs, leases, cursors, 3PL orders, SLA alerts."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from orderbridge.adapters.db.tables.base import REMOTE_ID, connection_fk, id_column, metadata
from orderbridge.adapters.db.types import IdType, JSONType, UTCDateTime

__all__ = ["alerts", "connections", "cursors", "events", "inbox", "jobs", "leases", "order_exceptions", "order_links", "threepl_orders"]

connections = Table(
    "connections",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False, unique=True),
    Column("tiktok_shop_id", String(REMOTE_ID), nullable=False, unique=True),
    Column("tiktok_shop_cipher", String(REMOTE_ID)),
    Column("tiktok_shop_name", String(REMOTE_ID)),
    Column("tiktok_app_key", String(REMOTE_ID)),
    # Tokens are Fernet ciphertext (crypto.TokenCipher); never plaintext.
    Column("tiktok_access_token_enc", Text),
    Column("tiktok_access_token_expires_at", UTCDateTime),
    Column("tiktok_refresh_token_enc", Text),
    Column("tiktok_refresh_token_expires_at", UTCDateTime),
    Column("shopify_domain", String(REMOTE_ID), nullable=False),
    Column("shopify_token_enc", Text),
    Column("shopify_scopes", Text),
    Column("shopify_location_id", String(REMOTE_ID)),
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
    id_column(),
    connection_fk(nullable=False),
    Column("tiktok_order_id", String(REMOTE_ID), nullable=False),
    Column("shopify_order_id", String(REMOTE_ID), index=True),
    Column("shopify_order_name", String(REMOTE_ID)),
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
    id_column(),
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
    id_column(),
    Column("link_id", IdType, ForeignKey("order_links.id", ondelete="CASCADE")),
    connection_fk(nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", JSONType),
    Column("remote_request_id", String(REMOTE_ID)),
    Column("duration_ms", Integer),
    Index("ix_events_link_id_at", "link_id", "at"),
)

inbox = Table(
    "inbox",
    metadata,
    id_column(),
    Column("source", String(32), nullable=False),
    Column("event_id", String(REMOTE_ID), nullable=False),
    connection_fk(nullable=True, ondelete="SET NULL"),
    Column("topic", String(REMOTE_ID)),
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
    id_column(),
    Column("kind", String(64), nullable=False),
    Column("key", String(REMOTE_ID), nullable=False),
    connection_fk(nullable=True),
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
    Column("name", String(REMOTE_ID), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    connection_fk(nullable=False),
    Column("stream", String(64), nullable=False),
    Column("watermark", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "stream"),
)

# 3PL orders as last seen (polls, webhooks, searches), by the references the seller's
# Shopify->3PL app gave them: the engine reads a link's from here, never from the 3PL.
threepl_orders = Table(
    "threepl_orders",
    metadata,
    connection_fk(nullable=False),
    Column("provider", String(32), nullable=False),
    Column("threepl_order_id", String(REMOTE_ID), nullable=False),
    Column("reference", String(REMOTE_ID), nullable=False),
    Column("alt_reference", String(REMOTE_ID)),
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
