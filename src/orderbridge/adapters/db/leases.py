"""Named leases for singletons (a shop's poller, the SLA sweeper): one holder at a time.

Each call is one atomic statement. A holder renews well before ``expires_at``; if it dies,
anyone may take the lease once it has expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update

from orderbridge.adapters.db._sql import insert_for
from orderbridge.adapters.db.tables import leases as t

__all__ = ["acquire", "holder", "release", "renew"]


def acquire(conn: Connection, name: str, owner: str, now: datetime, *, seconds: float) -> bool:
    """Take (or re-take) lease ``name`` for ``seconds`` if it is free, expired or ours."""
    expires = now + timedelta(seconds=seconds)
    ins = insert_for(conn, t)
    stmt = (
        ins.values(name=name, owner=owner, expires_at=expires)
        .on_conflict_do_update(
            index_elements=[t.c.name],
            set_={"owner": ins.excluded.owner, "expires_at": ins.excluded.expires_at},
            where=or_(t.c.owner == owner, t.c.expires_at <= now),
        )
        .returning(t.c.name)
    )
    return conn.execute(stmt).first() is not None


def renew(conn: Connection, name: str, owner: str, now: datetime, *, seconds: float) -> bool:
    """Extend ``owner``'s lease; False if someone else holds it (or nobody does)."""
    stmt = (
        update(t)
        .where(t.c.name == name, t.c.owner == owner)
        .values(expires_at=now + timedelta(seconds=seconds))
    )
    return conn.execute(stmt).rowcount == 1


def release(conn: Connection, name: str, owner: str) -> bool:
    """Give the lease up if ``owner`` holds it."""
    return conn.execute(delete(t).where(t.c.name == name, t.c.owner == owner)).rowcount == 1


def holder(conn: Connection, name: str, now: datetime) -> str | None:
    """Who holds lease ``name`` now (``None``: free or expired)."""
    owner: str | None = conn.execute(
        select(t.c.owner).where(t.c.name == name, t.c.expires_at > now)
    ).scalar()
    return owner
