"""What webhook intake reads and writes besides the inbox row and the links' due times.

``web/intake.py`` stores a delivery (``inbox.store``), makes the links it names due
(``links``) and, in the same transaction, uses these: which connection a TikTok shop or a
Shopify store is, which links a Shopify order or fulfilment order concerns, a seller's
deauthorisation, and the delivery's outcome on its inbox row. The statements every delivery
runs are built once, their values bound as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Text, bindparam, cast, select, update

from orderbridge.adapters.db.tables import connections as c
from orderbridge.adapters.db.tables import inbox as ib
from orderbridge.adapters.db.tables import order_links as t
from orderbridge.adapters.db.types import ConnectionStatus

__all__ = [
    "disconnect",
    "finish",
    "link_ids_of_shopify_order",
    "links_whose_memory_names",
    "live_connections",
    "shopify_store_connections",
    "tiktok_shop_connection",
    "unprocessed",
]

_DISCONNECTED: Final = ConnectionStatus.DISCONNECTED.value
_FINISH: Final = (
    update(ib)
    .where(ib.c.source == bindparam("b_source"), ib.c.event_id == bindparam("b_event"))
    .values(processed_at=bindparam("b_now"), error=bindparam("b_error"))
)
_SHOP_CONNECTION: Final = select(c.c.id).where(c.c.tiktok_shop_id == bindparam("b_shop"))


def finish(conn: Connection, source: str, event_id: str, now: datetime, error: str | None) -> None:
    """The delivery ``(source, event_id)`` was handled at ``now`` (``error``: why not acted on)."""
    conn.execute(_FINISH, {"b_source": source, "b_event": event_id, "b_now": now, "b_error": error})


def unprocessed(conn: Connection, connection_id: int) -> list[tuple[str, str, datetime]]:
    """``(source, event id, received at)`` of a connection's deliveries never handled."""
    rows = conn.execute(select(ib.c.source, ib.c.event_id, ib.c.received_at)
                        .where(ib.c.connection_id == connection_id, ib.c.processed_at.is_(None)))
    return [(str(source), str(event), at) for source, event, at in rows]


def tiktok_shop_connection(conn: Connection, shop_id: str) -> int | None:
    """The id of the connection of this TikTok shop, if any."""
    found = conn.execute(_SHOP_CONNECTION, {"b_shop": shop_id}).scalar()
    return None if found is None else int(found)


def shopify_store_connections(conn: Connection, shop_domain: str) -> list[int]:
    """The ids of the connections of this Shopify store (any status), in id order."""
    return [int(i) for i in conn.execute(
        select(c.c.id).where(c.c.shopify_domain == shop_domain).order_by(c.c.id)).scalars()]


def live_connections(conn: Connection, connection_ids: Sequence[int], *, limit: int | None = None) -> list[int]:
    """Those of these connections that are not disconnected, in id order (at most ``limit``)."""
    if not connection_ids:
        return []
    stmt = select(c.c.id).where(c.c.id.in_(list(connection_ids)), c.c.status != _DISCONNECTED).order_by(c.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [int(i) for i in conn.execute(stmt).scalars()]


def disconnect(conn: Connection, connection_id: int, now: datetime) -> None:
    """Mark a connection disconnected (the seller deauthorised the app)."""
    conn.execute(update(c).where(c.c.id == connection_id).values(status=_DISCONNECTED, updated_at=now))


def link_ids_of_shopify_order(conn: Connection, connection_id: int, refs: Sequence[str]) -> list[int]:
    """The links of a connection whose Shopify order id is one of ``refs`` (gid or numeric)."""
    if not refs:
        return []
    return [int(i) for i in conn.execute(select(t.c.id).where(
        t.c.connection_id == connection_id, t.c.shopify_order_id.in_(list(refs)))).scalars()]


def links_whose_memory_names(
    conn: Connection, connection_id: int, value: str, *, state: str
) -> list[tuple[int, Any]]:
    """``(id, memory)`` of a connection's links in ``state`` whose memory holds the string
    ``value`` (a fulfilment order gid): a text search, kept small by the state."""
    rows = conn.execute(select(t.c.id, t.c.memory).where(
        t.c.connection_id == connection_id, t.c.state == state,
        cast(t.c.memory, Text).like(f'%"{value}"%'))).all()
    return [(int(link_id), memory) for link_id, memory in rows]
