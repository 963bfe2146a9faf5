"""Order links: one row per TikTok order, its timers and its lease.

The protocol, in short:

- ``get_or_create_link`` / ``ensure_due`` when a webhook or poll names an order;
  ``mark_due`` to make existing links due (it only ever moves ``next_due_at`` earlier).
- A worker ``claim_due_links`` (the lease's steps are in ``link_leases.py``): one statement leases up to ``limit`` due links, bumps their
  version and sets ``next_due_at`` to the lease expiry, so that a crashed worker's links come
  back by themselves when the lease runs out.
- The worker calls the APIs *outside* any transaction, then ``save_link`` with the version it
  claimed: optimistic, it raises ``LeaseLost`` when another worker took the link meanwhile.
  A ``mark_due`` that arrived while the link was leased is kept: ``save_link`` and
  ``release_lease`` never move ``next_due_at`` past such a hint.
- A Shopify webhook is also counted (``count_shopify_hints``, no version bump): a pass saves
  the count its claim returned, so a hint counted during the pass makes the next one read
  the Shopify order again (``engine/freshness.py``).
- Creating a due link and ``mark_due`` announce it (``wake.announce_due``: a PostgreSQL
  ``NOTIFY`` delivered on commit), so idle workers in other processes look at once.

Run every function that writes inside ``transaction(engine)`` (write mode, engine.py), so
that SQLite takes its write lock up front. Owners must be unique per claimer (host:pid:task).
The statements of this protocol are built once, in ``_link_statements.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypedDict

from sqlalchemy import Connection, func, or_, select, update

from orderbridge.adapters.db import _link_statements as stmts
from orderbridge.adapters.db._sql import insert_for, row_dict
from orderbridge.adapters.db.tables import order_links as t
from orderbridge.adapters.db.wake import announce_due

__all__ = [
    "CREATE_PRIORITY",
    "DEFAULT_PRIORITY",
    "INITIAL_STATE",
    "SHOPIFY_HINT_PRIORITY",
    "LinkChanges",
    "LinkRow",
    "adopt_existing",
    "count_by_state",
    "count_shopify_hints",
    "ensure_due",
    "find_link",
    "find_links_by_shopify_order",
    "get_link",
    "get_or_create_link",
    "in_chunks",
    "link_row",
    "list_links",
    "mark_due",
    "next_due_time",
]

# Lower runs first; the domain may use values on either side of this.
DEFAULT_PRIORITY: Final = 100
# A link whose Shopify order is still to be created is claimed before the others due: a
# burst of re-checks (a poll, a timer shared by many orders) never delays a new order.
CREATE_PRIORITY: Final = 50
# A link a Shopify webhook named (news: the merchant fulfilled, say) comes next, before the
# re-checks due with it; its next save sets the priority back.
SHOPIFY_HINT_PRIORITY: Final = 75
# The state of a link nobody has decided anything about yet.
INITIAL_STATE: Final = "new"
# IN lists are sent in chunks of this size (well under SQLite's variable limit).
_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One order link as stored."""

    id: int
    connection_id: int
    tiktok_order_id: str
    shopify_order_id: str | None
    shopify_order_name: str | None
    state: str
    tiktok_status: str | None
    memory: dict[str, Any]
    tiktok_snapshot: dict[str, Any] | None
    shopify_snapshot: dict[str, Any] | None
    next_due_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    version: int
    attempts: int
    last_error: str | None
    priority: int
    first_seen_at: datetime
    created_at: datetime
    updated_at: datetime
    shopify_hints: int = 0  # Shopify webhooks that named the order (``count_shopify_hints``)
    shopify_seen_hints: int | None = None  # of those, how many the stored snapshot covers
    shopify_fresh_until: datetime | None = None  # the snapshot stands in for a read until then


class LinkChanges(TypedDict, total=False):
    """The columns ``save_link`` may change."""

    state: str
    tiktok_status: str | None
    shopify_order_id: str | None
    shopify_order_name: str | None
    memory: dict[str, Any]
    tiktok_snapshot: dict[str, Any] | None
    shopify_snapshot: dict[str, Any] | None
    next_due_at: datetime | None
    attempts: int
    last_error: str | None
    priority: int
    shopify_seen_hints: int | None
    shopify_fresh_until: datetime | None


