"""Returns and refunds: when a TikTok refund reaches Shopify, what it refunds and restocks,
which requests wait for the seller (and by when), and the 30-day return window.

Facts (TikTok Return and Refund API 202309, Search Returns and the type-12 webhook):

- the money has moved when a request is ``RETURN_OR_REFUND_REQUEST_COMPLETE`` (or, for a
  replacement TikTok refunded instead, ``REPLACEMENT_REQUEST_REFUND_SUCCESS``); ``..._SUCCESS``
  only means approved, so nothing is written to Shopify before COMPLETE;
- the rejection is spelt ``RETURN_OR_REFUND_REQUEST_REJECT`` by the API reference and
  ``REFUND_OR_RETURN_REQUEST_REJECT`` by the status list of the webhook page: both are one;
- TikTok line items are one unit each: a refund counts the units it names;
- the seller answers a pending request (or a returned parcel) within 48 h, else TikTok
  decides for the buyer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from orderbridge.domain.observed import ReturnRecord

__all__ = [
    "MONEY_MOVED",
    "RETURN_WINDOW",
    "SELLER_STATUSES",
    "LineUnits",
    "RefundLine",
    "RefundPlan",
    "Restock",
    "SellerTask",
    "allocate",
    "approve_decision",
    "auto_approvable",
    "goods_back",
    "money_moved",
    "normalise_status",
    "plan_refund",
    "refund_key",
    "reject_decision",
    "replacement_marks",
    "seller_tasks",
    "window_closes",
    "within_window",
]

CENT = Decimal("0.01")
COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
REPLACEMENT_REFUNDED = "REPLACEMENT_REQUEST_REFUND_SUCCESS"
MONEY_MOVED = frozenset({COMPLETE, REPLACEMENT_REFUNDED})
REJECTED = "RETURN_OR_REFUND_REQUEST_REJECT"
_SPELLINGS = {"REFUND_OR_RETURN_REQUEST_REJECT": REJECTED}
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
REPLACEMENT_PENDING = "REPLACEMENT_REQUEST_PENDING"
PARCEL_BACK = "BUYER_SHIPPED_ITEM"
# What the seller answers: a pending request, a pending replacement, a parcel on its way back.
SELLER_STATUSES = (PENDING, REPLACEMENT_PENDING, PARCEL_BACK)
RETURN_AND_REFUND = "RETURN_AND_REFUND"
REFUND_ONLY = "REFUND"
# TikTok US: buyers may ask for a return within 30 days of delivery.
RETURN_WINDOW = timedelta(days=30)


def normalise_status(raw: str) -> str:
    """TikTok's return status, upper case, one spelling per status."""
    status = raw.strip().upper()
    return _SPELLINGS.get(status, status)


def money_moved(status: str) -> bool:
    """TikTok has paid the buyer back: the only time a refund is written to Shopify."""
    return normalise_status(status) in MONEY_MOVED


def goods_back(record: ReturnRecord) -> bool:
    """The returned units reached the seller and were accepted: a return-and-refund TikTok
    completed without a dispute (a refused parcel won in arbitration is not stock to sell)."""
    return (
        record.type == RETURN_AND_REFUND
        and normalise_status(record.status) == COMPLETE
        and not record.arbitration_status
        and not record.buyer_keeps_item
    )


def refund_key(return_id: str, status: str) -> str:
    """Shopify's idempotency key of the refund mirroring one TikTok return in one status."""
    status = normalise_status(status)
    return f"tiktok-refund-{return_id}-{status.lower()}" if status else f"tiktok-refund-{return_id}"


class Restock(StrEnum):
    """Shopify's ``RefundLineItemRestockType`` for a refunded line."""

    RETURN = "RETURN"  # the units came back: into stock at the location
    CANCEL = "CANCEL"  # never fulfilled: the units were never taken out
    NO_RESTOCK = "NO_RESTOCK"  # kept by the buyer, lost, or TikTok's (FBT) stock


@dataclass(frozen=True, slots=True)
class LineUnits:
    """One Shopify line and the TikTok units (line item ids) it stands for."""

    shopify_line_id: str
    tiktok_line_ids: tuple[str, ...]
    unfulfilled: int  # units of the Shopify line not fulfilled (and not refunded)


