"""Shopify's mandatory compliance webhooks: what we hold about buyers, and redaction.

What OrderBridge holds about a buyer: TikTok's *relay* email (never the real one), the
recipient's name, phone and address, inside each link's TikTok and Shopify snapshots and
inside the raw webhook bodies in the inbox (Shopify's orders/* bodies carry the address).
Tokens and ids are not personal data.

- ``customers/data_request``: recorded on the connection's timeline with the customer's id
  (not their email or phone) and the TikTok orders we hold for the orders named (the
  merchant answers the buyer; Shopify itself holds the same data).
- ``customers/redact``: the snapshots of the links of ``orders_to_redact`` are cleared
  (the worker fetches the truth again while an order is still active).
- ``shop/redact`` (48 h after uninstall): nothing of the shop's buyers is left
  (``_redact_shop``; on SQLite the file is vacuumed and its log emptied after).

Inbox bodies of single orders (``customers/redact``) are not searched: they go with the
inbox retention (``engine/retention.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, select, update

from orderbridge.adapters.db import EventKind, InboxSource, events
from orderbridge.adapters.db.scrub import secure_delete
from orderbridge.adapters.db.tables import events as events_table
from orderbridge.adapters.db.tables import inbox as inbox_table
from orderbridge.adapters.db.tables import order_exceptions, order_links

__all__ = ["REDACTED_BODY", "handle"]

REDACTED_BODY: Final = b'{"redacted":true}'
_ORDER_GID: Final = "gid://shopify/Order/"
_DOMAIN_HEADER: Final = "x-shopify-shop-domain"


def _order_refs(values: Any) -> list[str]:
    refs: list[str] = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, bool) or not isinstance(value, str | int):
            continue
        text = str(value)
        numeric = text.removeprefix(_ORDER_GID)
        refs.extend([numeric, _ORDER_GID + numeric])
    return refs


def _customer_id(payload: dict[str, Any]) -> Any:
    """Only the customer's id is kept: the request's email and phone are the buyer's data."""
    customer = payload.get("customer")
    return customer.get("id") if isinstance(customer, dict) else None


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
                          {"customer_id": _customer_id(payload), "tiktok_orders": [t for _, t in held]},
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
        _redact_shop(conn, cids, domain, now)


def _redact_shop(conn: Connection, cids: list[int], domain: str, now: datetime) -> None:
    """Leave no copy of the shop's buyers' data: snapshots, raw bodies and headers (the
    ``customers/*`` ones too, which name buyers; unmatched deliveries of this shop as well),
    the data of timeline entries and exceptions (postal codes, states, API answers). Bytes
    freed are zeroed (SQLite); the caller then vacuums and empties the log (``scrub``)."""
    secure_delete(conn)
    # Subqueries, not id lists: a shop's orders may outnumber a statement's parameters.
    ids = select(order_links.c.id).where(order_links.c.connection_id.in_(cids)).scalar_subquery()
    count = conn.execute(update(order_links).where(order_links.c.connection_id.in_(cids))
                         .values(tiktok_snapshot=None, shopify_snapshot=None, updated_at=now)).rowcount
    ib = inbox_table
    unmatched = [int(r.id) for r in conn.execute(
        select(ib.c.id, ib.c.headers).where(ib.c.connection_id.is_(None), ib.c.source == InboxSource.SHOPIFY))
        if isinstance(r.headers, dict) and str(r.headers.get(_DOMAIN_HEADER, "")).lower() == domain.lower()]
    conn.execute(update(ib).where(
        ib.c.connection_id.in_(cids) | ib.c.id.in_(unmatched),
        ib.c.topic.is_(None) | (ib.c.topic != "shop/redact"),
    ).values(body=REDACTED_BODY, headers=None))
    ev = events_table
    conn.execute(update(ev).where(ev.c.connection_id.in_(cids) | ev.c.link_id.in_(ids), ev.c.data.is_not(None))
                 .values(data=None))
    conn.execute(update(order_exceptions).where(order_exceptions.c.link_id.in_(ids)).values(data=None))
    for cid in cids:
        events.append(conn, None, EventKind.EVENT,
                      f"shop/redact: the buyer data of {count} order(s) deleted (snapshots, webhook "
                      "bodies, timeline and exception details)", at=now, connection_id=cid)
