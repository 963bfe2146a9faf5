"""Shopify OAuth install: expiring offline tokens and their refresh tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Self-contained on purpose (see 0001): no application imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("shopify_token_expires_at", "shopify_refresh_token_enc", "shopify_refresh_token_expires_at")


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("shopify_token_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("shopify_refresh_token_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("shopify_refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
