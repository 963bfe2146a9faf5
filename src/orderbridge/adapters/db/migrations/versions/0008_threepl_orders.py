"""3PL orders as last seen, by the reference the seller's Shopify->3PL app gave them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Issue 10 (lookups and tracking): the 3PL poller (and ShipBob's webhooks) store each 3PL
order they see here, with the domain's view of it (status, parcels with tracking); a pass
reads its link's 3PL order from here by reference instead of calling the 3PL.

Self-contained on purpose (see 0001): no application imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
    )
    op.create_table(
        "threepl_orders",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("threepl_order_id", sa.String(length=255), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("alt_reference", sa.String(length=255), nullable=True),
        sa.Column("view", json_type, nullable=False),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_threepl_orders_connection_id_connections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("connection_id", "provider", "threepl_order_id", name=op.f("pk_threepl_orders")),
    )
    op.create_index("ix_threepl_orders_reference", "threepl_orders", ["connection_id", "reference"])
    op.create_index("ix_threepl_orders_alt_reference", "threepl_orders", ["connection_id", "alt_reference"])


def downgrade() -> None:
    op.drop_index("ix_threepl_orders_alt_reference", table_name="threepl_orders")
    op.drop_index("ix_threepl_orders_reference", table_name="threepl_orders")
    op.drop_table("threepl_orders")
