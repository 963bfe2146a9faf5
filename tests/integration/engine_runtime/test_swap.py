"""A custom line swapped for its variant by the whole engine, once the operator links the SKU,
on both databases: the Shopify line keeps the price paid on TikTok to the cent (a per-unit
discount when the variant costs more), or the custom line is kept when the variant costs less.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.engine.skus import import_catalogues, link_sku

from .conftest import HOUR, Harness

UNMAPPED = "WHISK-HOLDER"  # on TikTok at 9.99, with no Shopify variant


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def new_variant(h: Harness, sku: str, price: str) -> str:
    made = await h.control.call(
        "POST", f"/shopify/shops/{h.connection.shopify_domain}/variants",
        {"sku": sku, "title": f"Variant {sku}", "price": price, "available": 10},
    )
    await import_catalogues(h.services, h.connection)
    return str(made["variant_id"])


async def held_with_custom_line(h: Harness) -> tuple[str, dict[str, Any]]:
    order_id = await h.place(items=[{"seller_sku": UNMAPPED, "units": 2}])
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)  # fulfilment orders appear, the hold goes on
    link = h.link(order_id)
    assert link.state == "created_held", link.last_error
    assert "UNMAPPED_SKU" in open_codes(h, link.id)
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    [custom] = shop["line_items"]
    assert custom["variant_id"] is None
    assert cents(custom["price"]) == Decimal("9.99")
    return order_id, shop


def open_codes(h: Harness, link_id: int) -> set[str]:
    with transaction(h.services.db, write=False) as conn:
        return {e.code for e in order_exceptions.open_exceptions(conn, link_id=link_id)}


async def edits(h: Harness) -> dict[str, int]:
    counts = await h.control.mutation_counts(h.connection.shopify_domain)
    total: dict[str, int] = {}
    for fields in counts["per_shop"].values():
        for name, n in fields.items():
            total[name] = total.get(name, 0) + n
    return total


async def test_linked_sku_is_swapped_at_the_price_paid(harness: Harness) -> None:
    h = harness
    order_id, before = await held_with_custom_line(h)
    [custom] = before["line_items"]
    variant_id = await new_variant(h, "WH-CERAMIC", "12.49")
    report = link_sku(h.services, h.connection.id, UNMAPPED, variant_id)
    assert report.orders_resumed == (order_id,)
    await h.settle()

    link = h.link(order_id)
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    old, new = shop["line_items"]
    assert old["current_quantity"] == 0
    assert f"gid://shopify/ProductVariant/{new['variant_id']}" == variant_id
    assert new["current_quantity"] == 2
    assert cents(new["total_discount"]) == Decimal("5.00")  # 2.50 off each unit
    assert cents(new["price"]) * 2 - cents(new["total_discount"]) == Decimal("19.98")
    assert cents(custom["price"]) * 2 == Decimal("19.98")
    assert shop["inventory"]["WH-CERAMIC"]["claimed"] == 2
    codes = open_codes(h, link.id)
    assert "UNMAPPED_SKU" not in codes
    assert "CUSTOM_LINE_KEPT" not in codes
    # Only the custom line's channel-liable tax is lost, and the warning says so.
    tax = sum((cents(t["price"]) for t in custom["tax_lines"]), Decimal("0"))
    assert tax > 0
    assert cents(shop["current_total_price"]) == cents(before["current_total_price"]) - tax
    assert "TOTALS_MISMATCH" in codes

    await h.advance(HOUR + 20 * 60)  # the window ends: released
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    counts = await edits(h)
    assert counts.get("orderEditCommit") == 1  # swapped once, never again
    assert counts.get("orderEditAddLineItemDiscount") == 1


async def test_linked_sku_with_a_cheaper_variant_keeps_the_custom_line(harness: Harness) -> None:
    h = harness
    order_id, before = await held_with_custom_line(h)
    variant_id = await new_variant(h, "WH-PLAIN", "7.99")
    link_sku(h.services, h.connection.id, UNMAPPED, variant_id)
    await h.settle()

    link = h.link(order_id)
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    assert shop["line_items"] == before["line_items"]  # the price paid stays on the order
    assert shop["current_total_price"] == before["current_total_price"]
    codes = open_codes(h, link.id)
    assert "CUSTOM_LINE_KEPT" in codes
    assert "UNMAPPED_SKU" not in codes

    await h.advance(HOUR + 20 * 60)  # the kept custom line does not block the release
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    assert (await edits(h)).get("orderEditCommit", 0) == 0
