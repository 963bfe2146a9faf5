"""The stock push's rows (``stock_skus``): due times, claims, pushes and problems.

A Shopify stock change makes the linked TikTok SKUs due (``mark_due``: debounced, the
earliest due time wins, ``hints`` counts changes). ``claim_due`` takes whole products: the
due SKUs of up to ``limit`` products, so one Update Inventory call carries them all. A
claimed row is due again at its claim's expiry (a claimer that died gives it back by
itself); ``finish`` releases it, and a change that arrived meanwhile (``hints`` moved) keeps
it due. SQL lives here only; the decisions are ``domain/stock_push.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, null, or_, select, update

from orderbridge.adapters.db._sql import insert_for, row_dict
from orderbridge.adapters.db.tables import (
    connections,
    order_links,
    sku_links,
    stock_reconciles,
    stock_skus,
    tiktok_skus,
)
from orderbridge.adapters.db.types import UTCDateTime

__all__ = [
    "ClaimedSku",
    "LinkedSku",
    "PendingOrder",
    "StockRow",
    "active_connection_policies",
    "claim_due",
    "connection_policies",
    "finish",
    "last_reconcile",
    "linked_skus",
    "list_rows",
    "mark_due",
    "next_due_time",
    "pending_orders",
    "set_last_reconcile",
    "skus_for_inventory_items",
]

_CHUNK = 500
# TikTok order statuses whose units still wait to ship (or to be paid), and link states
# that mean the order is out of the picture.
PENDING_TIKTOK_STATUSES = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING")
CLOSED_LINK_STATES = ("cancelled", "skipped", "gone", "done")


@dataclass(frozen=True, slots=True)
class LinkedSku:
    """A TikTok SKU linked to a Shopify variant, with its TikTok product."""

    connection_id: int
    tiktok_sku_id: str
    product_id: str | None
    inventory_item_id: str | None
    seller_sku: str | None


@dataclass(frozen=True, slots=True)
class ClaimedSku:
    connection_id: int
    tiktok_sku_id: str
    product_id: str | None
    hints: int
    attempts: int


@dataclass(frozen=True, slots=True)
class StockRow:
    connection_id: int
    tiktok_sku_id: str
    product_id: str | None
    due_at: datetime | None
    claimed_until: datetime | None
    hints: int
    attempts: int
    changed_at: datetime | None
    pushed: dict[str, Any] | None
    pushed_at: datetime | None
    problem_kind: str | None
    problem_code: int | None
    problem_message: str | None
    problem_at: datetime | None


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """A TikTok order whose units may still be waiting: raw snapshot (None: not read yet)."""

    link_id: int
    tiktok_order_id: str
    mirrored: bool
    snapshot: dict[str, Any] | None


def _linked_select() -> Any:
    return (
        select(sku_links.c.connection_id, sku_links.c.tiktok_sku_id, tiktok_skus.c.product_id,
               sku_links.c.shopify_inventory_item_id.label("inventory_item_id"), sku_links.c.seller_sku)
        .select_from(sku_links.outerjoin(tiktok_skus, and_(
            tiktok_skus.c.connection_id == sku_links.c.connection_id,
            tiktok_skus.c.sku_id == sku_links.c.tiktok_sku_id)))
    )


def skus_for_inventory_items(
    conn: Connection, connection_ids: Sequence[int], inventory_item_ids: Iterable[str]
) -> list[LinkedSku]:
    """The linked TikTok SKUs whose Shopify variant uses one of these inventory items (GIDs)."""
    wanted = list(dict.fromkeys(inventory_item_ids))
    if not wanted or not connection_ids:
        return []
    rows = conn.execute(_linked_select().where(
        sku_links.c.connection_id.in_(list(connection_ids)),
        sku_links.c.shopify_inventory_item_id.in_(wanted)))
    return [LinkedSku(**row_dict(r)) for r in rows]


def linked_skus(conn: Connection, connection_id: int, product_ids: Iterable[str] | None = None) -> list[LinkedSku]:
    """Every linked SKU of a connection (of these TikTok products, if given), by product."""
    stmt = _linked_select().where(sku_links.c.connection_id == connection_id)
    if product_ids is not None:
        stmt = stmt.where(tiktok_skus.c.product_id.in_(list(product_ids)))
    rows = conn.execute(stmt.order_by(tiktok_skus.c.product_id, sku_links.c.tiktok_sku_id))
    return [LinkedSku(**row_dict(r)) for r in rows]


def mark_due(conn: Connection, skus: Sequence[LinkedSku], *, now: datetime,
             due: datetime | Callable[[datetime | None], datetime]) -> int:
    """Make these SKUs due by ``due`` (an earlier due time stands); count the change.

    ``due`` may be a function of the SKU's last push time (the debounce)."""
    if not skus:
        return 0
    t = stock_skus
    last: dict[tuple[int, str], datetime | None] = {}
    if callable(due):
        for r in conn.execute(select(t.c.connection_id, t.c.tiktok_sku_id, t.c.pushed_at).where(
                or_(*(and_(t.c.connection_id == s.connection_id, t.c.tiktok_sku_id == s.tiktok_sku_id)
                      for s in skus)))):
            last[(int(r.connection_id), str(r.tiktok_sku_id))] = r.pushed_at
    ins = insert_for(conn, stock_skus)
    for sku in skus:
        at = due(last.get((sku.connection_id, sku.tiktok_sku_id))) if callable(due) else due
        conn.execute(
            ins.values(connection_id=sku.connection_id, tiktok_sku_id=sku.tiktok_sku_id,
                       product_id=sku.product_id, due_at=at, hints=1, attempts=0, changed_at=now)
            .on_conflict_do_update(
                index_elements=[t.c.connection_id, t.c.tiktok_sku_id],
                set_={
                    "product_id": ins.excluded.product_id,
                    "due_at": case((or_(t.c.due_at.is_(None), t.c.due_at > at), _at(at)), else_=t.c.due_at),
                    "hints": t.c.hints + 1,
                    "changed_at": func.coalesce(t.c.changed_at, now),
                },
            )
        )
    return len(skus)


