"""SKU links, the stock push's state and the catalog snapshots of both sides."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from orderbridge.adapters.db.tables.base import REMOTE_ID, connection_fk, metadata
from orderbridge.adapters.db.types import JSONType, UTCDateTime

__all__ = ["shopify_variants", "sku_links", "stock_reconciles", "stock_skus", "tiktok_skus"]

sku_links = Table(
    "sku_links",
    metadata,
    connection_fk(nullable=False),
    Column("tiktok_sku_id", String(REMOTE_ID), nullable=False),
    Column("shopify_variant_id", String(REMOTE_ID), nullable=False),
    Column("shopify_inventory_item_id", String(REMOTE_ID)),
    Column("seller_sku", String(REMOTE_ID)),
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "tiktok_sku_id"),
)

# The stock push (engine/stock_push.py): per linked TikTok SKU, when its stock is due to be
# pushed (debounced, durable), the claim, what was last pushed and any open problem.
stock_skus = Table(
    "stock_skus",
    metadata,
    connection_fk(nullable=False),
    Column("tiktok_sku_id", String(REMOTE_ID), nullable=False),
    Column("product_id", String(REMOTE_ID)),
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
    connection_fk(nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id"),
)

# Catalog snapshots: what each side listed at the last catalog sync, for SKU matching and
# the "link a SKU" screen without spending API budget.
tiktok_skus = Table(
    "tiktok_skus",
    metadata,
    connection_fk(nullable=False),
    Column("sku_id", String(REMOTE_ID), nullable=False),
    Column("product_id", String(REMOTE_ID)),
    Column("seller_sku", String(REMOTE_ID), index=True),
    Column("title", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "sku_id"),
)

shopify_variants = Table(
    "shopify_variants",
    metadata,
    connection_fk(nullable=False),
    Column("variant_id", String(REMOTE_ID), nullable=False),
    Column("inventory_item_id", String(REMOTE_ID)),
    Column("product_id", String(REMOTE_ID)),
    Column("sku", String(REMOTE_ID), index=True),
    Column("title", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("connection_id", "variant_id"),
)
