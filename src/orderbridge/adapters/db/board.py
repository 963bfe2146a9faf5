"""What the dashboard reads: per-connection overview, a keyset-paged order list, the
exceptions queue grouped by code, and one order's whole story.

Read-only queries, each one or two statements, so a page stays fast with a million orders:
the order list pages by ``(first_seen_at, id)`` (an index-ordered range, never ``OFFSET``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, and_, func, or_, select

from orderbridge.adapters.db.events import EventRow, timeline
from orderbridge.adapters.db.links import LinkRow, get_link
from orderbridge.adapters.db.order_exceptions import ExceptionRow
from orderbridge.adapters.db.tables import connections, inbox, order_exceptions, order_links

__all__ = [
    "ConnectionOverview",
    "ExceptionGroup",
    "OrderDetail",
    "OrderLine",
    "OrderPage",
    "exception_groups",
    "order_detail",
    "order_page",
    "overview",
]

OPEN: Final = "open"
MAX_PAGE: Final = 200


@dataclass(frozen=True, slots=True)
class ConnectionOverview:
    """One connection at a glance."""

    id: int
    name: str
    status: str
    shopify_domain: str
    tiktok_shop_name: str | None
    by_state: dict[str, int]
    open_exceptions: int
    last_webhook_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One row of the order list."""

    id: int
    connection_id: int
    tiktok_order_id: str
    tiktok_status: str | None
    state: str
    shopify_order_id: str | None
    shopify_order_name: str | None
    first_seen_at: datetime
    next_due_at: datetime | None
    last_error: str | None
    open_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderPage:
    """A page of orders, newest first; ``after`` continues the list (None: the last page)."""

    lines: list[OrderLine]
    after: str | None


@dataclass(frozen=True, slots=True)
class ExceptionGroup:
    """The open exceptions of one code, oldest first."""

    code: str
    items: list[tuple[ExceptionRow, str]] = field(default_factory=list)  # (exception, TikTok order id)


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """One order: the link (memory, both snapshots), every exception, the timeline."""

    link: LinkRow
    exceptions: list[ExceptionRow]
    events: list[EventRow]


def overview(conn: Connection) -> list[ConnectionOverview]:
    """Every connection: orders by state, open exceptions, the last webhook it received."""
    c, t, e = connections, order_links, order_exceptions
    states: dict[int, dict[str, int]] = defaultdict(dict)
    for cid, state, n in conn.execute(select(t.c.connection_id, t.c.state, func.count())
                                      .group_by(t.c.connection_id, t.c.state)):
        states[int(cid)][str(state)] = int(n)
    open_counts: dict[int, int] = {
        int(cid): int(n) for cid, n in conn.execute(
            select(t.c.connection_id, func.count()).join(e, e.c.link_id == t.c.id)
            .where(e.c.status == OPEN).group_by(t.c.connection_id))}
    last_hooks: dict[int, datetime] = {
        int(cid): at for cid, at in conn.execute(
            select(inbox.c.connection_id, func.max(inbox.c.received_at))
            .where(inbox.c.connection_id.is_not(None)).group_by(inbox.c.connection_id))}
    rows = conn.execute(select(c.c.id, c.c.name, c.c.status, c.c.shopify_domain, c.c.tiktok_shop_name)
                        .order_by(c.c.id))
    return [
        ConnectionOverview(id=int(r.id), name=r.name, status=r.status, shopify_domain=r.shopify_domain,
                           tiktok_shop_name=r.tiktok_shop_name, by_state=states.get(int(r.id), {}),
                           open_exceptions=open_counts.get(int(r.id), 0),
                           last_webhook_at=last_hooks.get(int(r.id)))
        for r in rows
    ]


def _cursor(line: OrderLine) -> str:
    return f"{line.first_seen_at.isoformat()}|{line.id}"


def _parse_cursor(after: str) -> tuple[datetime, int] | None:
    at, _, ident = after.partition("|")
    try:
        return datetime.fromisoformat(at), int(ident)
    except ValueError:
        return None