def claim_due(conn: Connection, *, now: datetime, claim_for: timedelta, limit: int = 20) -> list[ClaimedSku]:
    """Claim the due SKUs of up to ``limit`` products (all due SKUs of each product)."""
    t = stock_skus
    free = and_(t.c.due_at <= now, or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now))
    products = conn.execute(
        select(t.c.connection_id, t.c.product_id, func.min(t.c.due_at).label("first"))
        .where(free).group_by(t.c.connection_id, t.c.product_id)
        .order_by("first").limit(limit)).all()
    claimed: list[ClaimedSku] = []
    until = now + claim_for
    for product in products:
        same_product = (t.c.product_id.is_(None) if product.product_id is None
                        else t.c.product_id == product.product_id)
        rows = conn.execute(
            select(t.c.connection_id, t.c.tiktok_sku_id, t.c.product_id, t.c.hints, t.c.attempts)
            .where(free, t.c.connection_id == product.connection_id, same_product)
            .with_for_update(skip_locked=True)).all()
        if not rows:
            continue
        conn.execute(update(t).where(
            t.c.connection_id == product.connection_id,
            t.c.tiktok_sku_id.in_([r.tiktok_sku_id for r in rows])).values(claimed_until=until, due_at=until))
        claimed.extend(ClaimedSku(int(r.connection_id), str(r.tiktok_sku_id), r.product_id,
                                  int(r.hints), int(r.attempts)) for r in rows)
    return claimed


