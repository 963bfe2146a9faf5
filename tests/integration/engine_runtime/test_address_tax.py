"""Shopify recalculates an unfulfilled order's taxes when ``orderUpdate`` changes its shipping
address (changelog, 2026-08-31). The release writes TikTok's full address that way, so the
Shopify total and the recorded payment must still equal TikTok's total to the cent, or
nothing is paid and TOTALS_MISMATCH says why. Real HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from orderbridge.adapters.db import order_exceptions, transaction

from .conftest import HOUR, Harness

# Every state a store could register in (the TikTok sandbox picks the buyer's).
STATES = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"]


def cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def open_exceptions(h: Harness, link_id: int) -> dict[str, dict[str, str]]:
    with transaction(h.services.db, write=False) as conn:
        return {e.code: dict(e.data or {}) for e in order_exceptions.open_exceptions(conn, link_id=link_id)}


async def commits(h: Harness) -> int:
    counts = await h.control.mutation_counts(h.connection.shopify_domain)
    return sum(fields.get("orderEditCommit", 0) for fields in counts["per_shop"].values())


def paid(shop: dict[str, object]) -> Decimal:
    txs = shop["transactions"]
    assert isinstance(txs, list)
    return sum((cents(t["amount"]) for t in txs if t["kind"].upper() == "SALE"), Decimal("0"))


async def place_and_release(h: Harness) -> tuple[str, dict[str, object]]:
    order_id = await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 2}], shipping_fee="5.99",
                             shipping_fee_tax="0.43")
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    created = await h.control.shopify_order(h.link(order_id).shopify_order_id or "")
    await h.advance(HOUR + 20 * 60)
    return order_id, created


async def test_the_tax_shopify_drops_at_release_is_added_back_before_the_payment(harness: Harness) -> None:
    h = harness
    order_id, created = await place_and_release(h)
    tiktok = await h.tiktok_order(order_id)
    total, tax = cents(tiktok["payment"]["total_amount"]), cents(tiktok["payment"]["tax"])
    assert tax > 0
    assert cents(created["total_tax"]) == tax
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    # Shopify recalculated for the address (this store collects no tax itself): its tax is
    # 0, TikTok's comes back as one non-taxable item that ships nothing.
    assert cents(shop["total_tax"]) == 0
    items = [li for li in shop["line_items"] if li["title"].startswith("Sales tax collected")]
    assert [(cents(li["price"]), li["taxable"], li["requires_shipping"]) for li in items] == [(tax, False, False)]
    assert cents(shop["total_price"]) == total
    assert paid(shop) == total
    assert shop["financial_status"].upper() == "PAID"
    assert "TOTALS_MISMATCH" not in open_exceptions(h, link.id)
    assert await commits(h) == 1
    await h.advance(600)  # later passes find the total right: no second edit
    assert await commits(h) == 1


async def test_a_store_charging_more_tax_raises_totals_mismatch_and_pays_nothing(harness: Harness) -> None:
    """The order still goes ahead (released), never paid an amount other than TikTok's."""
    h = harness
    await h.control.shopify_shop_taxes(h.connection.shopify_domain, {s: "0.2" for s in STATES})
    order_id, _ = await place_and_release(h)
    total = cents((await h.tiktok_order(order_id))["payment"]["total_amount"])
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    assert cents(shop["total_price"]) > total
    assert paid(shop) == 0
    assert shop["financial_status"].upper() == "PENDING"
    assert not any(hold["handle"] == "orderbridge" for fo in shop["fulfillment_orders"] for hold in fo["holds"])
    data = open_exceptions(h, link.id)["TOTALS_MISMATCH"]
    assert cents(data["shopify_total"]) == cents(shop["total_price"])
    assert cents(data["planned_total"]) == total
    assert cents(data["difference"]) == cents(shop["total_price"]) - total
    assert await commits(h) == 0


async def test_an_address_change_after_release_into_a_taxing_state_is_raised(harness: Harness) -> None:
    h = harness
    order_id, _ = await place_and_release(h)
    total = cents((await h.tiktok_order(order_id))["payment"]["total_amount"])
    link = h.link(order_id)
    assert link.state == "released", link.last_error
    # The store registered in Texas; the buyer moves the parcel there after the payment.
    await h.control.shopify_shop_taxes(h.connection.shopify_domain, {"TX": "0.0625"})
    await h.control.tiktok_action(order_id, "address", {"address_line1": "500 Main St", "city": "Austin",
                                                        "county": "Travis", "state": "Texas", "state_code": "TX",
                                                        "postal_code": "78701"})
    h.mark_due(order_id)
    await h.settle()
    await h.advance(60)
    shop = await h.control.shopify_order(link.shopify_order_id or "")
    assert shop["shipping_address"]["provinceCode"] == "TX"
    assert cents(shop["total_tax"]) > 0
    assert cents(shop["total_price"]) > total
    assert paid(shop) == total  # nothing more is paid
    data = open_exceptions(h, link.id)["TOTALS_MISMATCH"]
    assert (cents(data["shopify_total"]), cents(data["planned_total"])) == (cents(shop["total_price"]), total)
    assert await commits(h) == 1  # only the release's