def link_row(row: Any) -> LinkRow:
    """A fetched ``order_links`` row as a ``LinkRow``."""
    return LinkRow(**row_dict(row))


def in_chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` in IN lists short enough for every dialect."""
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def get_link(conn: Connection, link_id: int) -> LinkRow | None:
    """The link with this id, if any."""
    row = conn.execute(select(t).where(t.c.id == link_id)).first()
    return None if row is None else link_row(row)


def find_link(conn: Connection, connection_id: int, tiktok_order_id: str) -> LinkRow | None:
    """The link of a TikTok order, if any."""
    row = conn.execute(
        select(t).where(t.c.connection_id == connection_id, t.c.tiktok_order_id == tiktok_order_id)
    ).first()
    return None if row is None else link_row(row)


def find_links_by_shopify_order(
    conn: Connection, connection_id: int, shopify_order_id: str
) -> list[LinkRow]:
    """Links that point at a Shopify order (normally one), for Shopify webhooks."""
    rows = conn.execute(
        select(t)
        .where(t.c.connection_id == connection_id, t.c.shopify_order_id == shopify_order_id)
        .order_by(t.c.id)
    )
    return [link_row(r) for r in rows]


def _new_values(
    connection_id: int, tiktok_order_id: str, now: datetime, due_at: datetime | None,
    state: str, priority: int,
) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "tiktok_order_id": tiktok_order_id,
        "state": state,
        "memory": {},
        "next_due_at": due_at,
        "version": 1,
        "attempts": 0,
        "priority": priority,
        "shopify_hints": 0,
        "first_seen_at": now,
        "created_at": now,
        "updated_at": now,
    }


def get_or_create_link(
    conn: Connection,
    connection_id: int,
    tiktok_order_id: str,
    now: datetime,
    *,
    due_at: datetime | None = None,
    state: str = INITIAL_STATE,
    priority: int = DEFAULT_PRIORITY,
) -> tuple[LinkRow, bool]:
    """The link of a TikTok order, created if missing; ``(link, created)``.

    Race-safe: ``INSERT … ON CONFLICT DO NOTHING`` then read. A new link is due at
    ``due_at`` (default ``now``); an existing one is returned unchanged.
    """
    values = _new_values(
        connection_id, tiktok_order_id, now, now if due_at is None else due_at, state, priority
    )
    row = conn.execute(stmts.create_link(conn.dialect.name), values).first()
    if row is not None:
        announce_due(conn)
        return link_row(row), True
    found = find_link(conn, connection_id, tiktok_order_id)
    if found is None:  # pragma: no cover - a conflict means the row exists
        raise RuntimeError(f"link for {tiktok_order_id} vanished during get_or_create")
    return found, False


def ensure_due(
    conn: Connection,
    connection_id: int,
    tiktok_order_ids: Sequence[str],
    at: datetime,
    now: datetime,
    *,
    priority: int = DEFAULT_PRIORITY,
) -> list[str]:
    """Make these orders' links due at ``at`` (or earlier), creating the missing ones.

    Returns the TikTok order ids whose links were created. This is what a webhook or a
    poll page does: it records the hint, never the content.
    """
    created: list[str] = []
    unique_ids = list(dict.fromkeys(tiktok_order_ids))
    for chunk in in_chunks(unique_ids):
        stmt = (
            insert_for(conn, t)
            .values([_new_values(connection_id, oid, now, at, INITIAL_STATE, priority) for oid in chunk])
            .on_conflict_do_nothing(index_elements=[t.c.connection_id, t.c.tiktok_order_id])
            .returning(t.c.tiktok_order_id)
        )
        created.extend(conn.execute(stmt).scalars())
    fresh = set(created)
    existing = [oid for oid in unique_ids if oid not in fresh]
    if existing:
        mark_due(conn, at, connection_id=connection_id, tiktok_order_ids=existing)
    if created:
        announce_due(conn)
    return created


def mark_due(
    conn: Connection,
    at: datetime,
    *,
    ids: Sequence[int] | None = None,
    connection_id: int | None = None,
    tiktok_order_ids: Sequence[str] | None = None,
    shopify_order_ids: Sequence[str] | None = None,
) -> int:
    """Make links due at ``at`` unless they are already due earlier; returns rows moved.

    Select links by ``ids``, or by ``connection_id`` with ``tiktok_order_ids`` or
    ``shopify_order_ids``. Moving any announces it to workers on commit. Never moves
    ``next_due_at`` later, never touches the version:
    a worker holding the link keeps its lease, and its save keeps this hint.
    """
    selectors: list[tuple[str, Sequence[Any]]] = []
    if ids is not None:
        selectors.append(("id", ids))
    if tiktok_order_ids is not None or shopify_order_ids is not None:
        if connection_id is None:
            raise ValueError("mark_due by order ids needs connection_id")
        if tiktok_order_ids is not None:
            selectors.append(("tiktok_order_id", tiktok_order_ids))
        if shopify_order_ids is not None:
            selectors.append(("shopify_order_id", shopify_order_ids))
    if not selectors:
        raise ValueError("mark_due needs ids, tiktok_order_ids or shopify_order_ids")
    moved = 0
    for column, values in selectors:
        stmt = stmts.mark_due(column, connection_id is not None)
        for chunk in in_chunks(list(values)):
            params = {"b_values": chunk, "b_at": at, "b_connection": connection_id}
            moved += conn.execute(stmt, params).rowcount
    if moved:
        announce_due(conn)
    return moved


def count_shopify_hints(conn: Connection, ids: Sequence[int]) -> None:
    """Count one more Shopify hint on these links (call with ``mark_due``, same transaction).

    A pass remembers the count its Shopify read covers (it read after claiming, and the
    claim returned the count): a hint counted later, even during the pass, makes the next
    pass read again. The link is claimed before the other links due
    (``SHOPIFY_HINT_PRIORITY``, unless it is more urgent already). Never touches the version
    or the lease.
    """
    for chunk in in_chunks(list(ids)):
        conn.execute(stmts.COUNT_SHOPIFY_HINT, {"b_values": chunk, "b_priority": SHOPIFY_HINT_PRIORITY})


def adopt_existing(
    conn: Connection, link_id: int, shopify_order_id: str, name: str, memory: dict[str, Any],
    *, state: str, now: datetime,
) -> bool:
    """Point an untouched, unleased link at a Shopify order that already exists (backfill);
    False when a worker got to the link first (it then finds the order by itself)."""
    result = conn.execute(
        update(t)
        .where(t.c.id == link_id, t.c.shopify_order_id.is_(None), t.c.state == INITIAL_STATE,
               or_(t.c.lease_owner.is_(None), t.c.lease_expires_at <= now))
        .values(shopify_order_id=shopify_order_id, shopify_order_name=name, state=state,
                memory=memory, version=t.c.version + 1, next_due_at=now, updated_at=now)
    )
    return result.rowcount == 1


def next_due_time(conn: Connection, *, connection_id: int | None = None) -> datetime | None:
    """The earliest instant at which some link becomes claimable (``None``: none ever).

    A leased link counts at its lease expiry, so a worker can sleep exactly until then
    (and be woken earlier by an in-process notification).
    """
    if connection_id is None:
        value: datetime | None = conn.execute(stmts.NEXT_DUE).scalar()
    else:
        value = conn.execute(stmts.NEXT_DUE.where(t.c.connection_id == connection_id)).scalar()
    return value


def list_links(
    conn: Connection,
    *,
    connection_id: int | None = None,
    states: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LinkRow]:
    """Links, newest first (dashboard, API)."""
    stmt = select(t).order_by(t.c.first_seen_at.desc(), t.c.id.desc()).limit(limit).offset(offset)
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    if states is not None:
        stmt = stmt.where(t.c.state.in_(list(states)))
    return [link_row(r) for r in conn.execute(stmt)]


def count_by_state(conn: Connection, *, connection_id: int | None = None) -> dict[str, int]:
    """How many links are in each state."""
    stmt = select(t.c.state, func.count()).group_by(t.c.state)
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    return {str(row[0]): int(row[1]) for row in conn.execute(stmt)}
