"""3PL tracking end to end, over real HTTP against the sandboxes, on both databases.

The seller's own Shopify->3PL app is played by the test (it creates the 3PL order under the
reference that app would use); the warehouse ships through the sandbox's control API; the
3PL poller stores what changed and makes the order due; the engine writes one Shopify
fulfilment with the tracking and pushes it to TikTok once, however often it looks again.
"""

from __future__ import annotations

from typing import Any

from orderbridge.adapters.amazon_mcf import (
    CreateItem,
    CreateOrder,
    DestinationAddress,
    ShippingSpeed,
)
from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.adapters.retry import Runtime
from orderbridge.adapters.shipbob import NewOrder, NewProduct, Recipient, RecipientAddress
from orderbridge.adapters.us_calendar import us_business_calendar
from orderbridge.devkit import amazon_mcf_client, shipbob_client, usps_number
from orderbridge.engine.policy_store import set_policy
from orderbridge.engine.poller import Poller
from orderbridge.engine.sla_desk import read_desk
from orderbridge.engine.threepl.poll import ThreePLPoller

from .conftest import HOUR, Harness

MCF_VALIDATION_SECONDS = 31  # the MCF sandbox validates New -> Received after 30 s


def _open_codes(h: Harness, tiktok_id: str) -> dict[str, Any]:
    link = h.link(tiktok_id)
    with transaction(h.services.db, write=False) as conn:
        rows = order_exceptions.open_exceptions(conn, link_id=link.id)
    return {r.code: r for r in rows}


def _map_location(h: Harness, threepl: str, reference: str) -> None:
    location = h.connection.shopify_location_id
    assert location
    set_policy(h.services, h.connection, "threepl_locations", f'{{"{location}": "{threepl}"}}')
    set_policy(h.services, h.connection, "threepl_reference", reference)


def _desk_status(h: Harness, tiktok_id: str) -> str:
    with transaction(h.services.db, write=False) as conn:
        rows = read_desk(conn, us_business_calendar(), h.now())
    [row] = [r for r in rows if r.tiktok_order_id == tiktok_id]
    return row.threepl_status


def _poller(h: Harness, **clients: Any) -> ThreePLPoller:
    return ThreePLPoller(h.services.db, h.connection.id, h.now, **clients)


def _runtime(h: Harness) -> Runtime:
    return Runtime.on(h.services.clock)


def _mcf_order(ref: str, units: int = 1) -> CreateOrder:
    return CreateOrder(
        seller_fulfillment_order_id=ref, displayable_order_id=ref,
        displayable_order_date="2026-11-16T17:00:00Z", displayable_order_comment="Thank you",
        shipping_speed_category=ShippingSpeed.STANDARD,
        destination_address=DestinationAddress(
            name="Ada Buyer", address_line1="1 Main St", city="Austin", state_or_region="TX",
            postal_code="73301", country_code="US"),
        items=[CreateItem(seller_sku="MW-SET-NAT", seller_fulfillment_order_item_id=f"{ref}-1", quantity=units)],
    )


async def _shopify_fulfilments(h: Harness, tiktok_id: str) -> list[dict[str, Any]]:
    [order] = await h.shopify_orders(tiktok_id)
    fulfilments: list[dict[str, Any]] = order["fulfillments"]
    return fulfilments


async def _mutations(h: Harness, shopify_id: str) -> dict[str, int]:
    counts: dict[str, int] = (await h.control.mutation_counts())["per_order"].get(shopify_id, {})
    return counts


async def test_mcf_tracking_reaches_shopify_and_tiktok_once(harness: Harness) -> None:
    h = harness
    _map_location(h, "amazon_mcf", "shopify_order_name")
    order_id, shopify_id = await h.released_order()
    name = h.link(order_id).shopify_order_name or ""
    reference = name.lstrip("#")  # the seller's MCF app names orders by the Shopify name
    mcf = amazon_mcf_client(h.info, h.http, runtime=_runtime(h))
    poller = _poller(h, amazon=mcf)
    await mcf.create_order(_mcf_order(reference))
    await h.control.advance(MCF_VALIDATION_SECONDS)
    assert await poller.poll_once() == 1  # stored; nothing shipped yet
    await h.settle()
    assert await _shopify_fulfilments(h, order_id) == []
    assert _desk_status(h, order_id) == "amazon_mcf Received"  # `orderbridge sla` shows it

    for step in ("accept", "pick"):
        await h.control.warehouse("amazon_mcf", reference, step)
    shipped = await h.control.warehouse("amazon_mcf", reference, "ship", {})  # Amazon Logistics: TBA...
    number = shipped["package"]["trackingNumber"]
    assert number.startswith("TBA")
    await h.control.advance(1)
    assert await poller.poll_once() == 1
    await h.settle()

    [fulfilment] = await _shopify_fulfilments(h, order_id)
    assert fulfilment["tracking_numbers"] == [number]
    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == number
    assert h.link(order_id).last_error is None
    assert not _open_codes(h, order_id)

    # Polls and passes again, hours later and after a restart of the poller: nothing twice.
    await h.advance(2 * HOUR)
    assert await _poller(h, amazon=mcf).poll_once() == 0
    h.mark_due(order_id)
    await h.settle()
    assert (await _mutations(h, shopify_id)).get("fulfillmentCreate") == 1
    assert len(await _shopify_fulfilments(h, order_id)) == 1
    assert len(await h.control.tiktok_packages(order_id)) == 1


