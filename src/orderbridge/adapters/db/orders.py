"""Operators' reads of orders: the JSON API's and the command line's lists and look-ups.

(The dashboard's pages read through ``board.py``; the worker reads links through
``links.py``.) An order is its link; "open codes" are the codes of its open exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from orderbridge.adapters.db._sql import row_dict
from orderbridge.adapters.db.board import open_codes
from orderbridge.adapters.db.order_exceptions import ExceptionRow
from orderbridge.adapters.db.tables import order_exceptions as e
from orderbridge.adapters.db.tables import order_links as t
from orderbridge.adapters.db.types import ExceptionStatus

__all__ = [
    "busy_count",
    "exceptions_of",
    "exceptions_with_orders",
    "ids_of_tiktok_order",
    "open_codes",
    "order_ids",
]

_OPEN = ExceptionStatus.OPEN.value


def _within(column: Any, scope: frozenset[int] | None) -> Any:
    """``column`` limited to the connections in ``scope`` (None: every connection)."""
    return column.is_not(None) if scope is None else column.in_(sorted(scope))


def order_ids(
    conn: Connection, *, limit: int, connection_id: int | None = None, state: str | None = None,
    open_code: str | None = None, scope: frozenset[int] | None = None,
) -> list[int]:
    """Link ids, newest first: of a connection, in a state, with an open exception of a code;
    only of the connections in ``scope`` (None: all)."""
    stmt = (select(t.c.id).where(_within(t.c.connection_id, scope))
            .order_by(t.c.first_seen_at.desc(), t.c.id.desc()).limit(limit))
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    if state is not None:
        stmt = stmt.where(t.c.state == state)
    if open_code is not None:
        stmt = stmt.where(t.c.id.in_(select(e.c.link_id).where(e.c.code == open_code, e.c.status == _OPEN)))
    return [int(i) for i in conn.execute(stmt).scalars()]


def ids_of_tiktok_order(
    conn: Connection, tiktok_order_id: str, *, connection_id: int | None = None, limit: int | None = None,
    scope: frozenset[int] | None = None,
) -> list[int]:
    """The link ids of a TikTok order (one per connection that has it, within ``scope``), oldest first."""
    stmt = (select(t.c.id).where(t.c.tiktok_order_id == tiktok_order_id, _within(t.c.connection_id, scope))
            .order_by(t.c.id))
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [int(i) for i in conn.execute(stmt).scalars()]


def exceptions_of(conn: Connection, link_ids: Sequence[int]) -> list[ExceptionRow]:
    """Every exception (any status) of these links, in the order they were raised."""
    if not link_ids:
        return []
    rows = conn.execute(select(e).where(e.c.link_id.in_(list(link_ids))).order_by(e.c.id))
    return [ExceptionRow(**row_dict(r)) for r in rows]


def exceptions_with_orders(
    conn: Connection, *, status: str, limit: int, connection_id: int | None = None, code: str | None = None,
    scope: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """Exceptions in ``status``, oldest first: each one's columns with its order's
    ``tiktok_order_id`` and ``connection_id`` (only orders of the connections in ``scope``)."""
    stmt = (select(e, t.c.tiktok_order_id, t.c.connection_id)
            .join(t, t.c.id == e.c.link_id)
            .where(e.c.status == status, _within(t.c.connection_id, scope))
            .order_by(e.c.created_at, e.c.id).limit(limit))
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    if code is not None:
        stmt = stmt.where(e.c.code == code)
    return [row_dict(r) for r in conn.execute(stmt)]


def busy_count(conn: Connection, connection_id: int, now: datetime) -> int:
    """A connection's links due by ``now`` or held by a worker: work the engine has not done."""
    return int(conn.execute(select(func.count()).where(
        t.c.connection_id == connection_id,
        or_(t.c.next_due_at <= now, t.c.lease_owner.is_not(None)))).scalar_one())
