"""Regression: after an unmapped SKU is linked to a variant with the merchant's own SKU, the
custom line is swapped by an order edit; the added line (no TikTok attribute, another SKU)
must be the group's line, or tracking for it is never pushed (found by the demo)."""

from __future__ import annotations

from decimal import Decimal

from orderbridge.domain.decide.common import line_map
from orderbridge.domain.observed import ShopifyLineItem, ShopifyOrderView
from orderbridge.domain.order import UnitGroup

VARIANT = "gid://shopify/ProductVariant/23"


def _group() -> UnitGroup:
    return UnitGroup(sku_id="sku-1", product_id="p-1", seller_sku="WHISK-HOLDER", title="Whisk Holder",
                     variant_title="", unit_price=Decimal("9.99"), sale_price=Decimal("9.99"), quantity=1,
                     line_ids=("l-1",), seller_discount=Decimal(0), platform_discount=Decimal(0),
                     tax=Decimal(0), tax_rate=None)


def test_the_swapped_in_variant_line_is_found_by_its_variant() -> None:
    custom = ShopifyLineItem(id="line-1", sku="WHISK-HOLDER", quantity=1, current_quantity=0, tiktok_sku_id="sku-1")
    added = ShopifyLineItem(id="line-2", sku="HOLDER-CERAMIC-WHT", variant_id=VARIANT, quantity=1, current_quantity=1)
    view = ShopifyOrderView(id="gid://shopify/Order/1", line_items=(custom, added))
    [(_, line)] = line_map((_group(),), view, {"sku-1": VARIANT})
    assert line.id == "line-2"


def test_without_a_resolution_the_attribute_line_is_still_the_match() -> None:
    custom = ShopifyLineItem(id="line-1", sku="WHISK-HOLDER", quantity=1, current_quantity=1, tiktok_sku_id="sku-1")
    view = ShopifyOrderView(id="gid://shopify/Order/1", line_items=(custom,))
    [(_, line)] = line_map((_group(),), view)
    assert line.id == "line-1"
