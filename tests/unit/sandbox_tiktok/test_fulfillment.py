"""Shipping providers, Mark Package As Shipped rules, tracking corrections."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orderbridge.sandbox.common.scheduler import Scheduler

from .conftest import Client

USPS = "7117858858072016686"
UPS = "7117859084333745966"
USPS_TRACKING = "9400111899223197428490"
UPS_TRACKING = "1Z999AA10123456784"


async def _ready(api: Client, scheduler: Scheduler, **kw: Any) -> dict[str, Any]:
    order = await api.order(**kw)
    api.clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    return order


def _ship_path(order_id: str) -> str:
    return f"/fulfillment/202309/orders/{order_id}/packages"


async def test_providers(api: Client) -> None:
    order = await api.order()
    data = await api.ok("GET", f"/logistics/202309/delivery_options/{order['delivery_option_id']}/shipping_providers")
    names = {p["name"]: p["id"] for p in data["shipping_providers"]}
    assert names["USPS"] == USPS
    assert names["UPS"] == UPS
    assert names["Gofo"] == "7352739623900022544"
    assert {"FedEx", "Amazon Logistics", "SpeedX", "UniUni", "Wizmo"} <= set(names)
    assert all(len(i) == 19 for i in names.values())
    tiktok = await api.order(shipping_type="TIKTOK")
    resp = await api.call("GET", f"/logistics/202309/delivery_options/{tiktok['delivery_option_id']}/shipping_providers")
    assert resp.json()["code"] == 21008117


async def test_ship_rules(api: Client, scheduler: Scheduler) -> None:
    held = await api.order()
    body = {"tracking_number": USPS_TRACKING, "shipping_provider_id": USPS}
    # Mark Package As Shipped documents no on-hold code: 21011003 (fulfil action not allowed).
    assert (await api.call("POST", _ship_path(held["id"]), body=body)).json()["code"] == 21011003
    unpaid = await api.order(payment="pending")
    assert (await api.call("POST", _ship_path(unpaid["id"]), body=body)).json()["code"] == 21011003
    tiktok = await _ready(api, scheduler, shipping_type="TIKTOK")
    assert (await api.call("POST", _ship_path(tiktok["id"]), body=body)).json()["code"] == 21008025
    bad = {"tracking_number": "12345", "shipping_provider_id": UPS}
    # _ready advanced the clock an hour: held is released now
    assert (await api.call("POST", _ship_path(held["id"]), body=bad)).json()["code"] == 21004015
    missing = {**body, "order_line_item_ids": ["nope"]}
    assert (await api.call("POST", _ship_path(held["id"]), body=missing)).json()["code"] == 21001001
    result = await api.ok("POST", _ship_path(held["id"]), body=body)
    assert result["order_id"] == held["id"]
    assert result["package_id"]
    assert len(result["order_line_item_ids"]) == 1
    order = await api.detail(held["id"])
    assert order["status"] == "AWAITING_COLLECTION"
    assert order["rts_time"] > 0
    assert order["packages"] == [{"id": result["package_id"]}]
    assert order["line_items"][0]["package_id"] == result["package_id"]
    assert order["tracking_number"] == USPS_TRACKING
    again = await api.call("POST", _ship_path(held["id"]), body={"tracking_number": UPS_TRACKING,
                                                                  "shipping_provider_id": UPS})
    assert again.json()["code"] == 21011006  # "These orders are already shipped."


async def test_split_then_full(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler, items=[{"seller_sku": "BOWL-WHT", "units": 3}])
    lines = [li["id"] for li in order["line_items"]]
    first = {"tracking_number": USPS_TRACKING, "shipping_provider_id": USPS, "order_line_item_ids": lines[:1]}
    await api.ok("POST", _ship_path(order["id"]), body=first)
    assert (await api.detail(order["id"]))["status"] == "PARTIALLY_SHIPPING"
    dup = {"tracking_number": USPS_TRACKING, "shipping_provider_id": USPS, "order_line_item_ids": lines[1:2]}
    assert (await api.call("POST", _ship_path(order["id"]), body=dup)).json()["code"] == 21011025
    rest = {"tracking_number": UPS_TRACKING, "shipping_provider_id": UPS}
    result = await api.ok("POST", _ship_path(order["id"]), body=rest)
    assert sorted(result["order_line_item_ids"]) == sorted(lines[1:])
    detail = await api.detail(order["id"])
    assert detail["status"] == "AWAITING_COLLECTION"
    assert len(detail["packages"]) == 2


async def test_combined_up_to_twenty(api: Client, scheduler: Scheduler) -> None:
    await api.control("PATCH", f"/shops/{api.shop['shop_id']}/settings", {"skip_on_hold": True})
    orders = [await api.order(recipient_address={}) for _ in range(21)]
    body = {"tracking_number": UPS_TRACKING, "shipping_provider_id": UPS}
    packages = {(await api.ok("POST", _ship_path(o["id"]), body=body))["package_id"] for o in orders[:20]}
    assert len(packages) == 1
    assert (await api.call("POST", _ship_path(orders[20]["id"]), body=body)).json()["code"] == 21011025
    other = await api.order(recipient_address={"name": "Someone Else"})
    assert (await api.call("POST", _ship_path(other["id"]), body=body)).json()["code"] == 21011025


async def test_update_shipping_info_once_within_72h(api: Client, scheduler: Scheduler) -> None:
    a = await _ready(api, scheduler)
    b = await _ready(api, scheduler)
    body = {"tracking_number": USPS_TRACKING, "shipping_provider_id": USPS}
    await api.ok("POST", _ship_path(a["id"]), body=body)
    await api.ok("POST", _ship_path(b["id"]), body={"tracking_number": "9400111899223197428491",
                                                    "shipping_provider_id": USPS})
    path = f"/fulfillment/202309/orders/{a['id']}/shipping_info/update"
    new = {"tracking_number": UPS_TRACKING, "shipping_provider_id": UPS}
    await api.ok("POST", path, body=new)
    assert (await api.detail(a["id"]))["line_items"][0]["tracking_number"] == UPS_TRACKING
    # The order endpoint documents one refusal code, 21011049, for the spent correction too.
    assert (await api.call("POST", path, body=new)).json()["code"] == 21011049
    api.clock.advance(timedelta(hours=72, seconds=1))
    late = f"/fulfillment/202309/orders/{b['id']}/shipping_info/update"
    assert (await api.call("POST", late, body={"tracking_number": "1Z999AA10123456785",
                                               "shipping_provider_id": UPS})).json()["code"] == 21011049
    tracking = await api.ok("GET", f"/fulfillment/202309/orders/{a['id']}/tracking")
    assert tracking["tracking"][0]["description"] == "Shipping label created"


async def test_carrier_moves(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler)
    await api.ok("POST", _ship_path(order["id"]), body={"tracking_number": "TBA123456789012",
                                                        "shipping_provider_id": "7212660474215671598"})
    assert (await api.control("POST", f"/orders/{order['id']}/collected"))["status"] == "IN_TRANSIT"
    assert (await api.control("POST", f"/orders/{order['id']}/delivered"))["status"] == "DELIVERED"
    assert (await api.control("POST", f"/orders/{order['id']}/completed"))["status"] == "COMPLETED"
    resp = await api.http.post("http://tiktok.test/_control/tiktok/orders/" + order["id"] + "/collected")
    assert resp.status_code == 409


async def test_update_package_shipping_info_codes(api: Client, scheduler: Scheduler) -> None:
    """The package endpoint tells the spent correction (21011051) from the window (21011050)
    and a bad number (21011022), as its reference does."""
    a = await _ready(api, scheduler)
    b = await _ready(api, scheduler)
    first = await api.ok("POST", _ship_path(a["id"]), body={"tracking_number": USPS_TRACKING,
                                                             "shipping_provider_id": USPS})
    second = await api.ok("POST", _ship_path(b["id"]), body={"tracking_number": "9400111899223197428491",
                                                              "shipping_provider_id": USPS})
    path = f"/fulfillment/202309/packages/{first['package_id']}/shipping_info/update"
    bad = {"tracking_number": "12345", "shipping_provider_id": UPS}
    assert (await api.call("POST", path, body=bad)).json()["code"] == 21011022
    new = {"tracking_number": UPS_TRACKING, "shipping_provider_id": UPS}
    await api.ok("POST", path, body=new)
    assert (await api.call("POST", path, body=new)).json()["code"] == 21011051
    api.clock.advance(timedelta(hours=72, seconds=1))
    late = f"/fulfillment/202309/packages/{second['package_id']}/shipping_info/update"
    assert (await api.call("POST", late, body={"tracking_number": "1Z999AA10123456785",
                                               "shipping_provider_id": UPS})).json()["code"] == 21011050