def order_page(
    conn: Connection, *, connection_id: int | None = None, state: str | None = None,
    exception_code: str | None = None, search: str | None = None, after: str | None = None,
    limit: int = 50,
) -> OrderPage:
    """Orders newest first, filtered; ``search`` matches a TikTok order id, a Shopify order
    name (with or without ``#``) or a Shopify order id (GID or number). ``after`` is the
    cursor of the previous page (an unreadable cursor starts from the top)."""
    t, e = order_links, order_exceptions
    limit = max(1, min(limit, MAX_PAGE))
    stmt = select(t).order_by(t.c.first_seen_at.desc(), t.c.id.desc()).limit(limit + 1)
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    if state:
        stmt = stmt.where(t.c.state == state)
    if exception_code:
        stmt = stmt.where(t.c.id.in_(select(e.c.link_id).where(e.c.code == exception_code, e.c.status == OPEN)))
    if search:
        text = search.strip()
        name = text if text.startswith("#") else f"#{text}"
        number = text.rsplit("/", 1)[-1]
        stmt = stmt.where(or_(t.c.tiktok_order_id == text, t.c.shopify_order_name == name,
                              t.c.shopify_order_name == text, t.c.shopify_order_id == text,
                              t.c.shopify_order_id == f"gid://shopify/Order/{number}"))
    key = _parse_cursor(after) if after else None
    if key is not None:
        at, ident = key
        stmt = stmt.where(or_(t.c.first_seen_at < at, and_(t.c.first_seen_at == at, t.c.id < ident)))
    rows = list(conn.execute(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    codes = open_codes(conn, [int(r.id) for r in rows])
    lines = [
        OrderLine(id=int(r.id), connection_id=int(r.connection_id), tiktok_order_id=r.tiktok_order_id,
                  tiktok_status=r.tiktok_status, state=r.state, shopify_order_id=r.shopify_order_id,
                  shopify_order_name=r.shopify_order_name, first_seen_at=r.first_seen_at,
                  next_due_at=r.next_due_at, last_error=r.last_error, open_codes=tuple(codes[int(r.id)]))
        for r in rows
    ]
    return OrderPage(lines=lines, after=_cursor(lines[-1]) if more and lines else None)


def open_codes(conn: Connection, link_ids: Sequence[int]) -> dict[int, list[str]]:
    """The open exception codes of each link."""
    out: dict[int, list[str]] = {i: [] for i in link_ids}
    if link_ids:
        e = order_exceptions
        for link_id, code in conn.execute(select(e.c.link_id, e.c.code).where(
                e.c.link_id.in_(list(link_ids)), e.c.status == OPEN).order_by(e.c.id)):
            out[int(link_id)].append(str(code))
    return out


def exception_groups(conn: Connection, *, limit_per_code: int = 100) -> list[ExceptionGroup]:
    """Open exceptions grouped by code (the largest group first), oldest first in each."""
    e, t = order_exceptions, order_links
    groups: dict[str, ExceptionGroup] = {}
    rows = conn.execute(select(e, t.c.tiktok_order_id.label("tiktok_order_id"))
                        .join(t, t.c.id == e.c.link_id).where(e.c.status == OPEN)
                        .order_by(e.c.created_at, e.c.id))
    for r in rows:
        data: dict[str, Any] = dict(r._mapping)
        tiktok_id = str(data.pop("tiktok_order_id"))
        group = groups.setdefault(str(data["code"]), ExceptionGroup(code=str(data["code"])))
        if len(group.items) < limit_per_code:
            group.items.append((ExceptionRow(**data), tiktok_id))
    return sorted(groups.values(), key=lambda g: (-len(g.items), g.code))


def order_detail(conn: Connection, link_id: int) -> OrderDetail | None:
    """One order's whole story, or None."""
    link = get_link(conn, link_id)
    if link is None:
        return None
    e = order_exceptions
    exceptions = [ExceptionRow(**dict(r._mapping))
                  for r in conn.execute(select(e).where(e.c.link_id == link_id).order_by(e.c.id))]
    return OrderDetail(link=link, exceptions=exceptions, events=timeline(conn, link_id))
