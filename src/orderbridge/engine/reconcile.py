"""An order's money reconciliation and pending timer, read from its link for the dashboard.

The stored snapshots are vendor JSON: they are turned into models at the adapter edge
(``adapters/tiktok``, ``adapters/shopify``) and the amounts handed to the domain
(``domain/reconcile.py``). A snapshot that cannot be read leaves its amounts unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderbridge.adapters.db.events import EventRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.db.types import EventKind
from orderbridge.adapters.shopify.models import MoneyBag, OrderSnapshot
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import to_domain_order
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.reconcile import Reconciliation, to_cents

__all__ = ["Timer", "pending_timer", "reconcile"]


def _tiktok(snapshot: Any) -> tuple[str, int] | None:
    if not snapshot:
        return None
    try:
        payment = to_domain_order(Order.model_validate(snapshot)).payment
    except Exception:  # an unreadable snapshot: unknown (the worker raises ORDER_UNREADABLE)
        return None
    return payment.currency, to_cents(payment.total_amount)


def _amount(bag: MoneyBag | None) -> int | None:
    return None if bag is None else to_cents(bag.shop_money.amount)


def _shopify(snapshot: Any) -> tuple[int | None, int | None]:
    """(the order's current total, the payment received on it) in cents."""
    if not snapshot:
        return None, None
    try:
        order = OrderSnapshot.from_raw(dict(snapshot))
    except Exception:
        return None, None
    current = _amount(order.current_total_price_set)
    total = current if current is not None else _amount(order.total_price_set)
    outstanding = _amount(order.total_outstanding_set)
    return total, (None if total is None or outstanding is None else total - outstanding)


def reconcile(link: LinkRow) -> Reconciliation:
    """TikTok's total, the Shopify total and the payment recorded, from the link's snapshots."""
    tiktok = _tiktok(link.tiktok_snapshot)
    total, received = _shopify(link.shopify_snapshot)
    return Reconciliation(currency=tiktok[0] if tiktok else "USD", tiktok_total=tiktok[1] if tiktok else None,
                          shopify_total=total, recorded=received)


@dataclass(frozen=True, slots=True)
class Timer:
    """When the engine looks at the order next, and why."""

    due_at: datetime | None
    why: str
    leased_by: str | None
    payment_recorded: bool


def pending_timer(link: LinkRow, events: list[EventRow], now: datetime) -> Timer:
    """The link's next look (``next_due_at``) with the latest decision's summary as the why."""
    decisions = [e for e in events if e.kind == EventKind.DECISION]
    leased = link.lease_owner if link.lease_expires_at is not None and link.lease_expires_at > now else None
    if link.next_due_at is None:
        why = "nothing pending: the order is finished or waits for news from TikTok or Shopify"
    elif decisions:
        why = decisions[-1].summary
    else:
        why = "first look at the order"
    try:
        recorded = LinkMemory.from_json(link.memory).payment_recorded
    except (KeyError, TypeError, ValueError):  # a memory this version cannot read: the page still shows
        recorded = False
    return Timer(due_at=link.next_due_at, why=why, leased_by=leased, payment_recorded=recorded)
