"""The TikTok client and the TikTok sandbox, written separately from the docs, agree."""

import json

import pytest

from orderbridge.adapters.tiktok import (
    ExternalLineItem,
    ExternalOrderReference,
    OrderFilter,
    verify_webhook,
)
from orderbridge.errors import Rejected

from .conftest import Kit

HOUR = 3600


async def test_an_order_is_found_paid_held_then_shippable(kit: Kit) -> None:
    placed = await kit.control.place_order(
        items=[{"seller_sku": "MW-SET-NAT", "units": 2}, {"seller_sku": "BOWL-WHT", "units": 1}],
        payment="pending",
    )
    order_id = placed["id"]
    page = await kit.tiktok.search_orders(OrderFilter(order_status="UNPAID"))
    assert order_id in [o.id for o in page.orders]
    [order] = await kit.tiktok.get_orders([order_id])
    assert order.status == "UNPAID"
    assert len(order.line_items) == 3  # one line per unit

    await kit.control.tiktok_action(order_id, "pay")
    order = await kit.tiktok.get_order(order_id)
    assert order is not None
    assert order.status == "ON_HOLD"

    providers = await kit.tiktok.get_shipping_providers(order.delivery_option_id)
    usps = next(p for p in providers if p.name == "USPS")
    with pytest.raises(Rejected) as on_hold:
        await kit.tiktok.mark_package_shipped(order_id, "9400111899223197428490", usps.id)
    assert str(on_hold.value.code) == "21011003"  # the code Mark Package As Shipped documents

    await kit.control.advance(HOUR + 1)
    order = await kit.tiktok.get_order(order_id)
    assert order is not None
    assert order.status == "AWAITING_SHIPMENT"
    assert order.recipient_address is not None

    first_unit = order.line_items[0].id
    package = await kit.tiktok.mark_package_shipped(
        order_id, "9400111899223197428490", usps.id, [first_unit]
    )
    assert package.package_id
    order = await kit.tiktok.get_order(order_id)
    assert order is not None
    assert order.status == "PARTIALLY_SHIPPING"
    rest = [li.id for li in order.line_items if li.id != first_unit]
    await kit.tiktok.mark_package_shipped(order_id, "9400111899223197428506", usps.id, rest)
    order = await kit.tiktok.get_order(order_id)
    assert order is not None
    assert order.status == "AWAITING_COLLECTION"
    other = await kit.control.place_order(items=[{"seller_sku": "BOWL-WHT", "units": 1}])
    assert len(await kit.control.tiktok_packages(order_id)) == 2
    assert await kit.control.tiktok_packages(other["id"]) == []


async def test_signed_calls_are_recorded_with_request_ids(kit: Kit) -> None:
    await kit.tiktok.search_orders()
    calls = [c for c in kit.recorder.calls if c.api == "tiktok"]
    assert calls
    assert all(c.ok for c in calls)
    assert all(c.request_id for c in calls)
    assert all("sign=" not in c.path and "access_token" not in c.path for c in calls)


async def test_webhooks_from_the_sandbox_verify_with_the_client(kit: Kit) -> None:
    await kit.tiktok.update_webhook("ORDER_STATUS_CHANGE", "http://127.0.0.1:9/unreachable")
    placed = await kit.control.place_order(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await kit.control.advance(1)
    deliveries = await kit.control.deliveries(sandbox="tiktok")
    mine = [d for d in deliveries if placed["id"] in json.dumps(d)]
    assert mine or deliveries, "the sandbox sent no webhook"
    full = await kit.control.delivery((mine or deliveries)[0]["id"])
    headers = {k.lower(): v for k, v in full["headers"].items()}
    tt = kit.info["tiktok"]
    assert verify_webhook(tt["app_key"], tt["app_secret"], full["body"].encode(), headers["authorization"])
    assert not verify_webhook(tt["app_key"], "wrong-secret", full["body"].encode(), headers["authorization"])


async def test_external_order_references_are_stored_and_unknown_orders_listed(kit: Kit) -> None:
    """Add External Order References (Order API 202406,
    https://partner.tiktokshop.com/docv2/page/668cf073a6a5e002e69d4a28): the sandbox serves the
    endpoint the client implements; refused orders come back in ``errors``."""
    placed = await kit.control.place_order(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    [line] = placed["line_items"]
    refs = [
        ExternalOrderReference(placed["id"], "6001", line_items=[ExternalLineItem("7001", line["id"])]),
        ExternalOrderReference("576999999999999999", "6002", line_items=[ExternalLineItem("7002", "1")]),
    ]
    [result] = await kit.tiktok.add_external_order_references(refs)
    assert [(e["code"], e["detail"]["order_id"]) for e in result.errors] == [("36020001", "576999999999999999")]
    with pytest.raises(ValueError, match="line_items"):
        await kit.tiktok.add_external_order_references([ExternalOrderReference(placed["id"], "6001")])
