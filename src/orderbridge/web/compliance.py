"""Shopify's mandatory compliance webhooks: what we hold about buyers, and redaction.

What OrderBridge holds about a buyer: TikTok's *relay* email (never the real one), the
recipient's name, phone and address, inside each link's TikTok and Shopify snapshots and
inside the raw webhook bodies in the inbox (Shopify's orders/* bodies carry the address).
Tokens and ids are not personal data.

- ``customers/data_request``: recorded on the connection's timeline with the TikTok
  orders we hold for the orders named (the merchant answers the buyer; Shopify itself
  holds the same data).
- ``customers/redact``: the snapshots of the links of ``orders_to_redact`` are cleared
  (the worker fetches the truth again while an order is still active).
- ``shop/redact`` (48 h after uninstall): every link's snapshots are cleared and the raw
  bodies of the connection's inbox entries are replaced by a redaction marker.

Inbox bodies of single orders (``customers/redact``) are not searched: they go with the
inbox retention (``inbox.purge_processed``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, select, update

from orderbridge.adapters.db import EventKind, events
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.adapters.db.tables import order_links

__all__ = ["REDACTED_BODY", "handle"]

REDACTED_BODY: Final = b'{"redacted":true}'
_ORDER_GID: Final = "gid://shopify/Order/"
_COMPLIANCE_TOPICS: Final = ("customers/data_request", "customers/redact", "shop/redact")


def _order_refs(values: Any) -> list[str]:
    refs: list[str] = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, bool) or not isinstance(value, str | int):
            continue
        text = str(value)
        numeric = text.removeprefix(_ORDER_GID)
        refs.extend([numeric, _ORDER_GID + numeric])
    return refs


def _links(conn: Connection, cids: list[int], refs: list[str]) -> list[tuple[int, str]]:
    if not refs or not cids:
        return []
    ol = order_links
    rows = conn.execute(select(ol.c.id, ol.c.tiktok_order_id).where(
        ol.c.connection_id.in_(cids), ol.c.shopify_order_id.in_(refs)).order_by(ol.c.id))
    return [(int(r[0]), str(r[1])) for r in rows]


def _clear_snapshots(conn: Connection, link_ids: list[int], now: datetime) -> None:
    if link_ids:
        conn.execute(update(order_links).where(order_links.c.id.in_(link_ids))
                     .values(tiktok_snapshot=None, shopify_snapshot=None, updated_at=now))


def handle(conn: Connection, topic: str, payload: dict[str, Any], cids: list[int], domain: str,
           now: datetime) -> None:
    """Act on one compliance webhook (inside the intake transaction)."""
    if topic == "customers/data_request":
        held = _links(conn, cids, _order_refs(payload.get("orders_requested")))
        for cid in cids:
            events.append(conn, None, EventKind.WARNING,
                          f"Customer data request from {domain}: we hold relay email, name, phone and "
                          f"address in the snapshots of {len(held)} order(s)",
                          {"customer": payload.get("customer"), "tiktok_orders": [t for _, t in held]},
                          at=now, connection_id=cid)
    elif topic == "customers/redact":
        held = _links(conn, cids, _order_refs(payload.get("orders_to_redact")))
        _clear_snapshots(conn, [i for i, _ in held], now)
        for link_id, _ in held:
            events.append(conn, link_id, EventKind.NOTE, "Buyer data redacted (customers/redact)", at=now)
        for cid in cids:
            events.append(conn, None, EventKind.EVENT,
                          f"customers/redact: snapshots of {len(held)} order(s) cleared",
                          {"tiktok_orders": [t for _, t in held]}, at=now, connection_id=cid)
    elif topic == "shop/redact" and cids:
        ids = [int(i) for i in conn.execute(
            select(order_links.c.id).where(order_links.c.connection_id.in_(cids))).scalars()]
        _clear_snapshots(conn, ids, now)
        conn.execute(update(inbox_table).where(
            inbox_table.c.connection_id.in_(cids),
            inbox_table.c.topic.is_(None) | inbox_table.c.topic.not_in(_COMPLIANCE_TOPICS),
        ).values(body=REDACTED_BODY, headers=None))
        for cid in cids:
            events.append(conn, None, EventKind.EVENT,
                          f"shop/redact: snapshots of {len(ids)} order(s) and the inbox bodies cleared",
                          at=now, connection_id=cid)
