"""GET /instants: exact creation, payment and shipping instants for measurements."""

from __future__ import annotations

from datetime import datetime, timedelta

from orderbridge.sandbox.common.scheduler import Scheduler

from .conftest import Client

USPS = "7117858858072016686"
USPS_TRACKING = "9400111899223197428490"


async def test_instants_are_exact_and_name_the_package_orders(api: Client, scheduler: Scheduler) -> None:
    api.clock.advance(timedelta(microseconds=654321))
    placed_at = api.clock.now()
    order = await api.order()
    other = await api.order(payment="pending")
    api.clock.advance(timedelta(hours=1, microseconds=7))
    await scheduler.run_due()
    shipped_at = api.clock.now()
    path = f"/fulfillment/202309/orders/{order['id']}/packages"
    await api.ok("POST", path, body={"tracking_number": USPS_TRACKING, "shipping_provider_id": USPS})
    got = await api.control("GET", "/instants")
    assert datetime.fromisoformat(got["orders"][order["id"]]["created"]) == placed_at
    assert datetime.fromisoformat(got["orders"][order["id"]]["paid"]) == placed_at
    assert got["orders"][other["id"]]["paid"] is None
    [package] = got["packages"]
    assert package["orders"] == [order["id"]]
    assert package["tracking_number"] == USPS_TRACKING
    assert datetime.fromisoformat(package["shipped"]) == shipped_at
    second = await api.control("GET", f"/instants?shop={api.shop2['shop_id']}")
    assert second == {"orders": {}, "packages": [], "stock_updates": []}


async def test_each_quantity_written_by_update_inventory_is_an_instant(api: Client) -> None:
    data = await api.ok("POST", "/product/202309/products/search", query={"page_size": 1}, body={})
    product = data["products"][0]
    sku = product["skus"][0]
    warehouse = sku["inventory"][0]["warehouse_id"]
    api.clock.advance(timedelta(hours=1, microseconds=1234))  # after the catalogue was made
    written_at = api.clock.now()
    await api.ok("POST", f"/product/202309/products/{product['id']}/inventory/update",
                 body={"skus": [{"id": sku["id"], "inventory": [{"warehouse_id": warehouse, "quantity": 9}]}]})
    got = await api.control("GET", "/instants")
    assert [(datetime.fromisoformat(u["at"]), u["sku_id"], u["warehouse_id"], u["quantity"])
            for u in got["stock_updates"]] == [(written_at, sku["id"], warehouse, 9)]
    # The update moved the product's update time: a search from that second finds it.
    since = int(written_at.timestamp())
    found = await api.ok("POST", "/product/202309/products/search", query={"page_size": 100},
                         body={"update_time_ge": since})
    assert [p["id"] for p in found["products"]] == [product["id"]]
    assert found["total_count"] == 1
    later = await api.ok("POST", "/product/202309/products/search", query={"page_size": 100},
                         body={"update_time_ge": since + 60})
    assert later["products"] == []
    assert later["total_count"] == 0
