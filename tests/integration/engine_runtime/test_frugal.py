"""The engine spends no Shopify read a decision does not need (issues 3 and 14).

A whole order read costs ~28 points, more than a create or a hold (10 each). A create
followed by its hold reads only the fulfilment orders (what ``orderCreate`` answered is the
rest), once, when they are there: not at once after the create (they do not exist yet) nor
again after a hold that succeeded.
"""

from __future__ import annotations

from orderbridge.adapters.db import EventKind, events, transaction

from .conftest import Harness


def _shopify_calls(h: Harness, tiktok_id: str) -> list[str]:
    link = h.link(tiktok_id)
    with transaction(h.services.db, write=False) as conn:
        story = events.timeline(conn, link.id)
    return [
        str(e.data["operation"]) for e in story
        if e.kind == EventKind.API_CALL and e.data and e.data.get("api") == "shopify"
    ]


async def test_create_then_hold_spends_exactly_one_lean_read(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 2},
                                    {"seller_sku": "BOWL-WHT", "units": 1}])
    h.mark_due(order_id)
    await h.settle()
    assert _shopify_calls(h, order_id) == ["OrderCreate"]  # fulfilment orders are not there yet
    await h.advance(3)  # the decision's retry_soon: Shopify has built them meanwhile
    link = h.link(order_id)
    shop_order = await h.control.shopify_order(link.shopify_order_id or "")
    fos = shop_order["fulfillment_orders"]
    assert fos
    assert all(any(hold["handle"] == "orderbridge" for hold in fo["holds"]) for fo in fos)
    await h.advance(10 * 60)  # well before the release and the periodic re-check
    calls = _shopify_calls(h, order_id)
    assert calls == ["OrderCreate", "OrderFulfillmentOrders"] + ["FulfillmentOrderHold"] * len(fos)

