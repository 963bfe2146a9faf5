"""The schema's shared parts: the metadata (with its constraint naming) and common columns."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, MetaData

from orderbridge.adapters.db.types import IdType

__all__ = ["NAMING_CONVENTION", "REMOTE_ID", "connection_fk", "id_column", "metadata"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Identifiers of remote objects (TikTok ids are long digit strings; Shopify uses gids).
REMOTE_ID = 255


def id_column() -> Column[int]:
    """The surrogate primary key ``id``."""
    return Column("id", IdType, primary_key=True, autoincrement=True)


def connection_fk(*, nullable: bool, ondelete: str = "CASCADE") -> Column[int]:
    """``connection_id``, referencing ``connections.id``."""
    return Column(
        "connection_id", IdType, ForeignKey("connections.id", ondelete=ondelete),
        nullable=nullable,
    )
