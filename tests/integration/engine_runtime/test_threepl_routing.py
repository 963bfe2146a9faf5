"""Policy route_to: OrderBridge creates the 3PL order of a released order itself, once,
over real HTTP against the sandboxes, on both databases; its tracking comes back as for
any 3PL order."""

from __future__ import annotations

from typing import Any

from orderbridge.devkit import usps_number
from orderbridge.engine.policy_store import set_policy
from orderbridge.engine.threepl.poll import ThreePLPoller

from .conftest import HOUR, Harness


async def _orders(h: Harness, sandbox: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await h.control.call("GET", f"/{sandbox}/orders")
    return found


async def test_route_to_shipbob_creates_the_order_once_and_its_tracking_comes_back(harness: Harness) -> None:
    h = harness
    set_policy(h.services, h.connection, "route_to", "shipbob")
    order_id, shopify_id = await h.released_order(units=2)
    [created] = await _orders(h, "shipbob")
    assert created["reference_id"] == order_id
    assert created["shipping_method"] == "Standard"  # TikTok's Standard Shipping
    assert [(p["reference_id"], p["quantity"]) for p in created["products"]] == [("MW-SET-NAT", 2)]
    assert created["recipient"]["address"]["country"] == "US"
    assert h.link(order_id).last_error is None

    # Looked at again and again (a restart, re-checks): never a second order.
    h.mark_due(order_id)
    await h.settle()
    await h.advance(HOUR)
    assert len(await _orders(h, "shipbob")) == 1

    number = usps_number(22319742870)
    await h.control.warehouse("shipbob", created["id"], "accept")
    await h.control.warehouse("shipbob", created["id"], "ship", {"carrier": "USPS", "tracking_number": number})
    await h.control.advance(1)
    poller = ThreePLPoller(h.services.db, h.connection.id, h.now, shipbob=h.services.shipbob)
    assert await poller.poll_once() >= 1
    await h.settle()
    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == number
    [shopify] = await h.shopify_orders(order_id)
    assert [f["tracking_numbers"] for f in shopify["fulfillments"]] == [[number]]
    counts = (await h.control.mutation_counts())["per_order"][shopify_id]
    assert counts.get("fulfillmentCreate") == 1


async def test_route_to_amazon_mcf_maps_express_to_expedited_and_creates_once(harness: Harness) -> None:
    h = harness
    set_policy(h.services, h.connection, "route_to", "amazon_mcf")
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1},
                                    {"seller_sku": "BOWL-WHT", "units": 1}],
                             delivery_option="Express")
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    await h.advance(HOUR + 20 * 60)
    assert h.link(order_id).state == "released"
    [created] = await _orders(h, "amazon_mcf")
    order = created["fulfillmentOrder"]
    assert order["sellerFulfillmentOrderId"] == order_id
    assert order["shippingSpeedCategory"] == "Expedited"
    skus = sorted((i["sellerSku"], i["quantity"]) for i in created["fulfillmentOrderItems"])
    assert skus == [("BOWL-WHT", 1), ("MW-SET-NAT", 1)]
    h.mark_due(order_id)
    await h.settle()
    assert len(await _orders(h, "amazon_mcf")) == 1
