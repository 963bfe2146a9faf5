"""The executor's Shopify order edits and fulfilment-service requests (see ``executor.py``
for the rules every action follows); module functions only to keep each module small."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from orderbridge.adapters.shopify.api_edits import SwapKept
from orderbridge.adapters.shopify.builders import money
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.domain import actions
from orderbridge.domain.observed import ShopifyOrderView
from orderbridge.domain.outcome import Outcome
from orderbridge.engine.executor.tiktok import succeed
from orderbridge.errors import Rejected

if TYPE_CHECKING:
    from orderbridge.engine.executor.core import ExecutionContext

__all__ = ["RESTORED_TAX_TITLE", "channel_tax_title", "fs_cancel", "order_view", "restore_tax", "swap_line"]

RESTORED_TAX_TITLE = (
    "Sales tax collected and remitted by TikTok Shop (channel-liable, not owed by the merchant), "
    "dropped by Shopify's tax recalculation for the shipping address"
)

# A fulfilment order whose service has our request (or has cancelled it): nothing to send.
_FS_CANCEL_SENT = frozenset({"CANCELLATION_REQUESTED", "CANCELLATION_ACCEPTED"})
_FS_GONE = frozenset({"CANCELLED", "CLOSED"})


def _cents(amount: Decimal | None) -> str:
    return "" if amount is None else money(amount)


async def order_view(ctx: ExecutionContext, order_id: str) -> ShopifyOrderView:
    """The view this decision fetched, or a fresh one when it is missing or another order's."""
    if ctx.view is not None and ctx.view.id == order_id:
        return ctx.view
    snapshot = await ctx.shopify.get_order(order_id)
    return to_order_view(snapshot, our_app_holds_handle=ctx.policy.hold_handle)


async def swap_line(action: actions.SwapCustomLine, ctx: ExecutionContext) -> Outcome:
    """Swap the custom line for the variant keeping the order's total (the price paid and
    TikTok's channel-liable tax), or keep the custom line when the swap would change the total
    (``kept_custom_line``); nothing when the order shows it done.

    The edit is one commit (variant, removal, discount, tax item), so an order whose custom
    line is gone and whose variant is there has all of it: a repeat after an unknown outcome
    adds nothing.
    """
    if action.custom_line_item_id in ctx.memory.custom_lines_kept:
        return succeed(ctx, "the custom line is kept", kept_custom_line=action.custom_line_item_id)
    view = await order_view(ctx, action.shopify_order_id)
    custom = next((li for li in view.line_items if li.id == action.custom_line_item_id), None)
    has_variant = any(
        li.variant_id == action.variant_id and li.current_quantity > 0 for li in view.line_items
    )
    if (custom is None or custom.current_quantity <= 0) and has_variant:
        return succeed(ctx, "already swapped")
    # One edit: the variant in, the custom line out, the price the buyer paid kept (a
    # per-unit discount when the variant costs more; no swap when it costs less) and the
    # custom line's channel-liable tax carried by a non-taxable custom item; committed only
    # when Shopify's staged total equals the total before the edit.
    result = await ctx.shopify.swap_custom_line_for_variant(
        action.shopify_order_id,
        action.custom_line_item_id,
        action.variant_id,
        quantity=action.quantity,
        location_id=ctx.location_id,
        staff_note=f"TikTok SKU {action.tiktok_sku_id} linked to its variant",
        discount_description=f"Price paid on TikTok for SKU {action.tiktok_sku_id}",
        channel_tax=action.channel_tax,
        channel_tax_title=channel_tax_title(action.tiktok_sku_id),
        priority=action.priority,
    )
    if result.kept is SwapKept.CHEAPER:
        return succeed(
            ctx,
            f"not swapped: the variant costs {_cents(result.variant_unit_price)}, less than the "
            f"{_cents(result.custom_unit_price)} the buyer paid, and an order edit cannot raise a "
            "variant's price; the custom line keeps the price",
            kept_custom_line=action.custom_line_item_id,
            variant_unit_price=_cents(result.variant_unit_price),
            custom_unit_price=_cents(result.custom_unit_price),
        )
    if not result.committed:
        return succeed(
            ctx,
            f"not swapped: the edit would leave the Shopify total at {_cents(result.total_staged)}, "
            f"not {_cents(result.total_before)} (Shopify would tax the variant, or a discount does "
            "not divide by the units); the custom line keeps the price",
            kept_custom_line=action.custom_line_item_id,
            total_before=_cents(result.total_before),
            total_staged=_cents(result.total_staged),
        )
    ids: dict[str, str] = {}
    done = "swapped"
    if result.discount_per_unit > 0:
        done += (f", {result.discount_per_unit} off each unit to keep {_cents(result.custom_unit_price)}"
                 f" (variant {_cents(result.variant_unit_price)})")
        ids["discount_per_unit"] = str(result.discount_per_unit)
    if result.channel_tax > 0:
        done += f", TikTok's channel-liable tax {_cents(result.channel_tax)} kept as a non-taxable item"
        ids["channel_tax"] = _cents(result.channel_tax)
    return succeed(ctx, done, **ids)


