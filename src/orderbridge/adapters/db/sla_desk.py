"""The SLA desk's reads (``engine/sla_desk.py`` turns them into desk rows).

``desk_links`` lists the links whose TikTok status puts them on the desk, with their
connection's name; ``desk_snapshots`` reads the TikTok snapshots of some of them (the
caller parses only those that changed since its last read).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from orderbridge.adapters.db.tables import connections as connections_t
from orderbridge.adapters.db.tables import order_links as links_t

__all__ = ["DeskLink", "DeskSnapshot", "desk_links", "desk_snapshots"]


@dataclass(frozen=True, slots=True)
class DeskLink:
    """A link on the desk (``name``: its connection's)."""

    id: int
    connection_id: int
    name: str
    tiktok_order_id: str
    shopify_order_id: str | None
    shopify_order_name: str | None
    state: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeskSnapshot:
    """A link's TikTok order as TikTok sent it, and when the link last changed."""

    id: int
    tiktok_order_id: str
    connection_id: int
    updated_at: datetime
    tiktok_snapshot: Any


def desk_links(
    conn: Connection, statuses: Collection[str], *, connection_id: int | None = None
) -> list[DeskLink]:
    """The links with a TikTok snapshot whose TikTok status is one of ``statuses`` (of one
    connection, if given)."""
    stmt = (
        select(links_t.c.id, links_t.c.connection_id, connections_t.c.name, links_t.c.tiktok_order_id,
               links_t.c.shopify_order_id, links_t.c.shopify_order_name, links_t.c.state,
               links_t.c.updated_at)
        .join(connections_t, connections_t.c.id == links_t.c.connection_id)
        .where(links_t.c.tiktok_status.in_(list(statuses)), links_t.c.tiktok_snapshot.is_not(None))
    )
    if connection_id is not None:
        stmt = stmt.where(links_t.c.connection_id == connection_id)
    return [DeskLink(id=r.id, connection_id=r.connection_id, name=r.name,
                     tiktok_order_id=r.tiktok_order_id, shopify_order_id=r.shopify_order_id,
                     shopify_order_name=r.shopify_order_name, state=r.state, updated_at=r.updated_at)
            for r in conn.execute(stmt)]


def desk_snapshots(conn: Connection, link_ids: Sequence[int],
                   statuses: Collection[str] | None = None) -> list[DeskSnapshot]:
    """The TikTok snapshots of these links (send a few hundred ids at a time); with
    ``statuses``, only of links in one of those TikTok statuses that have a snapshot."""
    stmt = (select(links_t.c.id, links_t.c.tiktok_order_id, links_t.c.connection_id,
                   links_t.c.updated_at, links_t.c.tiktok_snapshot)
            .where(links_t.c.id.in_(list(link_ids))))
    if statuses is not None:
        stmt = stmt.where(links_t.c.tiktok_status.in_(list(statuses)), links_t.c.tiktok_snapshot.is_not(None))
    rows = conn.execute(stmt)
    return [DeskSnapshot(id=r.id, tiktok_order_id=r.tiktok_order_id, connection_id=r.connection_id,
                         updated_at=r.updated_at, tiktok_snapshot=r.tiktok_snapshot) for r in rows]
