"""``Order.suggestedRefund``: Shopify's split of a refund before it is made, written from the
Admin GraphQL reference (SuggestedRefund, ShippingRefund): the refunded lines' discounted
subtotal and their share of tax, the shipping asked for (capped at what is left to refund
of it) with its share of shipping tax, and the most the order can still refund (money
received less money refunded); ``amountSet`` is their sum, capped at that maximum."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.sandbox.shopify.state import Order, cents, gid
from orderbridge.sandbox.shopify.world import totals

__all__ = ["suggested_refund_node"]

_ZERO = Decimal("0")


def suggested_refund_node(order: Order, refundLineItems: list[dict[str, Any]] | None = None,
                          shippingAmount: Any = None, refundShipping: bool | None = None,
                          **_ignored: Any) -> dict[str, Any]:
    from orderbridge.sandbox.shopify.nodes import money_bag  # nodes serves this field

    cur = order.currency
    subtotal = tax = _ZERO
    for raw in refundLineItems or []:
        li = next((x for x in order.line_items if gid("LineItem", x.id) == raw.get("lineItemId")), None)
        if li is None or not li.quantity:
            continue
        qty = max(0, min(int(raw.get("quantity") or 0), li.current_quantity))
        unit = li.price - li.discount / li.quantity - li.unit_discount
        subtotal += cents(unit * qty)
        tax += sum((cents(t.price * qty / li.quantity) for t in li.tax_lines), _ZERO)
    shipping_total = totals(order)["shipping"]
    left = max(shipping_total - sum((r.shipping for r in order.refunds), _ZERO), _ZERO)
    asked = left if refundShipping else (Decimal(str(shippingAmount)) if shippingAmount is not None else _ZERO)
    shipping = min(max(asked, _ZERO), left)
    shipping_tax_total = sum((t.price for s in order.shipping_lines for t in s.tax_lines), _ZERO)
    shipping_tax = cents(shipping_tax_total * shipping / shipping_total) if shipping_total else _ZERO
    now = totals(order, current=True)
    maximum = max(now["received"] - now["refunded"], _ZERO)
    if order.taxes_included:
        tax, shipping_tax = _ZERO, _ZERO
    amount = min(subtotal + tax + shipping + shipping_tax, maximum)
    return {
        "amountSet": money_bag(amount, cur), "subtotalSet": money_bag(subtotal, cur),
        "discountedSubtotalSet": money_bag(subtotal, cur), "totalTaxSet": money_bag(tax + shipping_tax, cur),
        "maximumRefundableSet": money_bag(maximum, cur),
        "shipping": {"amountSet": money_bag(shipping, cur), "maximumRefundableSet": money_bag(left, cur),
                     "taxSet": money_bag(shipping_tax, cur)},
    }
