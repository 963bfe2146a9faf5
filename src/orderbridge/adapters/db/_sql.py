"""Helpers shared by the repositories (private)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from orderbridge.adapters.db.types import UTCDateTime

__all__ = [
    "claim",
    "claim_statement",
    "claimable_at",
    "due_ids",
    "extend_lease_due",
    "insert_for",
    "insert_for_dialect",
    "keep_hint",
    "row_dict",
]


def insert_for(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT construct, which has ``on_conflict_do_nothing/update``.

    Both dialects spell ``INSERT … ON CONFLICT`` the same way, so callers write it once.
    """
    return insert_for_dialect(conn.dialect.name, table)


def insert_for_dialect(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``insert_for`` by dialect name (for statements built once per dialect)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported dialect {dialect!r}")


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict keyed by column name."""
    return dict(row._mapping)


def _instant(value: datetime | ColumnElement[Any]) -> ColumnElement[Any]:
    """A datetime as a typed literal; a bound parameter (a statement built once) as is."""
    return value if isinstance(value, ColumnElement) else literal(value, UTCDateTime())


def keep_hint(table: Table, new_due: datetime | ColumnElement[Any] | None) -> ColumnElement[Any]:
    """``next_due_at`` after a lease holder sets ``new_due`` (a value or a bound parameter).

    While a row is leased its ``next_due_at`` equals the lease expiry; anything earlier is a
    hint that arrived meanwhile (``mark_due``, ``enqueue``) and is kept if it is earlier.
    """
    due, lease = table.c.next_due_at, table.c.lease_expires_at
    hint = due < lease
    if new_due is None:
        return case((hint, due), else_=literal(None, UTCDateTime()))
    new = _instant(new_due)
    return case((and_(hint, due < new), due), else_=new)


def extend_lease_due(table: Table, expires: datetime | ColumnElement[Any]) -> ColumnElement[Any]:
    """``next_due_at`` when a lease is extended to ``expires``: follows it unless a hint."""
    due, lease = table.c.next_due_at, table.c.lease_expires_at
    return case((due < lease, due), else_=_instant(expires))


def claimable_at(table: Table) -> ColumnElement[Any]:
    """When a row can next be claimed: its due time, or its lease expiry if later."""
    due, lease = table.c.next_due_at, table.c.lease_expires_at
    return case((lease > due, lease), else_=due)


def due_ids(table: Table, now: datetime | ColumnElement[Any], limit: int, *order_by: Any) -> Select[Any]:
    """``SELECT id`` of claimable rows, oldest first, ``FOR UPDATE SKIP LOCKED``.

    SQLAlchemy drops the locking clause on SQLite, where BEGIN IMMEDIATE serialises instead.
    """
    return (
        select(table.c.id)
        .where(
            table.c.next_due_at <= now,
            or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at <= now),
        )
        .order_by(*order_by, table.c.next_due_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def claim_statement(table: Table, due: Select[Any]) -> Update:
    """``UPDATE … WHERE id IN (due)`` leasing the rows to ``b_owner`` until ``b_expires``
    (bound parameters, so the statement can be built once); see ``claim``."""
    expires = bindparam("b_expires", type_=UTCDateTime())
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            lease_owner=bindparam("b_owner", type_=String()),
            lease_expires_at=expires,
            next_due_at=expires,
            version=table.c.version + 1,
        )
        .returning(*table.c)
    )


def claim(conn: Connection, table: Table, due: Select[Any], owner: str, expires: datetime) -> list[Row[Any]]:
    """Lease the rows ``due`` selects to ``owner`` until ``expires``, in one statement.

    ``UPDATE … WHERE id IN (due)``: on PostgreSQL ``due`` carries ``FOR UPDATE SKIP LOCKED``
    so concurrent claimers never take the same row; on SQLite the caller's ``BEGIN
    IMMEDIATE`` makes it the only writer. While leased, ``next_due_at`` follows the lease
    expiry, so a crashed holder's row comes back by itself.
    """
    return list(conn.execute(claim_statement(table, due), {"b_owner": owner, "b_expires": expires}))
