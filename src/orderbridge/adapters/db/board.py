"""What the dashboard reads: per-connection overview, a keyset-paged order list, the
exceptions queue grouped by code, and one order's whole story.

Read-only queries, each one or two statements, so a page stays fast with a million orders:
the order list pages by ``(first_seen_at, id)`` (an index-ordered range, never ``OFFSET``).
Every query takes a ``Scope`` (``grants.py``): the connections the user may see (None: all);
an order outside it is as absent as an order that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    cast,
    false,
    func,
    or_,
    select,
    union_all,
)

from orderbridge.adapters.db.events import EventRow, timeline
from orderbridge.adapters.db.grants import Scope, in_scope
from orderbridge.adapters.db.links import LinkRow, get_link
from orderbridge.adapters.db.order_exceptions import ExceptionRow
from orderbridge.adapters.db.tables import connections, inbox, order_exceptions, order_links

__all__ = [
    "ConnectionOverview",
    "ExceptionGroup",
    "OrderDetail",
    "OrderLine",
    "OrderPage",
    "OrderQuery",
    "exception_groups",
    "order_detail",
    "order_page",
    "overview",
]

OPEN: Final = "open"
MAX_PAGE: Final = 200
ANY_EXCEPTION: Final = "ANY"  # the exception filter: orders with any open exception
# How a cursor says which search found the page: exact ids (indexed) or the JSON text.
_EXACT, _DEEP = "x", "j"


def _scoped(column: Any, scope: Scope) -> ColumnElement[bool] | None:
    """``column IN scope`` (never matches for an empty scope); None for every connection."""
    if scope is None:
        return None
    return column.in_(sorted(scope)) if scope else false()


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


def overview(conn: Connection, scope: Scope = None) -> list[ConnectionOverview]:
    """Every connection in ``scope``: orders by state, open exceptions, the last webhook."""
    c, t, e = connections, order_links, order_exceptions

    def only(stmt: Any, column: Any) -> Any:
        where = _scoped(column, scope)
        return stmt if where is None else stmt.where(where)

    states: dict[int, dict[str, int]] = defaultdict(dict)
    for cid, state, n in conn.execute(only(select(t.c.connection_id, t.c.state, func.count()), t.c.connection_id)
                                      .group_by(t.c.connection_id, t.c.state)):
        states[int(cid)][str(state)] = int(n)
    open_counts: dict[int, int] = {
        int(cid): int(n) for cid, n in conn.execute(
            only(select(t.c.connection_id, func.count()).join(e, e.c.link_id == t.c.id)
                 .where(e.c.status == OPEN), t.c.connection_id).group_by(t.c.connection_id))}
    last_hooks: dict[int, datetime] = {
        int(cid): at for cid, at in conn.execute(
            only(select(inbox.c.connection_id, func.max(inbox.c.received_at))
                 .where(inbox.c.connection_id.is_not(None)), inbox.c.connection_id)
            .group_by(inbox.c.connection_id))}
    rows = conn.execute(only(select(c.c.id, c.c.name, c.c.status, c.c.shopify_domain, c.c.tiktok_shop_name),
                             c.c.id).order_by(c.c.id))
    return [
        ConnectionOverview(id=int(r.id), name=r.name, status=r.status, shopify_domain=r.shopify_domain,
                           tiktok_shop_name=r.tiktok_shop_name, by_state=states.get(int(r.id), {}),
                           open_exceptions=open_counts.get(int(r.id), 0),
                           last_webhook_at=last_hooks.get(int(r.id)))
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """What the order list shows: filters (all optional) and where the page starts.

    ``search`` matches a TikTok order id, a Shopify order name (with or without ``#``) or id
    (GID or number) through indexes; when none matches, a tracking number or a SKU (seller
    SKU or TikTok SKU id) in the stored memory and TikTok order (a scan, narrowed by the other
    filters). ``exception_code`` ``ANY``: any open exception. ``link_ids``: only these orders
    (the SLA-risk filter, from the desk). ``since``/``until``: first seen in ``[since, until)``.
    """

    connection_id: int | None = None
    state: str | None = None
    tiktok_status: str | None = None
    exception_code: str | None = None
    search: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    link_ids: frozenset[int] | None = None
    after: str | None = None
    limit: int = 50


def _cursor(line: OrderLine, mode: str) -> str:
    return f"{line.first_seen_at.isoformat()}|{line.id}|{mode}"


def _parse_cursor(after: str) -> tuple[datetime, int, str] | None:
    at, _, rest = after.partition("|")
    ident, _, mode = rest.partition("|")
    try:
        return datetime.fromisoformat(at), int(ident), (_DEEP if mode == _DEEP else _EXACT)
    except ValueError:
        return None


def _exact(conn: Connection, text: str) -> ColumnElement[bool]:
    """The orders whose TikTok id, Shopify name or Shopify id is ``text``: one indexed lookup
    per kind of id, run first, so the page's query is a lookup of those few ids (as one
    condition across columns it may walk the whole list looking for a match)."""
    t = order_links
    name = text if text.startswith("#") else f"#{text}"
    number = text.rsplit("/", 1)[-1]
    lookups = [select(t.c.id).where(t.c.tiktok_order_id == text),
               select(t.c.id).where(t.c.shopify_order_name.in_(sorted({name, text}))),
               select(t.c.id).where(t.c.shopify_order_id.in_(sorted({text, f"gid://shopify/Order/{number}"})))]
    ids = sorted({int(i) for i in conn.execute(union_all(*lookups)).scalars()})
    return t.c.id.in_(ids) if ids else false()


def _deep(text: str) -> ColumnElement[bool]:
    """The value as a JSON string anywhere in the memory (tracking numbers of the packages
    pushed) or the stored TikTok order (its lines' seller SKUs and SKU ids)."""
    t = order_links
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return or_(cast(t.c.memory, Text).contains(quoted, autoescape=True),
               cast(t.c.tiktok_snapshot, Text).contains(quoted, autoescape=True))


def order_page(conn: Connection, query: OrderQuery | None = None, scope: Scope = None, **filters: Any) -> OrderPage:
    """Orders newest first, filtered (``OrderQuery``; keyword filters build one), within
    ``scope``. An unreadable cursor starts from the top."""
    q = query or OrderQuery(**filters)
    key = _parse_cursor(q.after) if q.after else None
    text = (q.search or "").strip()[:200]
    if text and key is None:
        lines, more = _lines(conn, q, scope, _exact(conn, text), None, pinned=True)
        if lines:
            return OrderPage(lines=lines, after=_cursor(lines[-1], _EXACT) if more else None)
        lines, more = _lines(conn, q, scope, _deep(text), None)
        return OrderPage(lines=lines, after=_cursor(lines[-1], _DEEP) if more and lines else None)
    mode = key[2] if key else _EXACT
    match = (_deep(text) if mode == _DEEP else _exact(conn, text)) if text else None
    lines, more = _lines(conn, q, scope, match, key[:2] if key else None, pinned=bool(text) and mode == _EXACT)
    return OrderPage(lines=lines, after=_cursor(lines[-1], mode) if more and lines else None)


def _lines(conn: Connection, q: OrderQuery, scope: Scope, match: ColumnElement[bool] | None,
           key: tuple[datetime, int] | None, *, pinned: bool = False) -> tuple[list[OrderLine], bool]:
    """A page of lines. ``pinned``: ``match`` names a few ids (an exact search): the other
    filters are then written so no index serves them (``connection_id + 0``), which leaves
    the planner one good plan, looking those ids up (SQLite, without statistics, would
    otherwise walk the connection's whole list for them)."""
    t, e = order_links, order_exceptions
    limit = max(1, min(q.limit, MAX_PAGE))
    pinned = pinned or q.link_ids is not None
    cid: Any = t.c.connection_id + 0 if pinned else t.c.connection_id
    state: Any = t.c.state.concat("") if pinned else t.c.state
    status: Any = t.c.tiktok_status.concat("") if pinned else t.c.tiktok_status
    stmt = select(t.c.id, t.c.connection_id, t.c.tiktok_order_id, t.c.tiktok_status, t.c.state,
                  t.c.shopify_order_id, t.c.shopify_order_name, t.c.first_seen_at, t.c.next_due_at,
                  t.c.last_error).order_by(t.c.first_seen_at.desc(), t.c.id.desc()).limit(limit + 1)
    conditions: list[ColumnElement[bool] | None] = [_scoped(cid, scope), match]
    if q.connection_id is not None:
        conditions.append(cid == q.connection_id)
    if q.state:
        conditions.append(state == q.state)
    if q.tiktok_status:
        conditions.append(status == q.tiktok_status)
    if q.exception_code:
        which = e.c.status == OPEN if q.exception_code == ANY_EXCEPTION else and_(
            e.c.code == q.exception_code, e.c.status == OPEN)
        conditions.append(t.c.id.in_(select(e.c.link_id).where(which)))
    if q.link_ids is not None:
        conditions.append(t.c.id.in_(sorted(q.link_ids)) if q.link_ids else false())
    if q.since is not None:
        conditions.append(t.c.first_seen_at >= q.since)
    if q.until is not None:
        conditions.append(t.c.first_seen_at < q.until)
    if key is not None:
        at, ident = key
        conditions.append(or_(t.c.first_seen_at < at, and_(t.c.first_seen_at == at, t.c.id < ident)))
    for condition in conditions:
        if condition is not None:
            stmt = stmt.where(condition)
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
    return lines, more


def open_codes(conn: Connection, link_ids: Sequence[int]) -> dict[int, list[str]]:
    """The open exception codes of each link."""
    out: dict[int, list[str]] = {i: [] for i in link_ids}
    if link_ids:
        e = order_exceptions
        for link_id, code in conn.execute(select(e.c.link_id, e.c.code).where(
                e.c.link_id.in_(list(link_ids)), e.c.status == OPEN).order_by(e.c.id)):
            out[int(link_id)].append(str(code))
    return out


def exception_groups(conn: Connection, scope: Scope = None, *, limit_per_code: int = 100,
                     codes: Sequence[str] | None = None) -> list[ExceptionGroup]:
    """Open exceptions (of ``codes``, or all) in ``scope``, grouped by code (the largest
    group first), oldest first in each."""
    e, t = order_exceptions, order_links
    groups: dict[str, ExceptionGroup] = {}
    stmt = (select(e, t.c.tiktok_order_id.label("tiktok_order_id"))
            .join(t, t.c.id == e.c.link_id).where(e.c.status == OPEN).order_by(e.c.created_at, e.c.id))
    where = _scoped(t.c.connection_id, scope)
    if where is not None:
        stmt = stmt.where(where)
    if codes is not None:
        stmt = stmt.where(e.c.code.in_(list(codes)))
    rows = conn.execute(stmt)
    for r in rows:
        data: dict[str, Any] = dict(r._mapping)
        tiktok_id = str(data.pop("tiktok_order_id"))
        group = groups.setdefault(str(data["code"]), ExceptionGroup(code=str(data["code"])))
        if len(group.items) < limit_per_code:
            group.items.append((ExceptionRow(**data), tiktok_id))
    return sorted(groups.values(), key=lambda g: (-len(g.items), g.code))


def order_detail(conn: Connection, link_id: int, scope: Scope = None) -> OrderDetail | None:
    """One order's whole story, or None (also when it is outside ``scope``)."""
    link = get_link(conn, link_id)
    if link is None or not in_scope(scope, link.connection_id):
        return None
    e = order_exceptions
    exceptions = [ExceptionRow(**dict(r._mapping))
                  for r in conn.execute(select(e).where(e.c.link_id == link_id).order_by(e.c.id))]
    return OrderDetail(link=link, exceptions=exceptions, events=timeline(conn, link_id))
