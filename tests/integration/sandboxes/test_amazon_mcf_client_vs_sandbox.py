"""The Amazon MCF client and the Amazon MCF sandbox, written separately from the docs, agree."""

from datetime import timedelta

import pytest

from orderbridge.adapters.amazon_mcf import (
    AmazonMcfClient,
    CreateItem,
    CreateOrder,
    DestinationAddress,
    McfStatus,
    ShippingSpeed,
)
from orderbridge.adapters.limiter import TokenBucket
from orderbridge.devkit import SandboxError
from orderbridge.errors import NotFound, Rejected

from .conftest import Warehouses

VALIDATION_SECONDS = 31  # the sandbox validates New -> Received after 30 s


def new_order(ref: str, units: int = 2) -> CreateOrder:
    return CreateOrder(
        seller_fulfillment_order_id=ref, displayable_order_id=ref,
        displayable_order_date="2026-11-16T17:00:00Z", displayable_order_comment="Thank you",
        shipping_speed_category=ShippingSpeed.STANDARD,
        destination_address=DestinationAddress(
            name="Ada Buyer", address_line1="1 Main St", city="Austin", state_or_region="TX",
            postal_code="73301", country_code="US"),
        items=[CreateItem(seller_sku="MW-SET-NAT", seller_fulfillment_order_item_id=f"{ref}-1", quantity=units)],
    )


async def received(tpl: Warehouses, client: AmazonMcfClient, ref: str) -> None:
    await client.create_order(new_order(ref))
    await tpl.control.advance(VALIDATION_SECONDS)


