"""Stock in Shopify: levels per location, sales committing units, inventory_levels/update."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from orderbridge.adapters.shopify import LineItemSpec, OrderSpec, verify_webhook
from orderbridge.adapters.shopify.models_stock import LocationStock
from orderbridge.devkit import SandboxError

from .conftest import T0, Kit


async def _stocked(kit: Kit, sku: str, available: int) -> tuple[str, str, str]:
    shop = kit.info["shopify"]["shops"][0]
    made = await kit.control.call("POST", f"/shopify/shops/{shop['domain']}/variants",
                                  {"sku": sku, "title": "Live-sale mug", "price": "12.00", "available": available})
    return shop["domain"], made["variant_id"], made["inventory_item_id"]


async def _first(kit: Kit, item_id: str) -> LocationStock:
    levels = await kit.shopify.inventory_item_levels(item_id)
    assert levels is not None
    first = str(kit.info["shopify"]["shops"][0]["location_ids"][0])
    assert len(levels.levels) == len(kit.info["shopify"]["shops"][0]["location_ids"])
    [level] = levels.at({first})
    return level


async def _inventory_hooks(kit: Kit) -> list[dict[str, object]]:
    await kit.control.advance(1)
    hooks = await kit.control.deliveries(sandbox="shopify", topic="inventory_levels/update")
    return [json.loads((await kit.control.delivery(d["id"]))["body"]) for d in hooks]


async def test_sales_commit_units_and_each_change_is_a_webhook(kit: Kit) -> None:
    await kit.shopify.create_webhook_subscription("INVENTORY_LEVELS_UPDATE", "http://127.0.0.1:9/hooks")
    domain, variant_id, item_id = await _stocked(kit, "LIVE-MUG", 10)
    level = await _first(kit, item_id)
    assert (level.available, level.committed, level.on_hand) == (10, 0, 10)

    sale = await kit.control.merchant_sale(domain, "LIVE-MUG", 3)
    assert sale["available"] == 7
    level = await _first(kit, item_id)
    assert (level.available, level.committed, level.on_hand) == (7, 3, 10)

    await kit.shopify.create_order(OrderSpec(
        currency="USD", line_items=[LineItemSpec(quantity=2, unit_price=Decimal("12.00"), variant_id=variant_id)],
        processed_at=T0 - timedelta(minutes=5), source_identifier="576000000000000101",
        inventory_behaviour="DECREMENT_IGNORING_POLICY"))
    level = await _first(kit, item_id)
    assert (level.available, level.committed, level.on_hand) == (5, 5, 10)

    await kit.control.fulfil(sale["order_id"], "USPS", "9400111899223197428490")
    level = await _first(kit, item_id)
    assert (level.available, level.committed, level.on_hand) == (5, 2, 7)  # shipped units left

    await kit.control.set_shopify_available(variant_id, 20)
    bodies = await _inventory_hooks(kit)
    item_number = int(item_id.rsplit("/", 1)[1])
    assert [b["available"] for b in bodies] == [7, 5, 20]
    assert all(b["inventory_item_id"] == item_number for b in bodies)
    [first] = (await kit.control.deliveries(sandbox="shopify", topic="inventory_levels/update"))[:1]
    full = await kit.control.delivery(first["id"])
    headers = {k.lower(): v for k, v in full["headers"].items()}
    assert verify_webhook(kit.info["shopify"]["client_secret"], full["body"].encode(),
                          headers["x-shopify-hmac-sha256"])


async def test_a_sale_beyond_stock_is_refused(kit: Kit) -> None:
    domain, _variant, item_id = await _stocked(kit, "LIVE-LAST", 2)
    with pytest.raises(SandboxError, match="HTTP 409"):
        await kit.control.merchant_sale(domain, "LIVE-LAST", 3)
    with pytest.raises(SandboxError, match="HTTP 404"):
        await kit.control.merchant_sale(domain, "NO-SUCH-SKU")
    with pytest.raises(SandboxError, match="HTTP 422"):
        await kit.control.merchant_sale(domain, "LIVE-LAST", 0)
    level = await _first(kit, item_id)
    assert (level.available, level.committed) == (2, 0)
    assert await kit.shopify.inventory_item_levels("gid://shopify/InventoryItem/999999999") is None
