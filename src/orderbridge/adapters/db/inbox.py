"""The inbox: every webhook and poll result, stored (and committed) before we answer 200.

``(source, event_id)`` is unique: a redelivery is recognised atomically by
``INSERT … ON CONFLICT DO NOTHING`` and ``store`` says whether the entry was new.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, update

from orderbridge.adapters.db._sql import insert_for_dialect, row_dict
from orderbridge.adapters.db.tables import inbox as t

__all__ = [
    "InboxRow",
    "mark_processed",
    "pending_count",
    "purge_before",
    "set_error",
    "store",
    "unprocessed",
]


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One inbox entry."""

    id: int
    source: str
    event_id: str
    connection_id: int | None
    topic: str | None
    received_at: datetime
    headers: dict[str, Any] | None
    body: bytes
    processed_at: datetime | None
    error: str | None


def store(
    conn: Connection,
    source: str,
    event_id: str,
    *,
    received_at: datetime,
    body: bytes,
    topic: str | None = None,
    headers: dict[str, Any] | None = None,
    connection_id: int | None = None,
) -> bool:
    """Record an inbound message; True if new, False if ``(source, event_id)`` was seen."""
    params = {
        "source": source,
        "event_id": event_id,
        "connection_id": connection_id,
        "topic": topic,
        "received_at": received_at,
        "headers": headers,
        "body": bytes(body),
    }
    return conn.execute(_store_statement(conn.dialect.name), params).first() is not None


@functools.cache
def _store_statement(dialect: str) -> Any:
    """Every webhook runs this INSERT: built once per dialect, the values go as parameters."""
    return (
        insert_for_dialect(dialect, t)
        .on_conflict_do_nothing(index_elements=[t.c.source, t.c.event_id])
        .returning(t.c.id)
    )


def unprocessed(conn: Connection, limit: int, *, source: str | None = None) -> list[InboxRow]:
    """The oldest entries not yet processed."""
    stmt = (
        select(t)
        .where(t.c.processed_at.is_(None))
        .order_by(t.c.received_at, t.c.id)
        .limit(limit)
    )
    if source is not None:
        stmt = stmt.where(t.c.source == source)
    return [InboxRow(**row_dict(r)) for r in conn.execute(stmt)]


def mark_processed(
    conn: Connection, ids: Sequence[int], at: datetime, *, error: str | None = None
) -> int:
    """Mark entries processed at ``at`` (with the error, if handling failed for good)."""
    if not ids:
        return 0
    stmt = update(t).where(t.c.id.in_(list(ids))).values(processed_at=at, error=error)
    return conn.execute(stmt).rowcount


def set_error(conn: Connection, source: str, event_id: str, error: str | None) -> None:
    """Record (or clear, with ``None``) why the entry ``(source, event_id)`` was not acted on."""
    conn.execute(update(t).where(t.c.source == source, t.c.event_id == bindparam("b_key"))
                 .values(error=error), {"b_key": event_id})


def pending_count(conn: Connection) -> int:
    """How many entries wait to be processed (for metrics)."""
    return int(conn.execute(select(func.count()).where(t.c.processed_at.is_(None))).scalar_one())


def purge_before(conn: Connection, before: datetime, *, limit: int | None = None) -> int:
    """Delete entries handled before ``before`` (retention; an entry never handled, such as
    an OAuth state's single-use record, counts from its arrival): at most ``limit`` of them,
    the oldest first, so that one transaction stays short."""
    when = func.coalesce(t.c.processed_at, t.c.received_at)
    if limit is None:
        return conn.execute(delete(t).where(when < before)).rowcount
    ids = [int(i) for i in conn.execute(select(t.c.id).where(when < before).order_by(when).limit(limit)).scalars()]
    return conn.execute(delete(t).where(t.c.id.in_(ids))).rowcount if ids else 0