async def restore_tax(action: actions.RestoreTax, ctx: ExecutionContext) -> Outcome:
    """Add back, in one order edit, the tax Shopify's recalculation dropped, as a non-taxable
    custom item needing no shipping; committed only when the staged total is the plan's.

    Nothing when the order's total already equals the plan's (a repeat after an unknown
    outcome: the edit is one commit, so a committed one shows in the total)."""
    view = await order_view(ctx, action.shopify_order_id)
    if view.current_total is not None and view.current_total == action.planned_total:
        return succeed(ctx, "the total already equals the plan's")
    edit = await ctx.shopify.begin_order_edit(action.shopify_order_id, priority=action.priority)
    _, staged = await ctx.shopify.order_edit_add_custom_item(
        edit.id, title=RESTORED_TAX_TITLE, unit_price=action.amount, currency=action.currency,
        taxable=False, requires_shipping=False, priority=action.priority,
    )
    if staged is None or staged != action.planned_total:
        # Left uncommitted (Shopify discards it): the next decision sees the same total and
        # raises TOTALS_MISMATCH with the amounts.
        raise Rejected(
            f"adding back {_cents(action.amount)} of tax would leave the Shopify total at "
            f"{_cents(staged)}, not {_cents(action.planned_total)}: edit not committed",
            api="shopify", operation="orderEditAddCustomItem",
        )
    await ctx.shopify.commit_order_edit(
        edit.id, staff_note="Tax TikTok collected, dropped by Shopify's recalculation",
        priority=action.priority, order_ref=action.shopify_order_id,
    )
    return succeed(ctx, f"tax {_cents(action.amount)} added back: total {_cents(staged)}",
                   restored_tax=_cents(action.amount))


def channel_tax_title(tiktok_sku_id: str) -> str:
    """The title of the custom item that carries a swapped line's tax: what it is, who
    collected it, and that the merchant does not owe it."""
    return (f"Sales tax collected and remitted by TikTok Shop (channel-liable, not owed by the "
            f"merchant) for TikTok SKU {tiktok_sku_id}")


async def fs_cancel(action: actions.RequestFulfillmentServiceCancel, ctx: ExecutionContext) -> Outcome:
    """Ask the fulfilment service to cancel, unless memory or Shopify shows it was asked (an
    answer lost after Shopify took the request) or the fulfilment order is already gone."""
    if ctx.memory.fs_cancel_requested_at is not None:
        return succeed(ctx, "cancellation already requested from the fulfilment service")
    order_id = ctx.memory.shopify_order_id or (ctx.view.id if ctx.view is not None else "")
    if order_id:
        snapshot = await ctx.shopify.get_order(order_id)
        fo = next((f for f in snapshot.fulfillment_orders if f.id == action.fulfillment_order_id), None)
        request = (fo.request_status or "").upper() if fo is not None else ""
        if fo is not None and (request in _FS_CANCEL_SENT or fo.status.upper() in _FS_GONE):
            return succeed(
                ctx,
                f"the fulfilment service already has it ({fo.status}, {request})",
                request_status=request,
            )
    result = await ctx.shopify.submit_cancellation_request(
        action.fulfillment_order_id, message=action.message or None, priority=action.priority
    )
    return succeed(ctx, "requested", request_status=result.request_status or "")
