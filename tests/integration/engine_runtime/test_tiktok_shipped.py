"""Orders TikTok ships, through the engine and the sandboxes, on both databases.

Default policy: skipped with the TIKTOK_SHIPPED explanation, nothing in Shopify. With
``tiktok_shipped_orders = import_fulfilled``: once past the buyer's window the order is
created in Shopify already fulfilled and paid (a "TikTok Shop" transaction for exactly what
the buyer paid), no stock claimed for FBT, no hold, no payment call, and nothing pushed back
to TikTok.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.adapters.db import order_exceptions, sku_links, transaction
from orderbridge.engine.policy_store import set_policy

from .conftest import HOUR, Harness

# Mutations that would mean OrderBridge treated the order as its own to ship.
SHIPPING_MUTATIONS = {
    "fulfillmentOrderHold", "fulfillmentOrderReleaseHold", "orderCreateManualPayment",
    "orderMarkAsPaid", "fulfillmentCreate", "orderCancel", "orderUpdate",
}


def _variant(h: Harness, seller_sku: str) -> str:
    with transaction(h.services.db, write=False) as conn:
        [row] = sku_links.variants_by_sku(conn, h.connection.id, seller_sku)
    return row.variant_id


async def _available(h: Harness, variant_id: str) -> int:
    body = await h.control.inventory(variant_id)
    [quantity] = body["available"].values()
    return int(quantity)


def _open_codes(h: Harness, tiktok_id: str) -> dict[str, Any]:
    link = h.link(tiktok_id)
    with transaction(h.services.db, write=False) as conn:
        rows = order_exceptions.open_exceptions(conn, link_id=link.id)
    return {r.code: r for r in rows}


async def test_default_policy_skips_with_the_explanation(harness: Harness) -> None:
    h = harness
    fbt = await h.place(items=[{"seller_sku": "BOWL-WHT", "units": 1}],
                        fulfillment_type="FULFILLMENT_BY_TIKTOK")
    tiktok_shipping = await h.place(items=[{"seller_sku": "BOWL-WHT", "units": 1}], shipping_type="TIKTOK")
    h.mark_due(fbt, tiktok_shipping)
    await h.advance(2 * HOUR)
    for order_id, kind in ((fbt, "fbt"), (tiktok_shipping, "tiktok_shipped")):
        assert await h.shopify_orders(order_id) == []
        assert h.link(order_id).state == "skipped"
        issue = _open_codes(h, order_id)["TIKTOK_SHIPPED"]
        assert issue.severity == "info"
        assert "import_fulfilled" in issue.message
        assert (issue.data or {})["kind"] == kind


async def test_import_fulfilled_mirrors_fbt_fulfilled_paid_and_stock_untouched(harness: Harness) -> None:
    h = harness
    set_policy(h.services, h.connection, "tiktok_shipped_orders", "import_fulfilled")
    variant = _variant(h, "BOWL-WHT")
    before = await _available(h, variant)
    order_id = await h.place(items=[{"seller_sku": "BOWL-WHT", "units": 2},
                                    {"seller_sku": "MW-SET-NAT", "units": 1}],
                             fulfillment_type="FULFILLMENT_BY_TIKTOK", shipping_fee="5.99")
    h.mark_due(order_id)
    await h.settle()
    # Paid but inside the buyer's window: nothing yet.
    assert await h.shopify_orders(order_id) == []

    await h.advance(HOUR + 20 * 60)  # the periodic re-check sees AWAITING_SHIPMENT
    tiktok = await h.tiktok_order(order_id)
    assert tiktok["status"] == "AWAITING_SHIPMENT"
    [mirrored] = await h.shopify_orders(order_id)
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    assert mirrored["fulfillment_status"] == "fulfilled"
    assert [fo["status"] for fo in mirrored["fulfillment_orders"]] == ["CLOSED"]
    [fulfilment] = mirrored["fulfillments"]
    assert fulfilment["status"] == "success"
    assert sum(line["quantity"] for line in fulfilment["line_items"]) == 3
    assert "tiktok-fbt" in mirrored["tags"]

    # Money: what the buyer paid, to the cent, received through one "TikTok Shop" sale.
    paid = Decimal(str(tiktok["payment"]["total_amount"]))
    assert Decimal(mirrored["total_price"]) == paid
    assert mirrored["financial_status"] == "paid"
    assert Decimal(mirrored["total_outstanding"]) == 0
    [sale] = mirrored["transactions"]
    assert (sale["kind"], sale["gateway"], Decimal(sale["amount"])) == ("SALE", "TikTok Shop", paid)

    # FBT stock is TikTok's: nothing claimed in Shopify.
    assert all(v is None or v["claimed"] == 0 for v in mirrored["inventory"].values())
    assert await _available(h, variant) == before

    # Later passes: never held, paid, fulfilled or cancelled by us; nothing back to TikTok.
    await h.advance(3 * HOUR)
    counts = (await h.control.mutation_counts())["per_order"][link.shopify_order_id]
    assert counts == {"orderCreate": 1}
    assert not SHIPPING_MUTATIONS & counts.keys()
    assert await h.control.tiktok_packages(order_id) == []
    assert (await h.tiktok_order(order_id))["status"] == "AWAITING_SHIPMENT"
    assert len(await h.shopify_orders(order_id)) == 1
    assert not [c for c, e in _open_codes(h, order_id).items() if e.severity == "error"]
    assert await _available(h, variant) == before


async def test_tiktok_shipping_import_claims_stock_and_a_tiktok_cancel_is_raised(harness: Harness) -> None:
    """TikTok Shipping: the seller's own goods, so its stock is claimed; TikTok cancelling
    the imported (fulfilled) record is raised for a person, never cancelled in Shopify."""
    h = harness
    set_policy(h.services, h.connection, "tiktok_shipped_orders", "import_fulfilled")
    variant = _variant(h, "BOWL-WHT")
    before = await _available(h, variant)
    order_id = await h.place(items=[{"seller_sku": "BOWL-WHT", "units": 1}], shipping_type="TIKTOK")
    h.mark_due(order_id)
    await h.advance(HOUR + 20 * 60)
    [mirrored] = await h.shopify_orders(order_id)
    assert mirrored["fulfillment_status"] == "fulfilled"
    assert "tiktok-fbt" not in mirrored["tags"]
    assert Decimal(mirrored["total_price"]) == Decimal(str((await h.tiktok_order(order_id))["payment"]["total_amount"]))
    assert await _available(h, variant) == before - 1

    await h.control.tiktok_action(order_id, "tiktok_cancel", {"reason": "fraud"})
    h.mark_due(order_id)
    await h.settle()
    issue = _open_codes(h, order_id)["FULFILLED_BUT_CANCELLED"]
    assert (issue.data or {})["whole_order"] == "true"
    link = h.link(order_id)
    counts = (await h.control.mutation_counts())["per_order"][link.shopify_order_id]
    assert counts == {"orderCreate": 1}
    [mirrored] = await h.shopify_orders(order_id)
    assert mirrored["cancelled_at"] is None
