"""Buyers' data removed on request (Shopify's compliance webhooks, ``web/compliance.py``).

What OrderBridge holds about a buyer sits in each link's TikTok and Shopify snapshots, in the
raw webhook bodies and headers of the inbox, and in the data of timeline entries and
exceptions. ``clear_snapshots`` forgets one order's snapshots (the worker reads the truth
again if it still needs it); ``redact_shop`` leaves none of a shop's buyers' data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, select, update

from orderbridge.adapters.db.scrub import secure_delete
from orderbridge.adapters.db.tables import events as ev
from orderbridge.adapters.db.tables import inbox as ib
from orderbridge.adapters.db.tables import order_exceptions as ex
from orderbridge.adapters.db.tables import order_links as t
from orderbridge.adapters.db.types import InboxSource

__all__ = ["clear_snapshots", "links_of_shopify_orders", "redact_shop"]

# The header of a Shopify delivery that names its store: a delivery that matched no
# connection is the shop's if it names the shop's domain.
_DOMAIN_HEADER: Final = "x-shopify-shop-domain"
# The one delivery kept as it came: the shop/redact request itself.
_KEPT_TOPIC: Final = "shop/redact"


def links_of_shopify_orders(
    conn: Connection, connection_ids: Sequence[int], refs: Sequence[str]
) -> list[tuple[int, str]]:
    """``(link id, TikTok order id)`` of these connections' links whose Shopify order id is
    one of ``refs``, in id order."""
    if not refs or not connection_ids:
        return []
    rows = conn.execute(select(t.c.id, t.c.tiktok_order_id).where(
        t.c.connection_id.in_(list(connection_ids)), t.c.shopify_order_id.in_(list(refs))).order_by(t.c.id))
    return [(int(r[0]), str(r[1])) for r in rows]


def clear_snapshots(conn: Connection, link_ids: Sequence[int], now: datetime) -> None:
    """Forget the TikTok and Shopify snapshots of these links."""
    if link_ids:
        conn.execute(update(t).where(t.c.id.in_(list(link_ids)))
                     .values(tiktok_snapshot=None, shopify_snapshot=None, updated_at=now))


def redact_shop(
    conn: Connection, connection_ids: Sequence[int], domain: str, now: datetime, *, redacted_body: bytes
) -> int:
    """Leave no copy of a shop's buyers' data; returns how many orders' snapshots went.

    Snapshots, raw bodies (replaced by ``redacted_body``) and headers (the ``customers/*``
    ones too, which name buyers; deliveries of this shop that matched no connection as
    well, all but the ``shop/redact`` request), the data of timeline entries and
    exceptions. Bytes freed are zeroed (SQLite, ``scrub.secure_delete``); the caller then
    vacuums and empties the log after commit (``scrub.flush_deleted``).
    """
    cids = list(connection_ids)
    secure_delete(conn)
    # Subqueries, not id lists: a shop's orders may outnumber a statement's parameters.
    ids = select(t.c.id).where(t.c.connection_id.in_(cids)).scalar_subquery()
    count = int(conn.execute(update(t).where(t.c.connection_id.in_(cids))
                             .values(tiktok_snapshot=None, shopify_snapshot=None, updated_at=now)).rowcount)
    unmatched = [int(r.id) for r in conn.execute(
        select(ib.c.id, ib.c.headers).where(ib.c.connection_id.is_(None), ib.c.source == InboxSource.SHOPIFY))
        if isinstance(r.headers, dict) and str(r.headers.get(_DOMAIN_HEADER, "")).lower() == domain.lower()]
    conn.execute(update(ib).where(
        ib.c.connection_id.in_(cids) | ib.c.id.in_(unmatched),
        ib.c.topic.is_(None) | (ib.c.topic != _KEPT_TOPIC),
    ).values(body=redacted_body, headers=None))
    conn.execute(update(ev).where(ev.c.connection_id.in_(cids) | ev.c.link_id.in_(ids), ev.c.data.is_not(None))
                 .values(data=None))
    conn.execute(update(ex).where(ex.c.link_id.in_(ids)).values(data=None))
    return count
