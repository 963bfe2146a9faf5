"""Users see the connections granted to them (admins see all); the dashboard's filters.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``user_connections`` holds one row per (user, connection) a viewer or operator may see.
Existing non-admin users are granted every existing connection, so an upgrade changes
nobody's view; connections added later are granted by an admin (``orderbridge user grant``).
The order list filters by connection (every scoped user) and by ``tiktok_status`` (the SLA-risk
filter): indexes on (column, ``first_seen_at``, ``id``) keep each an index-ordered range. Its
search looks a TikTok order id up whatever the connection, and a Shopify order name: one
index each.

Self-contained on purpose (see 0001): no application imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_connections",
        sa.Column("user_id", _id_type(), nullable=False),
        sa.Column("connection_id", _id_type(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_connections_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"],
                                name=op.f("fk_user_connections_connection_id_connections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "connection_id", name=op.f("pk_user_connections")),
    )
    op.create_index("ix_user_connections_connection_id", "user_connections", ["connection_id"])
    op.create_index("ix_order_links_connection_id_first_seen_at_id", "order_links",
                    ["connection_id", "first_seen_at", "id"])
    op.create_index("ix_order_links_tiktok_status_first_seen_at_id", "order_links",
                    ["tiktok_status", "first_seen_at", "id"])
    op.create_index("ix_order_links_tiktok_order_id", "order_links", ["tiktok_order_id"])
    op.create_index("ix_order_links_shopify_order_name", "order_links", ["shopify_order_name"])
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    users = sa.table("users", sa.column("id"), sa.column("role"))
    conns = sa.table("connections", sa.column("id"))
    grants = sa.table("user_connections", sa.column("user_id"), sa.column("connection_id"),
                      sa.column("created_at", sa.DateTime(timezone=True)))
    every = users.join(conns, sa.true())  # every (user, connection) pair
    pairs = bind.execute(sa.select(users.c.id, conns.c.id).select_from(every).where(users.c.role != "admin")).all()
    if pairs:
        op.bulk_insert(grants, [{"user_id": u, "connection_id": c, "created_at": now} for u, c in pairs])


def downgrade() -> None:
    op.drop_index("ix_order_links_shopify_order_name", table_name="order_links")
    op.drop_index("ix_order_links_tiktok_order_id", table_name="order_links")
    op.drop_index("ix_order_links_tiktok_status_first_seen_at_id", table_name="order_links")
    op.drop_index("ix_order_links_connection_id_first_seen_at_id", table_name="order_links")
    op.drop_index("ix_user_connections_connection_id", table_name="user_connections")
    op.drop_table("user_connections")
