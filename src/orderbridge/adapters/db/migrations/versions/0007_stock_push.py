"""Stock push: one row per linked TikTok SKU (due time, claim, last push, open problem), and
when each connection's stock was last reconciled in full.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Shopify's stock is pushed to TikTok per SKU, debounced and batched per product (issue 12,
section 2). The due time lives here so a change survives a restart, and the row is claimed
like an order link (``claimed_until``; ``hints`` counts changes that arrived meanwhile).

Self-contained on purpose (see 0001): no application imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    json_type = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql")
    op.create_table(
        "stock_skus",
        sa.Column("connection_id", id_type, nullable=False),
        sa.Column("tiktok_sku_id", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        _ts("due_at"),
        _ts("claimed_until"),
        sa.Column("hints", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("changed_at"),
        sa.Column("pushed", json_type, nullable=True),
        _ts("pushed_at"),
        sa.Column("problem_kind", sa.String(length=32), nullable=True),
        sa.Column("problem_code", sa.Integer(), nullable=True),
        sa.Column("problem_message", sa.Text(), nullable=True),
        _ts("problem_at"),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_stock_skus_connection_id_connections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id", "tiktok_sku_id", name=op.f("pk_stock_skus")),
    )
    op.create_index(op.f("ix_stock_skus_due_at"), "stock_skus", ["due_at"])
    op.create_table(
        "stock_reconciles",
        sa.Column("connection_id", id_type, nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_stock_reconciles_connection_id_connections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_stock_reconciles")),
    )


def downgrade() -> None:
    op.drop_table("stock_reconciles")
    op.drop_index(op.f("ix_stock_skus_due_at"), table_name="stock_skus")
    op.drop_table("stock_skus")
