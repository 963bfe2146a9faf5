"""The order-link statements every order runs, built once (private to ``links.py``).

Building a SQLAlchemy statement and computing its cache key costs more CPU than running it
on SQLite, so the statements of the link protocol are built once per dialect or shape
(``functools.cache``) and their values go as bound parameters (``b_*`` select rows, ``v_*``
are values written).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Final

from sqlalchemy import BindParameter, and_, bindparam, case, func, or_, select, text, update

from orderbridge.adapters.db._sql import (
    claim_statement,
    claimable_at,
    due_ids,
    extend_lease_due,
    insert_for_dialect,
    keep_hint,
)
from orderbridge.adapters.db.tables import order_exceptions as x
from orderbridge.adapters.db.tables import order_links as t

__all__ = [
    "COUNT_SHOPIFY_HINT",
    "NEXT_DUE",
    "OPEN_EXCEPTIONS",
    "RELEASE",
    "RELEASE_UNTIL_HINT",
    "RENEW",
    "claim",
    "create_link",
    "held_params",
    "mark_due",
    "save",
]

# The link is held by ``b_owner`` at ``b_version`` (optimistic: the claim bumped it).
_HELD: Final = and_(
    t.c.id == bindparam("b_id"),
    t.c.lease_owner == bindparam("b_owner"),
    t.c.version == bindparam("b_version"),
)


def held_params(link_id: int, owner: str, version: int) -> dict[str, Any]:
    """The parameters of ``_HELD``: this link, held by ``owner`` at ``version``."""
    return {"b_id": link_id, "b_owner": owner, "b_version": version}


@functools.cache
def create_link(dialect: str) -> Any:
    """INSERT of a new link unless the order has one (``ON CONFLICT DO NOTHING``)."""
    return (
        insert_for_dialect(dialect, t)
        .on_conflict_do_nothing(index_elements=[t.c.connection_id, t.c.tiktok_order_id])
        .returning(*t.c)
    )


@functools.cache
def mark_due(column: str, by_connection: bool) -> Any:
    """Links whose ``column`` is in ``b_values`` due at ``b_at`` unless due earlier."""
    at: BindParameter[datetime] = bindparam("b_at")
    stmt = update(t).where(
        t.c[column].in_(bindparam("b_values", expanding=True)),
        or_(t.c.next_due_at.is_(None), t.c.next_due_at > at),
    )
    if by_connection:
        stmt = stmt.where(t.c.connection_id == bindparam("b_connection"))
    return stmt.values(next_due_at=at)


@functools.cache
def claim(limit: int, by_connection: bool) -> Any:
    """The claiming UPDATE of up to ``limit`` links due at ``b_now`` (of ``b_connection``),
    leased to ``b_owner`` until ``b_expires``."""
    due = due_ids(t, bindparam("b_now", type_=t.c.next_due_at.type), limit, t.c.priority)
    if by_connection:
        due = due.where(t.c.connection_id == bindparam("b_connection"))
    return claim_statement(t, due)


@functools.cache
def save(keys: tuple[str, ...], due: str, release: bool) -> Any:
    """The UPDATE of ``save_link`` for these changed columns; ``due`` is "" (unchanged),
    "none" or "value" (``next_due_at`` set to ``None`` or to the parameter ``v_next_due_at``)."""
    values: dict[str, Any] = {k: bindparam(f"v_{k}", type_=t.c[k].type) for k in keys}
    if due:
        new_due = bindparam("v_next_due_at", type_=t.c.next_due_at.type) if due == "value" else None
        values["next_due_at"] = keep_hint(t, new_due)
    values["version"] = t.c.version + 1
    values["updated_at"] = bindparam("v_updated_at", type_=t.c.updated_at.type)
    if release:
        values["lease_owner"] = None
        values["lease_expires_at"] = None
    return update(t).where(_HELD).values(values).returning(*t.c)


# A held link's lease extended to ``b_expires``; given back (due at ``v_next_due_at`` or
# only when marked due), both keeping an earlier hint; the earliest claimable time.
_EXPIRES = bindparam("b_expires", type_=t.c.lease_expires_at.type)
RENEW: Final = (
    update(t)
    .where(_HELD)
    .values(next_due_at=extend_lease_due(t, _EXPIRES), lease_expires_at=_EXPIRES)
    .returning(*t.c)
)
RELEASE: Final = (
    update(t)
    .where(_HELD)
    .values(
        next_due_at=keep_hint(t, bindparam("v_next_due_at", type_=t.c.next_due_at.type)),
        lease_owner=None,
        lease_expires_at=None,
    )
)
RELEASE_UNTIL_HINT: Final = (
    update(t).where(_HELD).values(next_due_at=keep_hint(t, None), lease_owner=None, lease_expires_at=None)
)
NEXT_DUE: Final = select(func.min(claimable_at(t))).where(t.c.next_due_at.is_not(None))
COUNT_SHOPIFY_HINT: Final = (
    update(t)
    .where(t.c.id.in_(bindparam("b_values", expanding=True)))
    .values(shopify_hints=t.c.shopify_hints + 1,
            priority=case((t.c.priority > bindparam("b_priority"), bindparam("b_priority")),
                          else_=t.c.priority))
)
# The links in ``b_values`` that have an open exception (the status as a literal, so both
# databases use the partial index of open exceptions).
OPEN_EXCEPTIONS: Final = (
    select(x.c.link_id)
    .where(x.c.link_id.in_(bindparam("b_values", expanding=True)), text("order_exceptions.status = 'open'"))
    .distinct()
)
