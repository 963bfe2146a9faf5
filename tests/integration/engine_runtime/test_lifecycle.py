"""An order's whole life through the engine, driven by hints and timers only."""

from __future__ import annotations

from orderbridge.adapters.db import events, order_exceptions, transaction
from orderbridge.devkit import usps_number

from .conftest import HOUR, Harness

USPS_NUMBER = usps_number(22319742849)


async def test_paid_order_released_fulfilled_tracked_delivered(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 2},
                                    {"seller_sku": "BOWL-WHT", "units": 1}])
    h.mark_due(order_id)
    await h.settle()

    [mirrored] = await h.shopify_orders(order_id)
    link = h.link(order_id)
    assert link.state == "created_held"
    assert link.shopify_order_id == mirrored["admin_graphql_api_id"] or link.shopify_order_id
    await h.advance(10)  # Shopify makes the fulfilment orders a moment later
    await h.settle()
    shop_order = await h.control.shopify_order(link.shopify_order_id or "")
    holds = [hold for fo in shop_order["fulfillment_orders"] for hold in fo["holds"]]
    assert holds
    assert all(hold["handle"] == "orderbridge" for hold in holds)

    # The remorse window ends; nobody tells the engine: its periodic re-check finds it.
    await h.advance(HOUR + 20 * 60)
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    shop_order = await h.control.shopify_order(link.shopify_order_id or "")
    assert not [hold for fo in shop_order["fulfillment_orders"] for hold in fo["holds"]]
    assert shop_order["financial_status"].upper() == "PAID"

    await h.control.fulfil(link.shopify_order_id or "", "USPS", USPS_NUMBER)
    h.mark_due(order_id)  # the Shopify fulfilment webhook's hint
    await h.settle()
    tiktok = await h.tiktok_order(order_id)
    assert tiktok["status"] == "AWAITING_COLLECTION"
    packages = await h.control.tiktok_packages(order_id)
    assert [p["tracking_number"] for p in packages] == [USPS_NUMBER]

    await h.control.tiktok_action(order_id, "collected")
    await h.control.tiktok_action(order_id, "delivered")
    await h.advance(HOUR)
    link = h.link(order_id)
    assert link.tiktok_status == "DELIVERED"
    assert len(await h.shopify_orders(order_id)) == 1
    assert len(await h.control.tiktok_packages(order_id)) == 1

    with transaction(h.services.db, write=False) as conn:
        story = events.timeline(conn, link.id)
        errors = order_exceptions.open_exceptions(conn, link_id=link.id)
    calls = [e for e in story if e.kind == "api_call"]
    assert calls
    assert all(e.remote_request_id for e in calls if e.data and e.data.get("status"))
    assert any(e.kind == "action" and "create_shopify_order" in e.summary for e in story)
    assert not [e for e in errors if e.severity == "error"]
    assert link.lease_owner is None
