"""Stock on TikTok: Update Inventory and Inventory Search, client against sandbox."""

from typing import Any

import pytest

from orderbridge.adapters.tiktok import SkuInventoryUpdate, SkuStock
from orderbridge.devkit import SandboxError
from orderbridge.errors import Rejected

from .conftest import Kit


async def _product(kit: Kit, stock_a: int, stock_b: int) -> tuple[str, dict[str, Any], str]:
    [shop, *_] = await kit.control.call("GET", "/tiktok/shops")
    product = await kit.control.call("POST", f"/tiktok/shops/{shop['shop_id']}/products", {
        "title": "Live-sale mug", "skus": [
            {"name": "Red", "seller_sku": "LIVE-RED", "price": "12.00", "stock": stock_a},
            {"name": "Blue", "seller_sku": "LIVE-BLUE", "price": "12.00", "stock": stock_b},
        ]})
    skus = {s["seller_sku"]: s["id"] for s in product["skus"]}
    return product["id"], skus, shop["warehouse_id"]


async def _stock(kit: Kit, product_id: str) -> dict[str, SkuStock]:
    [found] = await kit.tiktok.search_inventory(product_ids=[product_id])
    assert found.product_id == product_id
    return {s.seller_sku: s for s in found.skus}


async def test_orders_take_stock_and_updates_set_it(kit: Kit) -> None:
    product_id, skus, warehouse = await _product(kit, 5, 3)
    stock = await _stock(kit, product_id)
    assert (stock["LIVE-RED"].total_available_quantity, stock["LIVE-BLUE"].total_available_quantity) == (5, 3)
    assert stock["LIVE-RED"].warehouse_inventory[0].warehouse_id == warehouse

    await kit.control.place_order(items=[{"seller_sku": "LIVE-RED", "units": 2}])
    red = (await _stock(kit, product_id))["LIVE-RED"]
    assert (red.total_available_quantity, red.total_committed_quantity) == (3, 2)
    [wh] = red.warehouse_inventory
    assert (wh.available_quantity, wh.committed_quantity) == (3, 2)

    await kit.tiktok.update_inventory(product_id, [
        SkuInventoryUpdate(skus["LIVE-RED"], 10, warehouse_id=warehouse),
        SkuInventoryUpdate(skus["LIVE-BLUE"], 0, warehouse_id=warehouse),
    ])
    stock = await _stock(kit, product_id)
    assert stock["LIVE-RED"].total_available_quantity == 10
    assert stock["LIVE-RED"].total_committed_quantity == 2  # orders still hold their units
    assert stock["LIVE-BLUE"].total_available_quantity == 0

    [only] = await kit.tiktok.search_inventory(sku_ids=[skus["LIVE-BLUE"]])
    assert [s.seller_sku for s in only.skus] == ["LIVE-BLUE"]


async def test_an_order_beyond_stock_is_refused_and_reserves_nothing(kit: Kit) -> None:
    product_id, _skus, _warehouse = await _product(kit, 2, 1)
    with pytest.raises(SandboxError, match=r"HTTP 409.*out of stock"):
        await kit.control.place_order(items=[{"seller_sku": "LIVE-RED", "units": 1},
                                             {"seller_sku": "LIVE-RED", "units": 2}])
    await kit.control.place_order(items=[{"seller_sku": "LIVE-RED", "units": 2}])
    with pytest.raises(SandboxError, match="HTTP 409"):
        await kit.control.place_order(items=[{"seller_sku": "LIVE-RED", "units": 1}])
    stock = await _stock(kit, product_id)
    assert stock["LIVE-RED"].total_available_quantity == 0
    assert stock["LIVE-RED"].total_committed_quantity == 2


async def test_bad_inventory_updates_are_rejected_whole(kit: Kit) -> None:
    product_id, skus, warehouse = await _product(kit, 4, 4)
    with pytest.raises(Rejected) as unknown_warehouse:
        await kit.tiktok.update_inventory(product_id, [
            SkuInventoryUpdate(skus["LIVE-RED"], 9, warehouse_id=warehouse),
            SkuInventoryUpdate(skus["LIVE-BLUE"], 9, warehouse_id="7301000000000000000"),
        ])
    assert str(unknown_warehouse.value.code) == "12019003"
    with pytest.raises(Rejected) as foreign_sku:
        await kit.tiktok.update_inventory(product_id, [SkuInventoryUpdate("1729400000000000000", 1)])
    assert str(foreign_sku.value.code) == "12019002"
    with pytest.raises(Rejected) as unknown_product:
        await kit.tiktok.update_inventory("1729500000000000000", [SkuInventoryUpdate(skus["LIVE-RED"], 1)])
    assert str(unknown_product.value.code) == "12019001"
    with pytest.raises(Rejected) as too_many:
        await kit.tiktok.update_inventory(product_id, [SkuInventoryUpdate(skus["LIVE-RED"], 1_000_000)])
    assert str(too_many.value.code) == "12019024"
    stock = await _stock(kit, product_id)
    assert [s.total_available_quantity for s in stock.values()] == [4, 4]  # nothing written
    with pytest.raises(ValueError, match="product_ids or sku_ids"):
        await kit.tiktok.search_inventory()
