"""``FulfilFromThreePL``: one Shopify fulfilment carrying a 3PL parcel's tracking.

Looked at first: the order's fulfilments (the decision's view, else a fresh read). When one
already carries the number (a create whose answer was lost, or the seller's own 3PL app
wrote it), nothing is sent. ``fulfillmentCreate`` is not retried blindly after an unknown
outcome: the next decision reads the order and sees whether it went through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderbridge.adapters.shopify.builders import FulfillmentLinesSpec, TrackingSpec
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.domain.actions import FulfilFromThreePL
from orderbridge.domain.observed import FulfillmentStatus, ShopifyOrderView
from orderbridge.domain.outcome import Outcome
from orderbridge.engine.executor.tiktok import succeed

if TYPE_CHECKING:
    from orderbridge.engine.executor.core import ExecutionContext

__all__ = ["fulfil_from_threepl"]


def _has_number(view: ShopifyOrderView, number: str) -> str | None:
    for f in view.fulfillments:
        if f.status is FulfillmentStatus.CANCELLED:
            continue
        if any(n.strip().upper() == number for n in f.tracking_numbers):
            return f.id
    return None


async def fulfil_from_threepl(action: FulfilFromThreePL, ctx: ExecutionContext) -> Outcome:
    """Write the parcel to Shopify unless a fulfilment already carries its number."""
    view = ctx.view
    if view is None or view.id != action.shopify_order_id:
        snapshot = await ctx.shopify.get_order(action.shopify_order_id, priority=Priority.TRACKING)
        view = to_order_view(snapshot, our_app_holds_handle=ctx.policy.hold_handle)
    done = _has_number(view, action.tracking_number)
    if done is not None:
        return succeed(ctx, message=f"already on Shopify fulfilment {done}", fulfillment_id=done)
    result = await ctx.shopify.create_fulfillment(
        [FulfillmentLinesSpec(fulfillment_order_id=fo, lines=()) for fo in action.fulfillment_order_ids],
        tracking=TrackingSpec(company=action.tracking_company, numbers=(action.tracking_number,)),
        notify_customer=False,
        message=f"Shipped by {action.threepl} (order {action.threepl_order_id})",
        priority=Priority.TRACKING,
        order_ref=action.shopify_order_id,
    )
    return succeed(ctx, fulfillment_id=result.id)
