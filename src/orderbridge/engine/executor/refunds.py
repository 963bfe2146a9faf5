"""The Shopify refund of a TikTok refund: against the recorded "TikTok Shop" payment, never
twice (memory, then a refund carrying our note), capped by what Shopify still holds, with
Shopify's own split of the units, tax and shipping recorded on the timeline.

A module function rather than an ``ActionExecutor`` method only to keep each module small,
like ``edits.py`` and ``tiktok.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderbridge.adapters.shopify.builders import RefundLineSpec, money
from orderbridge.domain import actions
from orderbridge.domain.outcome import Outcome
from orderbridge.engine.executor.tiktok import succeed

if TYPE_CHECKING:
    from orderbridge.engine.executor.core import ExecutionContext

__all__ = ["refund"]


async def refund(action: actions.RefundShopify, ctx: ExecutionContext) -> Outcome:
    """Refund in Shopify what TikTok refunded (once: memory, then our note on a refund)."""
    if action.return_id in ctx.memory.refunds_done:
        return succeed(ctx, "already refunded")
    # Memory misses a refund whose answer was lost, and the @idempotent key is only sent
    # from API 2026-01: look for our refund (by its note) before creating one.
    note = f"TikTok refund {action.return_id}"
    state = await ctx.shopify.refund_state(action.shopify_order_id, priority=action.priority)
    done = next((r for r in state.refunds if (r.note or "") == note), None)
    if done is not None:
        return succeed(ctx, "already refunded in Shopify", refund_id=done.id)
    default = "RETURN" if action.restock else "NO_RESTOCK"
    types = action.restock_types or (default,) * len(action.line_items)
    lines = [
        RefundLineSpec(
            line_item_id=line_id,
            quantity=qty,
            restock_type=kind,
            location_id=ctx.location_id if kind != "NO_RESTOCK" else None,
        )
        for (line_id, qty), kind in zip(action.line_items, types, strict=True)
        if qty > 0
    ]
    # Shopify's own split of these units and TikTok's shipping refund: the shipping it
    # still holds caps ours, and the note says how TikTok's total falls into lines, tax
    # and shipping as Shopify counts them.
    split = await ctx.shopify.suggested_refund(
        action.shopify_order_id, lines, shipping=action.shipping if action.shipping > 0 else None,
        priority=action.priority)
    shipping = min(action.shipping, split.shipping_refundable)
    # The money TikTok gave back, as a refund of the recorded payment (never more than
    # Shopify holds: an order whose payment was never recorded refunds nothing).
    parent = state.refund_parent()
    amount = min(action.amount, state.refundable(), split.maximum_refundable)
    transactions = []
    if parent is not None and amount > 0:
        transactions.append({
            "orderId": action.shopify_order_id, "parentId": parent.id, "kind": "REFUND",
            "gateway": parent.gateway or "manual", "amount": money(amount),
        })
    result = await ctx.shopify.create_refund(
        action.shopify_order_id,
        idempotency_key=action.idempotency_key,
        lines=lines,
        shipping_amount=shipping if shipping > 0 else None,
        note=note,
        transactions=transactions,
        priority=action.priority,
    )
    message = f"refunded {money(amount) if transactions else '0.00'}"
    if action.amount > 0 and (not transactions or amount < action.amount):
        message += f" of the {money(action.amount)} TikTok refunded (Shopify holds less)"
    message += (f"; Shopify's split: lines {money(split.subtotal)}, tax {money(split.tax)}, "
                f"shipping {money(split.shipping_amount)}")
    return succeed(ctx, message, refund_id=result.id, shopify_lines=money(split.subtotal),
                   shopify_tax=money(split.tax), shopify_shipping=money(split.shipping_amount))
