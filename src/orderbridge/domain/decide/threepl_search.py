"""The fallback search for a 3PL order the polls have not found.

The poller stores every 3PL order that changed since its last look, whatever its
reference. An order released a while ago (``threepl_search_after``) whose 3PL order is
still unknown (the seller's app filed it under a reference nobody expected, or before the
poller's first look) is searched for directly: ``FindThreePLOrder`` under each reference
``threepl.references`` lists (Amazon by ``getFulfillmentOrder``, then its orders listed
since the TikTok order was placed; ShipBob by ``ReferenceIds``), at most every
``threepl_search_interval``. Still none after ``threepl_missing_after``:
``THREEPL_ORDER_MISSING`` (a warning) asks a person whether the seller's app sent it.
"""

from __future__ import annotations

from orderbridge.domain.actions import FindThreePLOrder
from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.observed import ShopifyOrderView
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.policy import RouteTo
from orderbridge.domain.threepl import holder, references

__all__ = ["look_for_threepl_order"]


def look_for_threepl_order(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Search for a released order's unknown 3PL order (see the module docstring)."""
    m, order, policy = ctx.memory, ctx.order, ctx.policy
    held_by = holder(policy, view)
    if held_by is None or ctx.observed.threepl is not None or view.shipped:
        return
    if m.released_at is None or order.status is not TikTokStatus.AWAITING_SHIPMENT:
        return
    if policy.route_to is not RouteTo.NONE and not m.threepl_routed:
        return  # routing creates it first
    start = m.released_at + policy.threepl_search_after
    if ctx.now < start:
        ctx.due(start)
        return
    refs = references(policy.threepl_reference, order.id, view)
    if ctx.now >= m.released_at + policy.threepl_missing_after:
        ctx.flag(
            ExceptionCode.THREEPL_ORDER_MISSING,
            f"No {held_by.value} order found for this order since its release: looked for "
            f"{', '.join(refs)}. Check that the seller's Shopify->{held_by.value} app sent it "
            "(and which reference it used: policy threepl_reference).",
            {"threepl": held_by.value, "references": ",".join(refs)},
        )
    if m.threepl_searched_at is not None and ctx.now < m.threepl_searched_at + policy.threepl_search_interval:
        ctx.due(m.threepl_searched_at + policy.threepl_search_interval)
        return
    ctx.act(
        FindThreePLOrder(
            threepl=held_by.value,
            tiktok_order_id=order.id,
            references=refs,
            since=order.create_time or m.released_at,
        )
    )
