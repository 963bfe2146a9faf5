"""The cancellation desk's reads: open desk exceptions with their order and connection.

``decide()`` keeps exactly one open ``CANCEL_REQUEST_*`` exception per order with a pending
buyer request (its data: cancel id, TikTok's deadline, desk state, why, steps, 3PL), so the
desk is those rows joined to their link and connection, nothing more to store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from orderbridge.adapters.db.tables import connections as connections_t
from orderbridge.adapters.db.tables import order_exceptions as exceptions_t
from orderbridge.adapters.db.tables import order_links as links_t
from orderbridge.adapters.db.types import ExceptionStatus

__all__ = ["DbConnection", "DbEngine", "DeskRecord", "desk_records"]

# For callers outside adapters/db that hand a transaction's connection through.
DbConnection = Connection
DbEngine = Engine


@dataclass(frozen=True, slots=True)
class DeskRecord:
    """One open desk exception, with the order it is on."""

    exception_id: int
    code: str
    message: str
    data: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    link_id: int
    connection_id: int
    connection: str
    tiktok_order_id: str
    shopify_order_id: str | None
    shopify_order_name: str | None


def desk_records(conn: Connection, codes: Sequence[str], *, connection_id: int | None = None,
                 tiktok_order_id: str | None = None, limit: int = 1000) -> list[DeskRecord]:
    """Open exceptions of ``codes`` (oldest first), optionally of one connection or order."""
    e, li, c = exceptions_t, links_t, connections_t
    stmt = (
        select(e.c.id, e.c.code, e.c.message, e.c.data, e.c.created_at, e.c.updated_at, li.c.id.label("link_id"),
               li.c.connection_id, c.c.name, li.c.tiktok_order_id, li.c.shopify_order_id,
               li.c.shopify_order_name)
        .join(li, li.c.id == e.c.link_id)
        .join(c, c.c.id == li.c.connection_id)
        .where(e.c.status == ExceptionStatus.OPEN.value, e.c.code.in_([str(x) for x in codes]))
        .order_by(e.c.created_at, e.c.id)
        .limit(limit)
    )
    if connection_id is not None:
        stmt = stmt.where(li.c.connection_id == connection_id)
    if tiktok_order_id is not None:
        stmt = stmt.where(li.c.tiktok_order_id == tiktok_order_id)
    return [
        DeskRecord(exception_id=r.id, code=r.code, message=r.message,
                   data=dict(r.data) if isinstance(r.data, dict) else {}, opened_at=r.created_at,
                   updated_at=r.updated_at, link_id=r.link_id, connection_id=r.connection_id,
                   connection=r.name, tiktok_order_id=r.tiktok_order_id, shopify_order_id=r.shopify_order_id,
                   shopify_order_name=r.shopify_order_name)
        for r in conn.execute(stmt)
    ]
