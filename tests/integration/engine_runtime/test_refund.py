"""A completed TikTok return mirrored by the whole engine as one Shopify refund, on both
databases: the returned unit restocked, the money TikTok gave back refunded against the
recorded "TikTok Shop" payment, and never twice however often the order is looked at."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.devkit import usps_number

from .conftest import HOUR, Harness

USPS_NUMBER = usps_number(22319742856)


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def test_completed_return_is_refunded_once_with_its_money(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await h.released_order(units=2)
    await h.control.fulfil(shopify_id, "USPS", USPS_NUMBER)
    h.mark_due(order_id)
    await h.settle()
    await h.control.tiktok_action(order_id, "collected")
    await h.control.tiktok_action(order_id, "delivered")
    h.mark_due(order_id)
    await h.settle()

    tiktok = await h.tiktok_order(order_id)
    first_line = tiktok["line_items"][0]["id"]
    opened = await h.control.call("POST", f"/tiktok/orders/{order_id}/returns", {
        "return_type": "RETURN_AND_REFUND", "order_line_item_ids": [first_line]})
    return_id = opened["return_id"]
    before = await h.control.shopify_order(shopify_id)
    available = before["inventory"]["MW-SET-NAT"]["available"]
    for step in ("approve", "buyer_shipped", "received", "refunded"):
        await h.control.call("POST", f"/tiktok/returns/{return_id}/{step}")
    [record] = await h.control.call("GET", "/tiktok/returns", order_id=order_id)
    assert record["return_status"] == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    paid_back = cents(record["refund_amount"]["refund_total"])
    assert paid_back > 0

    h.mark_due(order_id)  # the return webhook's hint
    await h.settle()
    await h.advance(2 * HOUR)  # more looks: nothing more happens
    h.mark_due(order_id)
    await h.settle()

    after = await h.control.shopify_order(shopify_id)
    [refund] = after["refunds"]
    assert refund["note"] == f"TikTok refund {return_id}"
    [line] = refund["refund_line_items"]
    assert (line["quantity"], line["restock_type"]) == (1, "return")
    assert after["inventory"]["MW-SET-NAT"]["available"] == available + 1
    [money_back] = refund["transactions"]
    assert money_back["kind"] == "refund"
    assert cents(money_back["amount"]) == paid_back
    assert after["financial_status"] == "partially_refunded"
    counts = await h.control.mutation_counts(h.connection.shopify_domain)
    assert sum(f.get("refundCreate", 0) for f in counts["per_shop"].values()) == 1
