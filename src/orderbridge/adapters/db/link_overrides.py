"""Writes to a link no worker holds, through the same versioned save as a worker's.

A worker writes a link only under its lease, at the version its claim returned
(``links.save_link``). Two writers hold no lease: an operator's override (the API's, the
dashboard's and the command line's buttons, ``web/overrides.py``) and the backfill that
points a new link at a Shopify order made before (``adopt_existing``, ``engine/poller.py``).
``save_unleased`` first takes the link for ``owner`` inside the caller's transaction, only
while it is still at the version the caller read and no live lease holds it, and then
writes through ``links.save_link`` with ``release=True``. The take bumps nothing (the save
bumps the version once) and its lease ends at ``now``: nothing is ever left held, even if
the transaction went no further. One version check, one save, for workers and people alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Unpack

from sqlalchemy import Connection, bindparam, or_, update

from orderbridge.adapters.db import links
from orderbridge.adapters.db.links import LinkChanges, LinkRow
from orderbridge.adapters.db.tables import order_links as t

__all__ = ["ADOPTER", "adopt_existing", "save_unleased"]

# Who holds a link for the instant of the backfill's adoption (never seen outside it).
ADOPTER: Final = "backfill-adoption"

# The link at ``b_version`` and free (no lease, or an expired one) is taken by ``b_owner``
# until ``b_now``: the lease ends the moment it begins. Built once.
_NOW: Final = bindparam("b_now", type_=t.c.lease_expires_at.type)
_TAKE: Final = (
    update(t)
    .where(
        t.c.id == bindparam("b_id"),
        t.c.version == bindparam("b_version"),
        or_(t.c.lease_owner.is_(None), t.c.lease_expires_at <= _NOW),
    )
    .values(lease_owner=bindparam("b_owner"), lease_expires_at=_NOW)
)


def save_unleased(
    conn: Connection, link: LinkRow, owner: str, *, now: datetime, **changes: Unpack[LinkChanges]
) -> LinkRow | None:
    """Write ``changes`` to a link no live lease holds, still at ``link.version``; bump the
    version once and return the new row. ``None`` when a worker holds the link or it changed
    since ``link`` was read (read it again, and try again or give up). The link is left
    unleased; its ``next_due_at`` changes only if ``changes`` says so (``mark_due`` after)."""
    params = {"b_id": link.id, "b_version": link.version, "b_owner": owner, "b_now": now}
    if conn.execute(_TAKE, params).rowcount != 1:
        return None
    return links.save_link(conn, link, owner, now=now, release=True, **changes)


def adopt_existing(
    conn: Connection, link_id: int, shopify_order_id: str, name: str, memory: dict[str, Any],
    *, state: str, now: datetime,
) -> bool:
    """Point an untouched, unleased link at a Shopify order that already exists (backfill),
    due now; False when a worker got to the link first (it then finds the order by itself)."""
    link = links.get_link(conn, link_id)
    if link is None or link.shopify_order_id is not None or link.state != links.INITIAL_STATE:
        return False
    return save_unleased(conn, link, ADOPTER, now=now, shopify_order_id=shopify_order_id,
                         shopify_order_name=name, state=state, memory=memory, next_due_at=now) is not None
