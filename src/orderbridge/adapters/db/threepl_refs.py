"""3PL webhook intake in the database: the delivery in the inbox and the orders it names due,
in one transaction (the caller's).

A 3PL names an order by the reference the seller's Shopify->3PL app gave it: the Shopify
order name, the Shopify order id (digits) or the TikTok order id. A reference is looked up
as any of the three within the connection (they cannot collide: names start with ``#`` or
a shop prefix, Shopify ids and TikTok ids differ in length and both are digits only within
their own column).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, or_, select, update

from orderbridge.adapters.db import inbox, links
from orderbridge.adapters.db.tables import connections as connections_t
from orderbridge.adapters.db.tables import inbox as inbox_t
from orderbridge.adapters.db.tables import order_links as links_t

__all__ = ["connection_id_named", "links_by_reference", "store_threepl_delivery"]

_SHOPIFY_GID: Final = "gid://shopify/Order/"


def connection_id_named(conn: Connection, name: str) -> int | None:
    """The id of the connection called ``name``."""
    found = conn.execute(select(connections_t.c.id).where(connections_t.c.name == name)).scalar()
    return None if found is None else int(found)


def links_by_reference(conn: Connection, connection_id: int, references: Sequence[str]) -> list[int]:
    """The links of the connection whose order one of ``references`` names."""
    refs = [r for r in dict.fromkeys(references) if r]
    if not refs:
        return []
    li = links_t
    stmt = select(li.c.id).where(li.c.connection_id == connection_id, or_(
        li.c.tiktok_order_id.in_(refs), li.c.shopify_order_name.in_(refs),
        li.c.shopify_order_id.in_([_SHOPIFY_GID + r for r in refs if r.isdigit()])))
    return [int(i) for i in conn.execute(stmt).scalars()]


def store_threepl_delivery(
    conn: Connection, source: str, event_id: str, *, connection_id: int, received_at: datetime, body: bytes,
    topic: str | None, headers: dict[str, Any], references: Sequence[str], error: str | None = None,
) -> tuple[bool, list[int]]:
    """Store the delivery (unique per source and event id) and make the orders it names due.

    Returns ``(new, link ids made due)``; a redelivery changes nothing. ``error``: a signed
    delivery that could not be read is kept with it (processed, nothing made due)."""
    new = inbox.store(conn, source, event_id, received_at=received_at, body=body, topic=topic,
                      headers=headers, connection_id=connection_id)
    if not new:
        return False, []
    due = [] if error is not None else links_by_reference(conn, connection_id, references)
    if due:
        links.mark_due(conn, received_at, ids=due)
    conn.execute(update(inbox_t).where(inbox_t.c.source == source, inbox_t.c.event_id == event_id)
                 .values(processed_at=received_at, error=error))
    return True, due
