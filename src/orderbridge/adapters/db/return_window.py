"""Delivered orders as stored (their TikTok snapshot), for the 30-day return window.

One statement per connection filter; the window itself is ``domain/returns.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from orderbridge.adapters.db.tables import connections, order_links

__all__ = ["DeliveredRow", "delivered_orders"]

DELIVERED = "DELIVERED"  # TikTok's status while the return window is open


@dataclass(frozen=True, slots=True)
class DeliveredRow:
    link_id: int
    connection_id: int
    connection: str
    tiktok_order_id: str
    shopify_order_name: str | None
    snapshot: Any


def delivered_orders(conn: Connection, *, connection_id: int | None = None) -> list[DeliveredRow]:
    """Links whose TikTok order is DELIVERED, with the order as TikTok last sent it."""
    t = order_links
    stmt = (
        select(t.c.id, t.c.connection_id, connections.c.name, t.c.tiktok_order_id,
               t.c.shopify_order_name, t.c.tiktok_snapshot)
        .join(connections, connections.c.id == t.c.connection_id)
        .where(t.c.tiktok_status == DELIVERED)
        .order_by(t.c.id)
    )
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    return [DeliveredRow(int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], r[5]) for r in conn.execute(stmt)]
