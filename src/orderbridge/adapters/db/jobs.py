"""Jobs: durable work not tied to one order (token refresh, polls, sweeps, async cancels).

A job is identified by ``(kind, key)``; ``enqueue`` is an upsert that only moves it
earlier, so enqueuing twice is harmless. Claims work like the links' (see ``links``):
one ``UPDATE … IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``, a lease whose expiry is
also the due time (a crashed worker's job comes back), a version that the holder's
``complete_job`` / ``retry_job`` check. A finished job stays as an idle row
(``next_due_at`` NULL) until enqueued again or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, delete, func, select, update

from orderbridge.adapters.db._sql import (
    claim,
    claimable_at,
    due_ids,
    extend_lease_due,
    insert_for,
    keep_hint,
    row_dict,
)
from orderbridge.adapters.db.errors import LeaseLost
from orderbridge.adapters.db.tables import jobs as t

__all__ = [
    "JobRow",
    "claim_due_jobs",
    "complete_job",
    "count_retrying",
    "delete_job",
    "enqueue",
    "get_job",
    "list_jobs",
    "next_due_of_kind",
    "next_job_due_time",
    "renew_job_lease",
    "retry_job",
]


@dataclass(frozen=True, slots=True)
class JobRow:
    """One job as stored."""

    id: int
    kind: str
    key: str
    connection_id: int | None
    payload: dict[str, Any]
    next_due_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    version: int
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


def _row(row: Any) -> JobRow:
    return JobRow(**row_dict(row))


def enqueue(
    conn: Connection,
    kind: str,
    key: str,
    *,
    now: datetime,
    due_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    connection_id: int | None = None,
) -> JobRow:
    """Create the job ``(kind, key)`` due at ``due_at`` (default ``now``), or move the
    existing one earlier to it; a given ``payload`` replaces the stored one."""
    when = now if due_at is None else due_at
    ins = insert_for(conn, t)
    values = {
        "kind": kind,
        "key": key,
        "connection_id": connection_id,
        "payload": payload or {},
        "next_due_at": when,
        "version": 1,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    # Only ever earlier: a later enqueue must not postpone a job that is already due.
    earlier = case(
        (
            and_(t.c.next_due_at.is_not(None), t.c.next_due_at <= ins.excluded.next_due_at),
            t.c.next_due_at,
        ),
        else_=ins.excluded.next_due_at,
    )
    on_conflict: dict[str, Any] = {"next_due_at": earlier, "updated_at": now}
    if payload is not None:
        on_conflict["payload"] = ins.excluded.payload
    if connection_id is not None:
        on_conflict["connection_id"] = ins.excluded.connection_id
    stmt = (
        ins.values(values)
        .on_conflict_do_update(index_elements=[t.c.kind, t.c.key], set_=on_conflict)
        .returning(*t.c)
    )
    return _row(conn.execute(stmt).one())


def get_job(conn: Connection, kind: str, key: str) -> JobRow | None:
    """The job ``(kind, key)``, if any."""
    row = conn.execute(select(t).where(t.c.kind == kind, t.c.key == key)).first()
    return None if row is None else _row(row)


def list_jobs(conn: Connection, *, kind: str | None = None, limit: int = 100) -> list[JobRow]:
    """Jobs by due time (idle ones last)."""
    stmt = select(t).order_by(t.c.next_due_at.is_(None), t.c.next_due_at, t.c.id).limit(limit)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    return [_row(r) for r in conn.execute(stmt)]


def claim_due_jobs(
    conn: Connection,
    owner: str,
    now: datetime,
    *,
    limit: int,
    lease_seconds: float,
    kinds: list[str] | None = None,
) -> list[JobRow]:
    """Lease up to ``limit`` due jobs (of ``kinds``, if given) to ``owner``, oldest due first."""
    expires = now + timedelta(seconds=lease_seconds)
    due = due_ids(t, now, limit)
    if kinds is not None:
        due = due.where(t.c.kind.in_(kinds))
    claimed = [_row(r) for r in claim(conn, t, due, owner, expires)]
    claimed.sort(key=lambda job: job.id)
    return claimed


def _held(job: JobRow, owner: str) -> ColumnElement[bool]:
    return and_(t.c.id == job.id, t.c.lease_owner == owner, t.c.version == job.version)


def _finish(conn: Connection, job: JobRow, owner: str, values: dict[str, Any]) -> JobRow:
    values = {**values, "lease_owner": None, "lease_expires_at": None, "version": t.c.version + 1}
    row = conn.execute(update(t).where(_held(job, owner)).values(values).returning(*t.c)).first()
    if row is None:
        raise LeaseLost(f"job {job.kind}/{job.key}: no longer held by {owner} at version {job.version}")
    return _row(row)


def complete_job(
    conn: Connection,
    job: JobRow,
    owner: str,
    *,
    now: datetime,
    next_due_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> JobRow:
    """The holder is done: release the job, due again at ``next_due_at`` (``None``: idle),
    clearing attempts and error. Raises ``LeaseLost``."""
    values: dict[str, Any] = {
        "next_due_at": keep_hint(t, next_due_at),
        "attempts": 0,
        "last_error": None,
        "updated_at": now,
    }
    if payload is not None:
        values["payload"] = payload
    return _finish(conn, job, owner, values)


def retry_job(
    conn: Connection, job: JobRow, owner: str, *, now: datetime, error: str, next_due_at: datetime
) -> JobRow:
    """The attempt failed: count it, keep the error, release, try again at ``next_due_at``.
    Raises ``LeaseLost``."""
    values: dict[str, Any] = {
        "next_due_at": keep_hint(t, next_due_at),
        "attempts": t.c.attempts + 1,
        "last_error": error,
        "updated_at": now,
    }
    return _finish(conn, job, owner, values)


def renew_job_lease(
    conn: Connection, job: JobRow, owner: str, now: datetime, *, lease_seconds: float
) -> JobRow:
    """Extend ``owner``'s lease on a job; raises ``LeaseLost``."""
    expires = now + timedelta(seconds=lease_seconds)
    stmt = (
        update(t)
        .where(_held(job, owner))
        .values(next_due_at=extend_lease_due(t, expires), lease_expires_at=expires)
        .returning(*t.c)
    )
    row = conn.execute(stmt).first()
    if row is None:
        raise LeaseLost(f"job {job.kind}/{job.key}: no longer held by {owner}")
    return _row(row)