def finish(
    conn: Connection,
    sku: ClaimedSku,
    *,
    now: datetime,
    next_due: datetime | None,
    hinted_due: datetime,
    pushed: dict[str, int] | None = None,
    attempts: int = 0,
    problem: tuple[str, int, str] | None = None,
    clear_problem: bool = False,
) -> None:
    """Release a claimed SKU: due at ``next_due`` (None: not due), or at ``hinted_due`` if a
    change came in since the claim. ``pushed``: what TikTok now holds, per warehouse."""
    t = stock_skus
    unchanged = t.c.hints == sku.hints
    values: dict[str, Any] = {
        "claimed_until": None, "attempts": attempts,
        "due_at": case((unchanged, _at(next_due)),
                       else_=_at(hinted_due if next_due is None else min(next_due, hinted_due))),
    }
    if pushed is not None:
        values.update(pushed=pushed, pushed_at=now,
                      changed_at=case((unchanged, null()), else_=t.c.changed_at))
    if problem is not None:
        kind, code, message = problem
        values.update(problem_kind=kind, problem_code=code, problem_message=message[:2000], problem_at=now)
    elif clear_problem:
        values.update(problem_kind=None, problem_code=None, problem_message=None, problem_at=None)
    conn.execute(update(t).where(t.c.connection_id == sku.connection_id,
                                 t.c.tiktok_sku_id == sku.tiktok_sku_id).values(**values))


def _at(value: datetime | None) -> Any:
    return null() if value is None else literal(value, UTCDateTime)


def next_due_time(conn: Connection) -> datetime | None:
    """The earliest due time of any SKU (claimed ones at their claim's expiry)."""
    found: datetime | None = conn.execute(select(func.min(stock_skus.c.due_at))).scalar()
    return found


def list_rows(conn: Connection, connection_id: int, *, problems_only: bool = False) -> list[StockRow]:
    stmt = select(stock_skus).where(stock_skus.c.connection_id == connection_id)
    if problems_only:
        stmt = stmt.where(stock_skus.c.problem_kind.is_not(None))
    rows = conn.execute(stmt.order_by(stock_skus.c.product_id, stock_skus.c.tiktok_sku_id))
    return [StockRow(**row_dict(r)) for r in rows]


def pending_orders(conn: Connection, connection_id: int) -> list[PendingOrder]:
    """TikTok orders of the connection whose units may not have shipped yet (not closed)."""
    ol = order_links
    rows = conn.execute(
        select(ol.c.id, ol.c.tiktok_order_id, ol.c.shopify_order_id, ol.c.tiktok_snapshot)
        .where(ol.c.connection_id == connection_id, ol.c.state.not_in(CLOSED_LINK_STATES),
               or_(ol.c.tiktok_status.is_(None), ol.c.tiktok_status.in_(PENDING_TIKTOK_STATUSES))))
    return [PendingOrder(int(r.id), str(r.tiktok_order_id), r.shopify_order_id is not None, r.tiktok_snapshot)
            for r in rows]


def last_reconcile(conn: Connection, connection_id: int) -> datetime | None:
    """When the connection's linked SKUs were last all made due (None: never)."""
    found: datetime | None = conn.execute(select(stock_reconciles.c.last_at).where(
        stock_reconciles.c.connection_id == connection_id)).scalar()
    return found


def set_last_reconcile(conn: Connection, connection_id: int, at: datetime) -> None:
    ins = insert_for(conn, stock_reconciles)
    conn.execute(ins.values(connection_id=connection_id, last_at=at).on_conflict_do_update(
        index_elements=[stock_reconciles.c.connection_id], set_={"last_at": ins.excluded.last_at}))


def active_connection_policies(conn: Connection) -> dict[int, dict[str, Any]]:
    """The stored policy JSON of every connection not disconnected."""
    rows = conn.execute(select(connections.c.id, connections.c.policy)
                        .where(connections.c.status != "disconnected"))
    return {int(r.id): dict(r.policy or {}) for r in rows}


def connection_policies(conn: Connection, connection_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored policy JSON of these connections."""
    if not connection_ids:
        return {}
    rows = conn.execute(select(connections.c.id, connections.c.policy).where(connections.c.id.in_(list(connection_ids))))
    return {int(r.id): dict(r.policy or {}) for r in rows}
