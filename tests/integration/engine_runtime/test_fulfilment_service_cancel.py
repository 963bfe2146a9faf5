"""A TikTok cancellation of an order a fulfilment service (3PL app) is processing, through the
whole engine on both databases: the cancellation request goes to the service once, and the
Shopify order is cancelled only after the service accepted it."""

from __future__ import annotations

from .conftest import HOUR, Harness


async def test_service_is_asked_once_then_the_order_is_cancelled(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await h.control.call("POST", f"/shopify/orders/{shopify_id}/assign-service", {"handle": "acme-3pl"})
    [fo] = (await h.control.shopify_order(shopify_id))["fulfillment_orders"]
    assert (fo["status"], fo["request_status"]) == ("IN_PROGRESS", "ACCEPTED")

    await h.control.tiktok_action(order_id, "tiktok_cancel", {"reason": "system_cancel_order_reason_risk"})
    h.mark_due(order_id)
    await h.settle()
    [fo] = (await h.control.shopify_order(shopify_id))["fulfillment_orders"]
    assert fo["request_status"] in ("CANCELLATION_REQUESTED", "CANCELLATION_ACCEPTED")

    await h.advance(2 * HOUR)  # the service accepts; the engine cancels the Shopify order
    h.mark_due(order_id)
    await h.settle()
    shop = await h.control.shopify_order(shopify_id)
    [fo] = shop["fulfillment_orders"]
    assert fo["request_status"] == "CANCELLATION_ACCEPTED"
    assert shop["cancelled_at"] is not None
    counts = await h.control.mutation_counts(h.connection.shopify_domain)
    per_shop = counts["per_shop"].values()
    assert sum(f.get("fulfillmentOrderSubmitCancellationRequest", 0) for f in per_shop) == 1
    assert sum(f.get("orderCancel", 0) for f in per_shop) == 1
    assert h.link(order_id).state in ("cancelled", "done")