def delete_job(conn: Connection, kind: str, key: str) -> bool:
    """Remove the job ``(kind, key)``; True if it existed."""
    return conn.execute(delete(t).where(t.c.kind == kind, t.c.key == key)).rowcount == 1


def next_job_due_time(conn: Connection) -> datetime | None:
    """The earliest instant at which some job becomes claimable (``None``: none)."""
    value: datetime | None = conn.execute(
        select(func.min(claimable_at(t))).where(t.c.next_due_at.is_not(None))
    ).scalar()
    return value


def next_due_of_kind(conn: Connection, kind: str) -> datetime | None:
    """The earliest ``next_due_at`` among the jobs of ``kind`` (``None``: none is due)."""
    value: datetime | None = conn.execute(
        select(func.min(t.c.next_due_at)).where(t.c.kind == kind)
    ).scalar()
    return value


def count_retrying(conn: Connection, kind: str, *, key_prefix: str) -> int:
    """Jobs of ``kind`` whose key starts with ``key_prefix`` that failed at least once and
    are still waiting to be tried again."""
    stmt = select(func.count()).select_from(t).where(
        t.c.kind == kind, t.c.key.startswith(key_prefix), t.c.attempts > 0,
        t.c.next_due_at.is_not(None),
    )
    return int(conn.execute(stmt).scalar() or 0)
