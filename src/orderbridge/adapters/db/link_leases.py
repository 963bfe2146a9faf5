"""The lease of order links: claim the due ones, save under the lease, renew, release.

A worker ``claim_due_links``: one statement leases up to ``limit`` due links, bumps their
version and sets ``next_due_at`` to the lease expiry, so that a crashed worker's links come
back by themselves when the lease runs out. It calls the APIs *outside* any transaction,
then ``save_link`` with the version it claimed: optimistic, it raises ``LeaseLost`` when
another worker took the link meanwhile. A ``mark_due`` that arrived while the link was
leased (``links.py``) is kept: ``save_link`` and ``release_lease`` never move
``next_due_at`` past such a hint. The statements are built once, in ``_link_statements.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Unpack

from sqlalchemy import Connection

from orderbridge.adapters.db import _link_statements as stmts
from orderbridge.adapters.db.errors import LeaseLost
from orderbridge.adapters.db.links import LinkChanges, LinkRow, get_link, in_chunks, link_row

__all__ = ["claim_due_links", "release_lease", "renew_lease", "save_link", "with_open_exceptions"]

# The columns ``save_link`` may change.
_CHANGEABLE: Final = frozenset(LinkChanges.__annotations__)


def claim_due_links(
    conn: Connection,
    owner: str,
    now: datetime,
    *,
    limit: int,
    lease_seconds: float,
    connection_id: int | None = None,
) -> list[LinkRow]:
    """Lease up to ``limit`` due links to ``owner`` in one statement; returns them.

    ``UPDATE … WHERE id IN (SELECT id … ORDER BY priority, next_due_at LIMIT n FOR UPDATE
    SKIP LOCKED) RETURNING …``: concurrent claimers on PostgreSQL skip each other's rows;
    on SQLite the statement runs under ``BEGIN IMMEDIATE`` (one writer at a time).
    A link is due when ``next_due_at <= now`` and its lease is absent or expired.
    """
    expires = now + timedelta(seconds=lease_seconds)
    params = {"b_now": now, "b_connection": connection_id, "b_owner": owner, "b_expires": expires}
    claimed = [link_row(r) for r in conn.execute(stmts.claim(limit, connection_id is not None), params)]
    claimed.sort(key=lambda link: (link.priority, link.id))
    return claimed


def with_open_exceptions(conn: Connection, link_ids: Sequence[int]) -> frozenset[int]:
    """Which of these links have an open exception (read with the claim: a decision on a
    link with none has nothing to resolve, and only the lease holder opens the exceptions a
    decision resolves)."""
    found: set[int] = set()
    for chunk in in_chunks(list(dict.fromkeys(link_ids))):
        found.update(conn.execute(stmts.OPEN_EXCEPTIONS, {"b_values": chunk}).scalars())
    return frozenset(found)


def _lease_lost(conn: Connection, link_id: int, owner: str, version: int) -> LeaseLost:
    current = get_link(conn, link_id)
    if current is None:
        return LeaseLost(f"link {link_id} no longer exists")
    return LeaseLost(
        f"link {link_id}: {owner} expected version {version} under its lease; now version "
        f"{current.version}, lease {current.lease_owner} until {current.lease_expires_at}"
    )


def save_link(
    conn: Connection,
    link: LinkRow,
    owner: str,
    expected_version: int | None = None,
    *,
    now: datetime,
    release: bool = False,
    **changes: Unpack[LinkChanges],
) -> LinkRow:
    """Write ``changes`` to a link ``owner`` holds, bump its version, return the new row.

    ``expected_version`` defaults to ``link.version`` (the version the claim returned).
    Raises ``LeaseLost`` if the lease is no longer ``owner``'s or the version moved.
    ``release=True`` also gives the lease up. A ``next_due_at`` change keeps any earlier
    hint that ``mark_due`` left while the link was leased.
    """
    unknown = set(changes) - _CHANGEABLE
    if unknown:  # pragma: no cover - the TypedDict catches this statically
        raise TypeError(f"save_link cannot change {sorted(unknown)}")
    version = link.version if expected_version is None else expected_version
    keys = tuple(sorted(k for k in changes if k != "next_due_at"))
    params: dict[str, Any] = {f"v_{k}": changes[k] for k in keys}  # type: ignore[literal-required]
    due = ""
    if "next_due_at" in changes:
        due = "none" if changes["next_due_at"] is None else "value"
        params["v_next_due_at"] = changes["next_due_at"]
    params.update(stmts.held_params(link.id, owner, version), v_updated_at=now)
    row = conn.execute(stmts.save(keys, due, release), params).first()
    if row is None:
        raise _lease_lost(conn, link.id, owner, version)
    return link_row(row)


def renew_lease(
    conn: Connection, link: LinkRow, owner: str, now: datetime, *, lease_seconds: float
) -> LinkRow:
    """Extend ``owner``'s lease on a link (long work); raises ``LeaseLost``."""
    expires = now + timedelta(seconds=lease_seconds)
    params = {**stmts.held_params(link.id, owner, link.version), "b_expires": expires}
    row = conn.execute(stmts.RENEW, params).first()
    if row is None:
        raise _lease_lost(conn, link.id, owner, link.version)
    return link_row(row)


def release_lease(
    conn: Connection, link: LinkRow, owner: str, *, next_due_at: datetime | None
) -> bool:
    """Give up ``owner``'s lease without other changes; False if it was no longer held.

    ``next_due_at`` is when to look again (``None``: only when something marks it due),
    kept earlier if a hint arrived meanwhile.
    """
    params = {**stmts.held_params(link.id, owner, link.version), "v_next_due_at": next_due_at}
    stmt = stmts.RELEASE_UNTIL_HINT if next_due_at is None else stmts.RELEASE
    return conn.execute(stmt, params).rowcount == 1
