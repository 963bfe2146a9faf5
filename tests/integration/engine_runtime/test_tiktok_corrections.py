"""TikTok-side corrections made by the whole engine, on both databases: the one tracking
correction after the merchant changes a fulfilment's number, and the seller cancel a person
chose for an order cancelled in Shopify only."""

from __future__ import annotations

from orderbridge.adapters.db import events, links, order_exceptions, transaction
from orderbridge.devkit import usps_number
from orderbridge.domain.link import LinkMemory
from orderbridge.web.overrides import apply_override, memory_change

from .conftest import HOUR, Harness

FIRST = usps_number(22319742863)
SECOND = usps_number(22319742870)



def api_operations(h: Harness, order_id: str) -> list[str]:
    link = h.link(order_id)
    with transaction(h.services.db, write=False) as conn:
        story = events.timeline(conn, link.id)
    return [str((e.data or {}).get("operation", "")) for e in story if e.kind == "api_call"]


async def test_changed_tracking_is_corrected_once_on_the_package(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await h.control.fulfil(shopify_id, "USPS", FIRST)
    h.mark_due(order_id)
    await h.settle()
    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == FIRST

    [fulfillment] = (await h.control.shopify_order(shopify_id))["fulfillments"]
    await h.control.call("POST", f"/shopify/fulfillments/{fulfillment['admin_graphql_api_id']}/tracking",
                         {"company": "USPS", "number": SECOND})
    h.mark_due(order_id)  # the fulfillments/update webhook's hint
    await h.settle()
    await h.advance(HOUR)  # more looks change nothing
    h.mark_due(order_id)
    await h.settle()

    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == SECOND
    assert (await h.tiktok_order(order_id))["line_items"][0]["tracking_number"] == SECOND
    memory = LinkMemory.from_json(h.link(order_id).memory)
    [pushed] = memory.packages
    assert (pushed.tracking_number, pushed.corrections) == (SECOND, 1)
    updates = [op for op in api_operations(h, order_id) if "shipping_info" in op]
    assert updates == ["fulfillment.update_package_shipping_info"]


async def test_a_person_cancels_on_tiktok_with_a_valid_reason(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    await h.control.merchant_cancel(shopify_id, reason="OTHER")
    h.mark_due(order_id)
    await h.settle()
    link = h.link(order_id)
    with transaction(h.services.db, write=False) as conn:
        codes = {e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)}
    assert "SHOPIFY_CANCELLED" in codes
    assert (await h.tiktok_order(order_id))["status"] != "CANCELLED"

    # The dashboard's "cancel on TikTok too", with its default (free-text) reason.
    with transaction(h.services.db) as conn:
        apply_override(conn, link, action="cancel_on_tiktok", code="SHOPIFY_CANCELLED",
                       change=memory_change("cancel_on_tiktok", "SHOPIFY_CANCELLED", None, None),
                       now=h.now())
    await h.settle()
    await h.advance(HOUR)
    h.mark_due(order_id)
    await h.settle()

    tiktok = await h.tiktok_order(order_id)
    assert tiktok["status"] == "CANCELLED"
    assert tiktok["cancel_reason"] == "seller_cancel_reason_out_of_stock"
    cancellations = await h.control.tiktok_cancellations(order_id)
    assert [c["role"] for c in cancellations] == ["SELLER"]
    link = h.link(order_id)
    assert LinkMemory.from_json(link.memory).tiktok_cancel_done
    with transaction(h.services.db, write=False) as conn:
        still = {e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)}
        assert links.find_link(conn, h.connection.id, order_id) is not None
    assert "TIKTOK_REJECTED" not in still
    assert "SHOPIFY_CANCELLED" not in still
