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

from orderbridge.adapters.db import Connection, EventKind, events, redaction

__all__ = ["REDACTED_BODY", "handle"]

REDACTED_BODY: Final = b'{"redacted":true}'
_ORDER_GID: Final = "gid://shopify/Order/"


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


def handle(conn: Connection, topic: str, payload: dict[str, Any], cids: list[int], domain: str,
           now: datetime) -> None:
    """Act on one compliance webhook (inside the intake transaction)."""
    if topic == "customers/data_request":
        held = redaction.links_of_shopify_orders(conn, cids, _order_refs(payload.get("orders_requested")))
        for cid in cids:
            events.append(conn, None, EventKind.WARNING,
                          f"Customer data request from {domain}: we hold relay email, name, phone and "
                          f"address in the snapshots of {len(held)} order(s)",
                          {"customer_id": _customer_id(payload), "tiktok_orders": [t for _, t in held]},
                          at=now, connection_id=cid)
    elif topic == "customers/redact":
        held = redaction.links_of_shopify_orders(conn, cids, _order_refs(payload.get("orders_to_redact")))
        redaction.clear_snapshots(conn, [i for i, _ in held], now)
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
    count = redaction.redact_shop(conn, cids, domain, now, redacted_body=REDACTED_BODY)
    for cid in cids:
        events.append(conn, None, EventKind.EVENT,
                      f"shop/redact: the buyer data of {count} order(s) deleted (snapshots, webhook "
                      "bodies, timeline and exception details)", at=now, connection_id=cid)
