"""The Shopify sandbox recalculates an unfulfilled order's taxes when ``orderUpdate`` changes
its shipping address (Shopify's changelog, 2026-08-31), read back through the client."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from orderbridge.adapters.shopify import (
    AddressSpec,
    DiscountSpec,
    LineItemSpec,
    OrderSpec,
    TaxLineSpec,
)
from orderbridge.devkit import SandboxError

from .conftest import T0, Kit

TEXAS = AddressSpec(first_name="Jo", last_name="Lee", address1="500 Main St", city="Austin",
                    province_code="TX", country_code="US", zip="78701")
OREGON = AddressSpec(first_name="Jo", last_name="Lee", address1="1 Pine St", city="Portland",
                     province_code="OR", country_code="US", zip="97201")


def spec(*, taxable: bool = True) -> OrderSpec:
    # 2 x 24.99 less a 5.00 code, TikTok's 3.26 of tax as a channel-liable line: 48.24.
    line = LineItemSpec(quantity=2, unit_price=Decimal("24.99"), title="Whisk Set", sku="MW-SET-NAT",
                        taxable=taxable,
                        tax_lines=(TaxLineSpec("Sales tax", Decimal("0.0725"), Decimal("3.26"), channel_liable=True),))
    return OrderSpec(currency="USD", line_items=[line], processed_at=T0 - timedelta(minutes=5),
                     source_identifier="576000000000000099", discount=DiscountSpec(code="TIKTOK", amount=Decimal("5.00")))


def domain(kit: Kit) -> str:
    return str(kit.info["shopify"]["shops"][0]["domain"])


async def totals(kit: Kit, order_id: str) -> tuple[Decimal | None, Decimal | None]:
    snap = await kit.shopify.get_order(order_id)
    total = snap.current_total_price_set.shop_money.amount if snap.current_total_price_set else None
    tax = snap.current_total_tax_set.shop_money.amount if snap.current_total_tax_set else None
    return total, tax


async def test_an_address_change_replaces_the_taxes_with_the_stores_own(kit: Kit) -> None:
    order = await kit.shopify.create_order(spec())
    assert await totals(kit, order.id) == (Decimal("48.24"), Decimal("3.26"))
    await kit.control.shopify_shop_taxes(domain(kit), {"tx": "0.0625"})
    await kit.shopify.update_order(order.id, shipping_address=TEXAS)
    # 6.25 % of 44.98 (after the code) = 2.81; TikTok's channel-liable line is gone.
    assert await totals(kit, order.id) == (Decimal("47.79"), Decimal("2.81"))
    await kit.shopify.update_order(order.id, note="same address, no new calculation")
    assert await totals(kit, order.id) == (Decimal("47.79"), Decimal("2.81"))
    await kit.shopify.update_order(order.id, shipping_address=OREGON)  # not registered there
    assert await totals(kit, order.id) == (Decimal("44.98"), Decimal("0.00"))


async def test_a_non_taxable_line_gets_no_tax(kit: Kit) -> None:
    order = await kit.shopify.create_order(spec(taxable=False))
    await kit.control.shopify_shop_taxes(domain(kit), {"TX": "0.0625"})
    await kit.shopify.update_order(order.id, shipping_address=TEXAS)
    assert await totals(kit, order.id) == (Decimal("44.98"), Decimal("0.00"))


async def test_a_fulfilled_order_keeps_its_taxes(kit: Kit) -> None:
    order = await kit.shopify.create_order(spec())
    await kit.control.advance(2)  # fulfilment orders appear
    await kit.control.fulfil(order.id, "UPS", None)
    await kit.control.shopify_shop_taxes(domain(kit), {"TX": "0.0625"})
    await kit.shopify.update_order(order.id, shipping_address=TEXAS)
    saved = await kit.control.shopify_order(order.id)
    assert saved["shipping_address"]["provinceCode"] == "TX"  # the address is always saved
    assert await totals(kit, order.id) == (Decimal("48.24"), Decimal("3.26"))


async def test_the_tax_table_refuses_a_rate_that_is_not_a_fraction(kit: Kit) -> None:
    with pytest.raises(SandboxError, match="422"):
        await kit.control.shopify_shop_taxes(domain(kit), {"TX": "6.25"})
    with pytest.raises(SandboxError, match="404"):
        await kit.control.shopify_shop_taxes("nowhere.myshopify.com", {"TX": "0.0625"})