@dataclass(frozen=True, slots=True)
class RefundLine:
    shopify_line_id: str
    quantity: int
    restock: Restock


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What Shopify is asked to refund for one TikTok return."""

    lines: tuple[RefundLine, ...]
    shipping: Decimal  # TikTok's shipping refund
    amount: Decimal  # the money: TikTok's refund total, to the cent
    idempotency_key: str


def plan_refund(record: ReturnRecord, lines: Sequence[LineUnits], *, fbt: bool) -> RefundPlan:
    """The Shopify refund for a return whose money moved.

    Each Shopify line refunds as many units as the return names among its TikTok units. A
    partial refund the buyer accepted (the item kept) refunds money only. Units go back to
    stock only when the goods came back (``RETURN``: ``received``, see ``goods_back``) or were
    never fulfilled (``CANCEL``), and never for FBT: that stock is TikTok's.
    """
    named = set(record.line_item_ids)
    chosen: list[RefundLine] = []
    if not record.buyer_keeps_item:
        back = record.received
        for line in lines:
            count = sum(1 for unit in line.tiktok_line_ids if unit in named)
            if count <= 0:
                continue
            if fbt:
                restock = Restock.NO_RESTOCK
            elif count <= line.unfulfilled:
                restock = Restock.CANCEL
            elif back:
                restock = Restock.RETURN
            else:
                restock = Restock.NO_RESTOCK
            chosen.append(RefundLine(line.shopify_line_id, count, restock))
    amount = max(record.refund_total, Decimal("0"))
    shipping = min(max(record.refund_shipping, Decimal("0")), amount)
    return RefundPlan(tuple(chosen), shipping, amount, refund_key(record.return_id, record.status))


def allocate(total: Decimal, weights: Sequence[Decimal]) -> tuple[Decimal, ...]:
    """Split ``total`` over ``weights`` to the cent: each share in proportion, rounded down,
    the cents left over to the largest remainders (earliest first), so the shares add up to
    ``total`` exactly. No positive weight: all of it to the first share (none if no weights)."""
    if not weights:
        return ()
    cents = int((total / CENT).to_integral_value())
    positive = [max(w, Decimal("0")) for w in weights]
    whole = sum(positive, Decimal("0"))
    if whole <= 0:
        return tuple(Decimal(cents if i == 0 else 0) * CENT for i in range(len(weights)))
    exact = [Decimal(cents) * w / whole for w in positive]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    left = cents - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return tuple(Decimal(c) * CENT for c in floors)


@dataclass(frozen=True, slots=True)
class SellerTask:
    """A request waiting for the seller, and what TikTok does at the deadline."""

    return_id: str
    order_id: str
    return_type: str
    status: str
    deadline: datetime | None
    refund_total: Decimal
    approve: str  # the Approve Return decision that fits
    reject: str  # the Reject Return decision that fits


def approve_decision(record: ReturnRecord) -> str:
    """The Approve Return ``decision`` for the record's state ("" when none fits)."""
    status = normalise_status(record.status)
    if status == REPLACEMENT_PENDING:
        return "APPROVE_REPLACEMENT"
    if status == PARCEL_BACK:
        return "APPROVE_RECEIVED_PACKAGE"
    if status == PENDING:
        return "APPROVE_RETURN" if record.type == RETURN_AND_REFUND else "APPROVE_REFUND"
    return ""


def reject_decision(record: ReturnRecord) -> str:
    """The Reject Return ``decision`` for the record's state ("" when none fits)."""
    status = normalise_status(record.status)
    if status == REPLACEMENT_PENDING:
        return "REJECT_REPLACEMENT"
    if status == PARCEL_BACK:
        return "REJECT_RECEIVED_PACKAGE"
    if status == PENDING:
        return "REJECT_RETURN" if record.type == RETURN_AND_REFUND else "REJECT_REFUND"
    return ""


def seller_tasks(records: Iterable[ReturnRecord]) -> list[SellerTask]:
    """Requests the seller must answer, the most urgent first (no deadline last)."""
    tasks = [
        SellerTask(r.return_id, r.order_id, r.type, normalise_status(r.status), r.deadline, r.refund_total,
                   approve_decision(r), reject_decision(r))
        for r in records
        if approve_decision(r)
    ]
    return sorted(tasks, key=lambda t: (t.deadline is None,
                                        t.deadline.timestamp() if t.deadline else 0.0, t.return_id))


def auto_approvable(record: ReturnRecord, limit: Decimal | None) -> bool:
    """Policy: a pending refund-only request of at most ``limit`` is approved at once."""
    return (
        limit is not None
        and record.type == REFUND_ONLY
        and normalise_status(record.status) == PENDING
        and record.refund_total <= limit
    )


REPLACES_ATTRIBUTE = "tiktok_replaces_order_id"
REPLACEMENT_TAG = "tiktok-replacement"


def replacement_marks(is_replacement: bool, replaced_order_id: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Tags and custom attributes that tie a replacement's Shopify order to the original."""
    if not is_replacement:
        return (), ()
    original = replaced_order_id.strip()
    return (REPLACEMENT_TAG,), (((REPLACES_ATTRIBUTE, original),) if original else ())


def window_closes(delivered_at: datetime | None) -> datetime | None:
    """When the buyer can no longer ask for a return (30 days after delivery)."""
    return None if delivered_at is None else delivered_at + RETURN_WINDOW


def within_window(delivered_at: datetime | None, now: datetime) -> bool:
    """Delivered, and the return window still open at ``now``."""
    closes = window_closes(delivered_at)
    return closes is not None and delivered_at is not None and delivered_at <= now < closes