async def test_lwa_token_is_exchanged_once_and_refreshed_before_the_hour(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await client.create_order(new_order("TT-1001"))
    detail = await client.get_order("TT-1001")
    assert detail.status is McfStatus.NEW
    assert len(tpl.calls("lwa.token")) == 1  # one exchange serves both calls

    await tpl.control.advance(56 * 60)  # within five minutes of the hour: refresh first
    await client.get_order("TT-1001")
    assert len(tpl.calls("lwa.token")) == 2
    assert not [c for c in tpl.recorder.calls if c.status == 403]


async def test_an_access_token_expired_early_is_refreshed_once_and_the_call_repeated(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await received(tpl, client, "TT-1002")
    await client.get_order("TT-1002")
    await tpl.control.call("POST", "/amazon_mcf/tokens/expire")
    detail = await client.get_order("TT-1002")
    assert detail.status is McfStatus.RECEIVED
    assert [c.status for c in tpl.calls("getFulfillmentOrder")][-2:] == [403, 200]
    assert len(tpl.calls("lwa.token")) == 2


async def test_a_shipped_order_has_packages_with_carrier_and_tracking(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await received(tpl, client, "TT-1003")
    await tpl.control.warehouse("amazon_mcf", "TT-1003", "accept")
    await tpl.control.warehouse("amazon_mcf", "TT-1003", "pick")
    shipped = await tpl.control.warehouse("amazon_mcf", "TT-1003", "ship",
                                          {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
    detail = await client.get_order("TT-1003")
    assert detail.status is McfStatus.COMPLETE
    [package] = detail.packages
    assert (package.carrier_code, package.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert package.package_number == shipped["package"]["packageNumber"]
    assert package.amazon_fulfillment_tracking_number
    [line] = detail.fulfillment_shipments[0].fulfillment_shipment_item
    assert (line.package_number, line.quantity) == (package.package_number, 2)

    tracking = await client.package_tracking(package.package_number)
    assert (tracking.carrier_code, tracking.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert tracking.current_status == "IN_TRANSIT"
    assert tracking.raw["packageNumber"] == package.package_number


async def test_statuses_in_upper_case_are_understood(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await received(tpl, client, "TT-1004")
    await tpl.control.warehouse("amazon_mcf", "TT-1004", "pick")
    await tpl.control.call("POST", "/amazon_mcf/settings", {"uppercase_statuses": True})
    detail = await client.get_order("TT-1004")
    assert detail.fulfillment_order.fulfillment_order_status == "PROCESSING"
    assert detail.status is McfStatus.PROCESSING
    assert not detail.cancellable


async def test_cancel_is_accepted_while_planning_and_refused_once_processing(tpl: Warehouses) -> None:
    client = tpl.mcf()
    for ref in ("TT-2001", "TT-2002"):
        await received(tpl, client, ref)
        await tpl.control.warehouse("amazon_mcf", ref, "accept")
    await tpl.control.warehouse("amazon_mcf", "TT-2002", "pick")

    planning = await client.get_order("TT-2001")
    assert planning.status is McfStatus.PLANNING
    assert planning.cancellable
    await client.cancel_order("TT-2001")
    assert (await client.get_order("TT-2001")).status is McfStatus.CANCELLED
    await client.cancel_order("TT-2001")  # a repeated cancel (lost answer) is harmless
    assert (await client.get_order("TT-2001")).status is McfStatus.CANCELLED

    with pytest.raises(Rejected) as too_late:
        await client.cancel_order("TT-2002")
    assert too_late.value.code == "InvalidInput"
    assert (await client.get_order("TT-2002")).status is McfStatus.PROCESSING


async def test_a_new_order_not_yet_validated_cannot_be_cancelled(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await client.create_order(new_order("TT-2003"))
    with pytest.raises(Rejected):
        await client.cancel_order("TT-2003")


async def test_an_unknown_order_is_not_found(tpl: Warehouses) -> None:
    client = tpl.mcf()
    assert await client.find_order("NOPE-1") is None
    with pytest.raises(NotFound):
        await client.get_order("NOPE-1")


async def test_a_duplicate_create_is_rejected(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await client.create_order(new_order("TT-2004"))
    with pytest.raises(Rejected):
        await client.create_order(new_order("TT-2004"))


async def test_orders_updated_since_are_listed_page_by_page_within_the_quota(tpl: Warehouses) -> None:
    client = tpl.mcf()
    start = tpl.clock.now()
    refs = [f"TT-3{n:03d}" for n in range(60)]
    for ref in refs:  # 60 creates: more than the burst of 30, the limiter paces them
        await client.create_order(new_order(ref))
    assert not [c for c in tpl.recorder.calls if c.status == 429]
    assert tpl.sleeps, "the client-side bucket waited instead of earning 429s"

    listed = [o.seller_fulfillment_order_id async for o in client.iter_updated_since(start)]
    assert sorted(listed) == refs
    assert len(tpl.calls("listAllFulfillmentOrders")) == 2  # pages of 50

    await tpl.control.advance(VALIDATION_SECONDS)  # all validated now
    later = tpl.clock.now() + timedelta(seconds=1)
    await tpl.control.advance(2)
    await tpl.control.warehouse("amazon_mcf", refs[7], "accept")
    changed = [o async for o in client.iter_updated_since(later)]
    assert [(o.seller_fulfillment_order_id, o.status) for o in changed] == [(refs[7], McfStatus.PLANNING)]


async def test_throttled_calls_are_retried_after_back_off(tpl: Warehouses) -> None:
    # No client-side bucket: the sandbox's quota (burst 30) answers 429 and the client backs off.
    client = tpl.mcf(limiter=TokenBucket(1000.0, 1000))
    await client.create_order(new_order("TT-4001"))
    for _ in range(34):
        await client.get_order("TT-4001")
    throttled = [c for c in tpl.calls("getFulfillmentOrder") if c.status == 429]
    assert throttled
    assert all(c.code == "QuotaExceeded" for c in throttled)
    assert len([c for c in tpl.calls("getFulfillmentOrder") if c.ok]) == 34
    assert tpl.sleeps


async def test_the_warehouse_fails_for_stock_delays_and_delivers(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await received(tpl, client, "TT-6001")
    await received(tpl, client, "TT-6002")
    before = (await client.get_order("TT-6001")).fulfillment_order_items[0].estimated_ship_date
    await tpl.control.warehouse("amazon_mcf", "TT-6001", "delay", {"hours": 24})
    detail = await client.get_order("TT-6001")
    assert before is not None
    assert detail.fulfillment_order_items[0].estimated_ship_date == before + timedelta(hours=24)
    await tpl.control.warehouse("amazon_mcf", "TT-6001", "fail_stock")
    detail = await client.get_order("TT-6001")
    assert detail.status is McfStatus.UNFULFILLABLE
    assert detail.fulfillment_order_items[0].unfulfillable_quantity == 2

    shipped = await tpl.control.warehouse("amazon_mcf", "TT-6002", "ship", {"items": {"TT-6002-1": 1}})
    assert shipped["package"]["carrierCode"] == "Amazon Logistics"  # Amazon's own number by default
    assert shipped["package"]["trackingNumber"].startswith("TBA")
    await tpl.control.warehouse("amazon_mcf", "TT-6002", "fail_stock")
    assert (await client.get_order("TT-6002")).status is McfStatus.COMPLETE_PARTIALLED
    number = shipped["package"]["packageNumber"]
    await tpl.control.call("POST", f"/amazon_mcf/packages/{number}/deliver")
    assert (await client.package_tracking(number)).current_status == "DELIVERED"


async def test_the_warehouse_refuses_a_number_of_another_carrier(tpl: Warehouses) -> None:
    client = tpl.mcf()
    await received(tpl, client, "TT-6003")
    with pytest.raises(SandboxError, match="409"):
        await tpl.control.warehouse("amazon_mcf", "TT-6003", "ship",
                                    {"carrier": "UPS", "tracking_number": "9400111899223197428490"})
    await tpl.control.warehouse("amazon_mcf", "TT-6003", "status", {"status": "Invalid"})
    assert (await client.get_order("TT-6003")).status is McfStatus.INVALID