async def test_mcf_order_shipped_with_ups_tracking_is_blocked_with_an_exception(harness: Harness) -> None:
    h = harness
    _map_location(h, "amazon_mcf", "tiktok_order_id")
    order_id, shopify_id = await h.released_order()
    mcf = amazon_mcf_client(h.info, h.http, runtime=_runtime(h))
    await mcf.create_order(_mcf_order(order_id))
    await h.control.advance(MCF_VALIDATION_SECONDS)
    for step in ("accept", "pick"):
        await h.control.warehouse("amazon_mcf", order_id, step)
    await h.control.warehouse("amazon_mcf", order_id, "ship",
                              {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
    await h.control.advance(1)
    await _poller(h, amazon=mcf).poll_once()
    await h.settle()

    issue = _open_codes(h, order_id)["NON_MCF_TRACKING"]
    assert issue.severity == "error"
    assert (issue.data or {})["tracking_number"] == "1Z999AA10123456784"
    assert "not Amazon-issued" in issue.message
    assert await _shopify_fulfilments(h, order_id) == []
    assert await h.control.tiktok_packages(order_id) == []
    assert "fulfillmentCreate" not in await _mutations(h, shopify_id)


async def test_shipbob_tracking_by_tiktok_reference_reaches_shopify_and_tiktok_once(harness: Harness) -> None:
    """Through the engine's own poller and the ShipBob account of its settings."""
    h = harness
    _map_location(h, "shipbob", "tiktok_order_id")
    order_id, shopify_id = await h.released_order()
    client = shipbob_client(h.info, h.http, runtime=_runtime(h))
    woken: list[int] = []
    poller = Poller(h.services, "poller-test", on_due=lambda: woken.append(1), rand=lambda: 0.0)
    created = await client.create_order(NewOrder(
        reference_id=order_id, order_number=order_id, shipping_method="Standard",
        recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
            address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
        products=[NewProduct(reference_id="MW-SET-NAT", name="Matcha set", quantity=1)],
    ))
    number = usps_number(22319742863)
    await h.control.warehouse("shipbob", created.id, "accept")
    await h.control.warehouse("shipbob", created.id, "ship", {"carrier": "USPS", "tracking_number": number})
    await h.control.advance(1)
    [report] = (await poller.poll_due()).values()
    assert report.threepl == 1
    assert woken == [1]
    await h.settle()

    [fulfilment] = await _shopify_fulfilments(h, order_id)
    assert fulfilment["tracking_numbers"] == [number]
    assert fulfilment["tracking_company"] == "USPS"
    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == number

    await h.advance(HOUR)
    [report] = (await poller.poll_due()).values()
    assert report.threepl == 0
    h.mark_due(order_id)
    await h.settle()
    assert (await _mutations(h, shopify_id)).get("fulfillmentCreate") == 1
    assert len(await h.control.tiktok_packages(order_id)) == 1


def _runtime_on_sandbox_clock(h: Harness, recorder: MemoryRecorder, sleeps: list[float]) -> Runtime:
    """A client runtime whose limiter and back-off wait on the sandbox clock (no real sleep)."""
    clock = h.services.clock

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    def now() -> float:
        return clock.now().timestamp()

    return Runtime(clock=now, monotonic=now, sleep=sleep, random=lambda: 0.5, recorder=recorder)


async def test_the_mcf_poll_keeps_under_amazons_quota(harness: Harness) -> None:
    """40 changed MCF orders: one list and 40 reads, paced by the token bucket (2/s, burst
    30 at Amazon; the client keeps 10% below), never a 429."""
    h = harness
    recorder, sleeps = MemoryRecorder(), []
    mcf = amazon_mcf_client(h.info, h.http, runtime=_runtime_on_sandbox_clock(h, recorder, sleeps))
    for n in range(40):
        await mcf.create_order(_mcf_order(f"Q{n:03d}"))
    await h.control.advance(MCF_VALIDATION_SECONDS)
    started = h.now()
    assert await _poller(h, amazon=mcf).poll_once() == 40
    reads = [c for c in recorder.calls if c.operation == "getFulfillmentOrder"]
    assert len(reads) == 40
    assert {c.status for c in recorder.calls} == {200}  # no 429 from Amazon
    assert (h.now() - started).total_seconds() >= (40 - 27) / 1.8 - 0.5  # the bucket waited
    # Nothing changed since: the next poll lists again but reads nothing.
    assert await _poller(h, amazon=mcf).poll_once() == 0
    assert len([c for c in recorder.calls if c.operation == "getFulfillmentOrder"]) == 40


async def test_the_shipbob_poll_waits_out_a_429_when_the_account_is_busy(harness: Harness) -> None:
    """The seller's other ShipBob app spent the account's 150 requests of this minute: the
    poll's call gets 429 with x-retry-after, waits that long, and then goes through."""
    h = harness
    recorder, sleeps = MemoryRecorder(), []
    client = shipbob_client(h.info, h.http, runtime=_runtime_on_sandbox_clock(h, recorder, sleeps))
    sb = h.info["shipbob"]
    headers = {"authorization": f"Bearer {sb['personal_access_token']}"}
    statuses = [(await h.http.get(f"{sb['api_base']}/channel", headers=headers)).status_code for _ in range(150)]
    assert set(statuses) == {200}
    assert await _poller(h, shipbob=client).poll_once() == 0
    polled = [c.status for c in recorder.calls if c.operation == "getOrders"]
    assert polled == [429, 200]
    assert sleeps
    assert sleeps[0] > 0  # x-retry-after, waited on the sandbox clock


async def test_a_3pl_order_the_polls_never_saw_is_found_by_the_fallback_search(harness: Harness) -> None:
    """No 3PL poll at all: from 15 minutes after the release the order's pass searches Amazon
    under each reference itself (hourly), stores what it finds and carries its tracking
    through, once. (released_order() already ran the first, empty search.)"""
    h = harness
    _map_location(h, "amazon_mcf", "shopify_order_name")  # the seller's app used the TikTok id
    order_id, shopify_id = await h.released_order()
    mcf = amazon_mcf_client(h.info, h.http, runtime=_runtime(h))
    await mcf.create_order(_mcf_order(order_id))
    await h.control.advance(MCF_VALIDATION_SECONDS)
    for step in ("accept", "pick"):
        await h.control.warehouse("amazon_mcf", order_id, step)
    shipped = await h.control.warehouse("amazon_mcf", order_id, "ship", {})
    number = shipped["package"]["trackingNumber"]
    assert h.link(order_id).memory["threepl_searched_at"]  # searched, nothing there yet
    await h.advance(HOUR)
    [package] = await h.control.tiktok_packages(order_id)
    assert package["tracking_number"] == number
    assert [f["tracking_numbers"] for f in await _shopify_fulfilments(h, order_id)] == [[number]]
    await h.advance(3 * HOUR)
    assert (await _mutations(h, shopify_id)).get("fulfillmentCreate") == 1
    assert "THREEPL_ORDER_MISSING" not in _open_codes(h, order_id)


async def test_an_order_no_3pl_has_after_hours_is_a_warning(harness: Harness) -> None:
    h = harness
    _map_location(h, "shipbob", "tiktok_order_id")
    order_id, _ = await h.released_order()
    await h.advance(4 * HOUR + 30 * 60)
    issue = _open_codes(h, order_id)["THREEPL_ORDER_MISSING"]
    assert issue.severity == "warning"
    assert order_id in issue.message
    assert h.link(order_id).last_error is None


async def test_the_cancellation_desk_finds_the_3pl_order_by_the_same_policy(harness: Harness) -> None:
    """No locator handed to the engine: the policy that maps the location to Amazon MCF and
    names the reference is what the cancellation desk uses too (with the settings' account)."""
    h = harness
    _map_location(h, "amazon_mcf", "tiktok_order_id")
    order_id, shopify_id = await h.released_order()
    mcf = amazon_mcf_client(h.info, h.http, runtime=_runtime(h))
    await mcf.create_order(_mcf_order(order_id))
    await h.control.advance(MCF_VALIDATION_SECONDS)
    await h.control.warehouse("amazon_mcf", order_id, "accept")  # Planning: still stoppable
    answer = await h.control.tiktok_action(order_id, "buyer_cancel", {"reason": "changed mind"})
    assert answer["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    h.mark_due(order_id)
    await h.settle()
    assert (await mcf.get_order(order_id)).fulfillment_order.fulfillment_order_status == "Cancelled"
    await h.advance(60, settle=False)  # Shopify's cancel job finishes
    h.mark_due(order_id)
    await h.settle()
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is not None
    [record] = await h.control.tiktok_cancellations(order_id)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
