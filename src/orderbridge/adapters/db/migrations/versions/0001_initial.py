"""Initial schema: connections, order links, exceptions, timeline, inbox, jobs, leases,
cursors, SKU links, catalog snapshots, SLA alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Self-contained on purpose: revisions never import the application's tables or types,
which will have moved on by the time an old revision runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REMOTE_ID = 255


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _id_type(), autoincrement=True, nullable=False)


def _ts(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    json_type = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )
    return sa.Column(name, json_type, nullable=nullable)


def _str(name: str, length: int = _REMOTE_ID, *, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _connection_id(table: str, *, nullable: bool, ondelete: str = "CASCADE") -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("connection_id", _id_type(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f(f"fk_{table}_connection_id_connections"),
            ondelete=ondelete,
        ),
    ]


def _link_id(table: str, *, nullable: bool) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("link_id", _id_type(), nullable=nullable),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["order_links.id"],
            name=op.f(f"fk_{table}_link_id_order_links"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "connections",
        _id(),
        _str("name", 200, nullable=False),
        _str("tiktok_shop_id", nullable=False),
        _str("tiktok_shop_cipher"),
        _str("tiktok_shop_name"),
        _str("tiktok_app_key"),
        sa.Column("tiktok_access_token_enc", sa.Text(), nullable=True),
        _ts("tiktok_access_token_expires_at"),
        sa.Column("tiktok_refresh_token_enc", sa.Text(), nullable=True),
        _ts("tiktok_refresh_token_expires_at"),
        _str("shopify_domain", nullable=False),
        sa.Column("shopify_token_enc", sa.Text(), nullable=True),
        sa.Column("shopify_scopes", sa.Text(), nullable=True),
        _str("shopify_location_id"),
        _json("policy", nullable=False),
        _str("status", 32, nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
        sa.UniqueConstraint("tiktok_shop_id", name=op.f("uq_connections_tiktok_shop_id")),
    )
    op.create_table(
        "leases",
        _str("name", nullable=False),
        _str("owner", 200, nullable=False),
        _ts("expires_at", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "cursors",
        *_connection_id("cursors", nullable=False),
        _str("stream", 64, nullable=False),
        _ts("watermark", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_cursors")),
    )
    op.create_table(
        "inbox",
        _id(),
        _str("source", 32, nullable=False),
        _str("event_id", nullable=False),
        *_connection_id("inbox", nullable=True, ondelete="SET NULL"),
        _str("topic"),
        _ts("received_at", nullable=False),
        _json("headers"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _ts("processed_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_inbox_source_event_id")),
    )
    op.create_index(
        "ix_inbox_processed_at_received_at", "inbox", ["processed_at", "received_at"]
    )
    op.create_table(
        "jobs",
        _id(),
        _str("kind", 64, nullable=False),
        _str("key", nullable=False),
        *_connection_id("jobs", nullable=True),
        _json("payload", nullable=False),
        _ts("next_due_at"),
        _str("lease_owner", 200),
        _ts("lease_expires_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_jobs_kind_key")),
    )
    op.create_index(op.f("ix_jobs_next_due_at"), "jobs", ["next_due_at"])
    op.create_table(
        "order_links",
        _id(),
        *_connection_id("order_links", nullable=False),
        _str("tiktok_order_id", nullable=False),
        _str("shopify_order_id"),
        _str("shopify_order_name"),
        _str("state", 64, nullable=False),
        _str("tiktok_status", 64),
        _json("memory", nullable=False),
        _json("tiktok_snapshot"),
        _json("shopify_snapshot"),
        _ts("next_due_at"),
        _str("lease_owner", 200),
        _ts("lease_expires_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        _ts("first_seen_at", nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_links")),
        sa.UniqueConstraint(
            "connection_id",
            "tiktok_order_id",
            name=op.f("uq_order_links_connection_id_tiktok_order_id"),
        ),
    )
    op.create_index(op.f("ix_order_links_next_due_at"), "order_links", ["next_due_at"])
    op.create_index(op.f("ix_order_links_shopify_order_id"), "order_links", ["shopify_order_id"])
    op.create_index(op.f("ix_order_links_state"), "order_links", ["state"])
    op.create_table(
        "shopify_variants",
        *_connection_id("shopify_variants", nullable=False),
        _str("variant_id", nullable=False),
        _str("inventory_item_id"),
        _str("product_id"),
        _str("sku"),
        sa.Column("title", sa.Text(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "variant_id", name=op.f("pk_shopify_variants")),
    )
    op.create_index(op.f("ix_shopify_variants_sku"), "shopify_variants", ["sku"])
    op.create_table(
        "sku_links",
        *_connection_id("sku_links", nullable=False),
        _str("tiktok_sku_id", nullable=False),
        _str("shopify_variant_id", nullable=False),
        _str("shopify_inventory_item_id"),
        _str("seller_sku"),
        _str("source", 16, nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "tiktok_sku_id", name=op.f("pk_sku_links")),
    )
    op.create_table(
        "tiktok_skus",
        *_connection_id("tiktok_skus", nullable=False),
        _str("sku_id", nullable=False),
        _str("product_id"),
        _str("seller_sku"),
        sa.Column("title", sa.Text(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "sku_id", name=op.f("pk_tiktok_skus")),
    )
    op.create_index(op.f("ix_tiktok_skus_seller_sku"), "tiktok_skus", ["seller_sku"])
    op.create_table(
        "alerts",
        *_link_id("alerts", nullable=False),
        _str("threshold", 32, nullable=False),
        _ts("sent_at", nullable=False),
        sa.PrimaryKeyConstraint("link_id", "threshold", name=op.f("pk_alerts")),
    )
    op.create_table(
        "events",
        _id(),
        *_link_id("events", nullable=True),
        *_connection_id("events", nullable=True),
        _ts("at", nullable=False),
        _str("kind", 16, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        _json("data"),
        _str("remote_request_id"),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_link_id_at", "events", ["link_id", "at"])
    op.create_table(
        "order_exceptions",
        _id(),
        *_link_id("order_exceptions", nullable=False),
        _str("code", 64, nullable=False),
        _str("severity", 16, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _json("data"),
        _str("action", 64),
        _str("status", 16, nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("resolved_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_exceptions")),
    )
    op.create_index(op.f("ix_order_exceptions_status"), "order_exceptions", ["status"])
    op.create_index(
        "ux_order_exceptions_open_link_code",
        "order_exceptions",
        ["link_id", "code"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    # Children first; dropping a table drops its indexes.
    for table in (
        "order_exceptions",
        "events",
        "alerts",
        "tiktok_skus",
        "sku_links",
        "shopify_variants",
        "order_links",
        "jobs",
        "inbox",
        "cursors",
        "leases",
        "connections",
    ):
        op.drop_table(table)
