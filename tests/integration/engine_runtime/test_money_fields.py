"""Every amount of TikTok's order payment object can be played, and the engine's money plan
mirrors each into Shopify to the cent (tax on shipping, handling fee, shipping insurance and
its tax, a retail delivery fee), on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from .conftest import HOUR, Harness


def cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def test_shipping_tax_handling_and_insurance_reconcile_to_the_cent(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 2}], shipping_fee="6.49",
                             shipping_fee_tax="0.47", handling_fee="1.25", item_insurance_fee="2.99",
                             item_insurance_tax="0.22", retail_delivery_fee="0.28")
    tiktok = await h.tiktok_order(order_id)
    pay = tiktok["payment"]
    assert (pay["shipping_fee_tax"], pay["handling_fee"], pay["item_insurance_fee"], pay["item_insurance_tax"],
            pay["retail_delivery_fee"]) == ("0.47", "1.25", "2.99", "0.22", "0.28")
    parts = ("sub_total", "shipping_fee", "tax", "retail_delivery_fee", "handling_fee", "item_insurance_fee",
             "item_insurance_tax")
    assert cents(pay["total_amount"]) == sum(cents(pay[k]) for k in parts)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(HOUR + 20 * 60)
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    assert cents(shop["total_price"]) == cents(pay["total_amount"])
    # Writing TikTok's address at release made Shopify recalculate the tax (this store collects
    # none itself); TikTok's tax came back as one non-taxable item, so the total is unchanged.
    restored = [li for li in shop["line_items"] if li["title"].startswith("Sales tax collected")]
    assert cents(shop["total_tax"]) == 0
    assert [cents(li["price"]) for li in restored] == [cents(pay["tax"]) + cents(pay["item_insurance_tax"])]
    assert sum(cents(t["amount"]) for t in shop["transactions"]) == cents(pay["total_amount"])
    shipping = {line["title"]: cents(line["price"]) for line in shop["shipping_lines"]}
    assert sum(shipping.values()) == cents(pay["shipping_fee"]) + cents("0.28") + cents("1.25") + cents("2.99")
    assert shop["financial_status"].upper() == "PAID"
