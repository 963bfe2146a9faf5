"""Order exceptions: problems a person must act on, at most one open per code per link.

``raise_exception`` is idempotent: it opens the exception or refreshes the open one (message,
data, action, severity). The one-open-per-code rule is a partial unique index
(``WHERE status = 'open'``) on both dialects, so two racing raisers cannot open two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from orderbridge.adapters.db._sql import insert_for, row_dict
from orderbridge.adapters.db.tables import order_exceptions as t
from orderbridge.adapters.db.tables import order_links
from orderbridge.adapters.db.types import ExceptionStatus

__all__ = [
    "ExceptionRow",
    "dismiss",
    "get_exception",
    "open_exceptions",
    "open_on_connection_links",
    "raise_exception",
    "resolve",
    "resolve_all_except",
    "resolve_codes",
]

_OPEN = ExceptionStatus.OPEN.value


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    """One order exception."""

    id: int
    link_id: int
    code: str
    severity: str
    message: str
    data: dict[str, Any] | None
    action: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


def _row(row: Any) -> ExceptionRow:
    return ExceptionRow(**row_dict(row))


def raise_exception(
    conn: Connection,
    link_id: int,
    code: str,
    severity: str,
    message: str,
    data: dict[str, Any] | None = None,
    action: str | None = None,
    *,
    now: datetime,
) -> tuple[ExceptionRow, bool]:
    """Open exception ``code`` on a link, or refresh the open one; ``(row, opened)``."""
    refresh = (
        update(t)
        .where(t.c.link_id == link_id, t.c.code == str(code), t.c.status == _OPEN)
        .values(severity=str(severity), message=message, data=data, action=action, updated_at=now)
        .returning(*t.c)
    )
    for _ in range(2):
        row = conn.execute(refresh).first()
        if row is not None:
            return _row(row), False
        opened = conn.execute(
            insert_for(conn, t)
            .values(
                link_id=link_id, code=str(code), severity=str(severity), message=message,
                data=data, action=action, status=_OPEN, created_at=now, updated_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=[t.c.link_id, t.c.code], index_where=text("status = 'open'")
            )
            .returning(*t.c)
        ).first()
        if opened is not None:
            return _row(opened), True
        # Someone opened it between our UPDATE and INSERT: refresh theirs.
    raise RuntimeError(f"could not raise exception {code} on link {link_id}")  # pragma: no cover


def resolve(
    conn: Connection,
    link_id: int,
    code: str,
    *,
    now: datetime,
    status: str = ExceptionStatus.RESOLVED,
) -> bool:
    """Close the open exception ``code`` on a link; True if there was one."""
    params = {"b_link": link_id, "b_code": str(code), "b_status": str(status), "b_now": now}
    return conn.execute(_RESOLVE, params).rowcount > 0


# Built once (compiled once): every decision resolves the engine's own codes this way.
_RESOLVE = (
    update(t)
    .where(t.c.link_id == bindparam("b_link"), t.c.code == bindparam("b_code"), t.c.status == _OPEN)
    .values(status=bindparam("b_status"), resolved_at=bindparam("b_now"), updated_at=bindparam("b_now"))
)


def resolve_codes(conn: Connection, link_id: int, codes: Sequence[str], *, now: datetime) -> int:
    """Close the open exceptions of these codes on a link in one statement; how many."""
    if not codes:
        return 0
    params = {"b_link": link_id, "b_codes": [str(c) for c in codes], "b_now": now}
    return conn.execute(_RESOLVE_CODES, params).rowcount


_RESOLVE_CODES = (
    update(t)
    .where(
        t.c.link_id == bindparam("b_link"),
        t.c.code.in_(bindparam("b_codes", expanding=True)),
        t.c.status == _OPEN,
    )
    .values(status=ExceptionStatus.RESOLVED.value, resolved_at=bindparam("b_now"), updated_at=bindparam("b_now"))
)


def resolve_all_except(
    conn: Connection, link_id: int, keep_codes: Sequence[str], *, now: datetime
) -> list[str]:
    """Resolve every open exception on a link whose code is not in ``keep_codes`` (what a
    fresh decision no longer reports); returns the codes resolved."""
    params: dict[str, Any] = {"b_link": link_id, "b_now": now}
    if keep_codes:
        params["b_keep"] = [str(c) for c in keep_codes]
    stmt = _RESOLVE_ALL_EXCEPT if keep_codes else _RESOLVE_ALL
    return sorted(conn.execute(stmt, params).scalars())


_RESOLVE_ALL = (
    update(t)
    .where(t.c.link_id == bindparam("b_link"), t.c.status == _OPEN)
    .values(status=ExceptionStatus.RESOLVED.value, resolved_at=bindparam("b_now"), updated_at=bindparam("b_now"))
    .returning(t.c.code)
)
_RESOLVE_ALL_EXCEPT = _RESOLVE_ALL.where(t.c.code.not_in(bindparam("b_keep", expanding=True)))


def get_exception(conn: Connection, exception_id: int) -> ExceptionRow | None:
    """One exception (any status), or None."""
    row = conn.execute(select(t).where(t.c.id == exception_id)).first()
    return _row(row) if row is not None else None


def dismiss(conn: Connection, exception_id: int, *, now: datetime) -> bool:
    """An operator dismisses an open exception."""
    stmt = (
        update(t)
        .where(t.c.id == exception_id, t.c.status == _OPEN)
        .values(status=ExceptionStatus.DISMISSED.value, resolved_at=now, updated_at=now)
    )
    return conn.execute(stmt).rowcount > 0


def open_exceptions(
    conn: Connection,
    *,
    link_id: int | None = None,
    connection_id: int | None = None,
    codes: Sequence[str] | None = None,
    limit: int = 1000,
) -> list[ExceptionRow]:
    """Open exceptions, oldest first, filtered by link, connection or codes."""
    stmt = select(t).where(t.c.status == _OPEN).order_by(t.c.created_at, t.c.id).limit(limit)
    if link_id is not None:
        stmt = stmt.where(t.c.link_id == link_id)
    if connection_id is not None:
        stmt = stmt.join(order_links, order_links.c.id == t.c.link_id).where(
            order_links.c.connection_id == connection_id
        )
    if codes is not None:
        stmt = stmt.where(t.c.code.in_([str(c) for c in codes]))
    return [_row(r) for r in conn.execute(stmt)]


def open_on_connection_links(
    conn: Connection, connection_id: int, codes: Sequence[str]
) -> list[tuple[int, Any, Any]]:
    """``(link id, exception data, the link's TikTok snapshot)`` of every open exception with
    one of ``codes`` on a link of this connection, by link id (a link once per open code)."""
    ol = order_links
    rows = conn.execute(
        select(ol.c.id, t.c.data, ol.c.tiktok_snapshot)
        .join(t, t.c.link_id == ol.c.id)
        .where(ol.c.connection_id == connection_id, t.c.status == _OPEN, t.c.code.in_(list(codes)))
        .order_by(ol.c.id)
    )
    return [(int(link_id), data, snapshot) for link_id, data, snapshot in rows]
