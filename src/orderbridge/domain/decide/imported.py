"""Orders TikTok ships (TikTok Shipping, Fulfilled by TikTok) under ``import_fulfilled``.

lifecycle.md, "Orders that are not ours to fulfil": such an order is mirrored to Shopify as
already fulfilled, for accounting. OrderBridge never holds, releases, ships or pushes
tracking for it, and never works the buyer's cancellation requests (TikTok does). What
this module decides:

- **when**: once TikTok has the money and the buyer's free-cancel window is over (status
  AWAITING_SHIPMENT or later), so the record is not made for an order that is still likely
  to vanish; it is created fulfilled and PAID (``financial_status``), the tracking TikTok
  knows at that time on its fulfilment;
- **cancellations** after the import: the Shopify record is fulfilled, so it cannot simply
  be cancelled; a TikTok cancellation (whole or units) is raised as FULFILLED_BUT_CANCELLED
  for a person to refund the record by hand. Refunds TikTok completes are mirrored by the
  usual refund path (never restocking a Fulfilled-by-TikTok unit: it is TikTok's stock).
"""

from __future__ import annotations

from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.order import TikTokStatus, is_at_least

__all__ = ["IMPORT_FINANCIAL_STATUS", "import_ready", "import_tracking", "imported_cancellations"]

IMPORT_FINANCIAL_STATUS = "PAID"  # paid on TikTok; recorded with a "TikTok Shop" transaction


def import_ready(ctx: Ctx) -> bool:
    """Whether a TikTok-shipped order may be imported now (else a note says why not)."""
    if is_at_least(ctx.order.status, TikTokStatus.AWAITING_SHIPMENT):
        return True
    ctx.note(
        "TikTok ships this order: it is imported as fulfilled once paid and past the "
        "buyer's cancellation window (AWAITING_SHIPMENT)."
    )
    return False


def import_tracking(ctx: Ctx) -> tuple[str, str]:
    """(tracking number, carrier name) TikTok knows for the order, ``""`` where unknown.

    The carrier is TikTok's name on the line, else the name of its provider id in the
    delivery option's cached provider list.
    """
    for line in ctx.order.line_items:
        number = line.tracking_number.strip()
        if number:
            names = dict(ctx.observed.providers.get(ctx.order.delivery_option_id, ()))
            name = line.shipping_provider_name.strip() or names.get(line.shipping_provider_id, "")
            return number, name
    return "", ""


def imported_cancellations(ctx: Ctx) -> bool:
    """TikTok's cancellations of an imported TikTok-shipped order (not cancelled in Shopify).

    No desk: TikTok handles the buyer's requests for orders it ships. Cancelled units are
    raised for a person; True when the whole order is cancelled (nothing else to do).
    """
    cancelled = ctx.cancelled_line_ids()
    whole = ctx.all_units_cancelled()
    if not (cancelled or whole):
        return False
    ctx.flag(
        ExceptionCode.FULFILLED_BUT_CANCELLED,
        ("TikTok cancelled this order" if whole else "TikTok cancelled some units of this order")
        + ", which TikTok ships and which was imported into Shopify as fulfilled for "
        "accounting: there is no parcel of yours to stop; refund (or cancel) the Shopify "
        "record by hand so the books match.",
        {"cancelled_line_ids": ",".join(sorted(cancelled)), "whole_order": str(whole).lower()},
    )
    return whole
