"""Both clients against the sandboxes' fault injection, over real HTTP."""

from decimal import Decimal

import pytest

from orderbridge.adapters.shopify import LineItemSpec, OrderSpec
from orderbridge.adapters.tiktok import OrderFilter
from orderbridge.devkit import shopify_client
from orderbridge.errors import RemoteTimeout, UpstreamUnavailable

from .conftest import T0, Kit


def _spec(source: str) -> OrderSpec:
    return OrderSpec(currency="USD", processed_at=T0, source_identifier=source,
                     line_items=[LineItemSpec(quantity=1, unit_price=Decimal("5.00"), title="Thing")])


async def test_tiktok_reads_ride_out_5xx_and_429(kit: Kit) -> None:
    await kit.control.place_order(items=[{"seller_sku": "BOWL-WHT", "units": 1}])
    await kit.control.add_fault("tiktok", "POST /order/202309/orders/search", error_rate=1, limit=1)
    await kit.control.add_fault("tiktok", "POST /order/202309/orders/search", throttle_rate=1, limit=1)
    page = await kit.tiktok.search_orders(OrderFilter())
    assert page.orders
    attempts = [c for c in kit.recorder.calls if c.api == "tiktok" and "search" in c.path]
    assert [c.status for c in attempts] == [500, 429, 200]


async def test_tiktok_gives_up_after_persistent_5xx(kit: Kit) -> None:
    await kit.control.add_fault("tiktok", "POST /order/202309/orders/search", error_rate=1)
    with pytest.raises(UpstreamUnavailable):
        await kit.tiktok.search_orders(OrderFilter())


async def test_tiktok_ship_is_not_blindly_retried_after_a_lost_response(kit: Kit) -> None:
    placed = await kit.control.place_order(items=[{"seller_sku": "BOWL-WHT", "units": 1}])
    await kit.control.advance(3601)
    order = await kit.tiktok.get_order(placed["id"])
    assert order is not None
    [usps] = [p for p in await kit.tiktok.get_shipping_providers(order.delivery_option_id) if p.name == "USPS"]
    await kit.control.add_fault("tiktok", "POST /fulfillment/*", error_rate=1, limit=1)
    with pytest.raises(UpstreamUnavailable):
        await kit.tiktok.mark_package_shipped(placed["id"], "9400111899223197428490", usps.id)
    packages = await kit.control.tiktok_packages()
    assert packages == [] or all(placed["id"] not in str(p) for p in packages)


async def test_shopify_reads_ride_out_5xx_and_429(kit: Kit) -> None:
    await kit.control.add_fault("shopify", "shop", error_rate=1, limit=1)
    await kit.control.add_fault("shopify", "shop", throttle_rate=1, limit=1)
    info = await kit.shopify.shop_info()
    assert info.access_scopes
    statuses = [c.status for c in kit.recorder.calls if c.api == "shopify"]
    assert statuses[-1] == 200
    assert len(statuses) == 3


async def test_shopify_create_after_a_5xx_is_an_unknown_outcome(kit: Kit) -> None:
    await kit.control.add_fault("shopify", "orderCreate", error_rate=1, limit=1)
    with pytest.raises(RemoteTimeout):
        await kit.shopify.create_order(_spec("576000000000000099"))
    # a 5xx from the fault plan did nothing, and the client did not send it again
    assert await kit.control.shopify_orders(source_identifier="576000000000000099") == []


async def test_shopify_timeout_before_anything_happened(kit: Kit) -> None:
    await kit.control.add_fault("shopify", "orderCreate", timeout_rate=1, limit=1)
    client = shopify_client(kit.info, kit.http, timeout=1.0)
    with pytest.raises(RemoteTimeout):
        await client.create_order(_spec("576000000000000098"))
    assert await kit.control.shopify_orders(source_identifier="576000000000000098") == []


async def test_locations_query_matches_the_sandbox(kit: Kit) -> None:
    [location] = await kit.shopify.locations()
    assert location.id == kit.info["shopify"]["shops"][0]["location_ids"][0]
