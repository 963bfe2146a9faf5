"""Order links count Shopify hints and remember what the stored Shopify snapshot covers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A pass made due by TikTok alone may decide on the stored Shopify snapshot instead of reading
the order again (issue 14, the mixed load's echo passes): ``shopify_hints`` counts the
Shopify webhooks that named the order, ``shopify_seen_hints`` is the count the stored
snapshot covers and ``shopify_fresh_until`` how long it may stand in for a read.

Self-contained on purpose (see 0001): no application imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_links") as batch:
        batch.add_column(sa.Column("shopify_hints", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("shopify_seen_hints", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shopify_fresh_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_links") as batch:
        batch.drop_column("shopify_fresh_until")
        batch.drop_column("shopify_seen_hints")
        batch.drop_column("shopify_hints")
