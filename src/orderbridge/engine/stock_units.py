"""Units of TikTok orders that still hold stock, per SKU, from the links' TikTok snapshots.

``unmirrored``: units on orders not yet created in Shopify (TikTok took them from its own
stock, Shopify has not claimed them). ``mirrored``: units on orders already in Shopify and not
yet shipped (Shopify's ``committed`` holds them, and so does TikTok's committed count).
Orders the engine has not read yet have no snapshot: TikTok's committed count covers them
(``domain/stock_push.unmirrored_units``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from orderbridge.adapters.db.stock import PendingOrder
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import TranslationError, to_domain_order
from orderbridge.logs import get_logger

__all__ = ["PendingUnits", "pending_units"]

slog = get_logger(__name__)

# A line whose unit has left (shipped) or will never leave (cancelled) holds no stock.
_DONE_PACKAGE = frozenset({"PROCESSING", "FULFILLING", "COMPLETED", "CANCELLED"})
_DONE_DISPLAY = frozenset({"CANCELLED", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})


@dataclass
class PendingUnits:
    unmirrored: dict[str, int] = field(default_factory=dict)
    mirrored: dict[str, int] = field(default_factory=dict)


def pending_units(orders: Iterable[PendingOrder]) -> PendingUnits:
    """Count the waiting units per TikTok SKU id (TikTok line items are one unit each)."""
    found = PendingUnits()
    for pending in orders:
        if pending.snapshot is None:
            continue
        try:
            order = to_domain_order(Order.model_validate(pending.snapshot))
        except (ValidationError, TranslationError, ValueError) as exc:
            slog.warning("stock_snapshot_unreadable", tiktok_order_id=pending.tiktok_order_id, error=str(exc)[:300])
            continue
        into = found.mirrored if pending.mirrored else found.unmirrored
        for line in order.line_items:
            if line.package_status in _DONE_PACKAGE or line.display_status in _DONE_DISPLAY or line.cancel_user:
                continue
            into[line.sku_id] = into.get(line.sku_id, 0) + 1
    return found
