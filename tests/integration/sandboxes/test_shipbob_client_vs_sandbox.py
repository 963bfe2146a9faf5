
"""The ShipBob client and the ShipBob sandbox, written separately from the docs, agree."""

import asyncio
from datetime import timedelta

import pytest

from orderbridge.adapters.limiter import RateLimiter
from orderbridge.adapters.shipbob import (
    NewOrder,
    NewProduct,
    Recipient,
    RecipientAddress,
    ShipBobClient,
    ShipmentStatus,
    parse_webhook,
    verify_webhook,
)
from orderbridge.devkit import SandboxError, usps_number
from orderbridge.errors import AuthError, NotFound, Rejected

from .conftest import Warehouses


def new_order(ref: str) -> NewOrder:
    return NewOrder(
        reference_id=ref, order_number=ref, shipping_method="Standard",
        recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
            address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
        products=[NewProduct(reference_id="MW-SET-NAT", name="Matcha set", quantity=1)],
    )


async def created(client: ShipBobClient, ref: str) -> int:
    return (await client.create_order(new_order(ref))).id


async def test_orders_are_found_by_reference_on_the_writable_channel(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    order = await client.create_order(new_order("TT-5001"))
    assert order.raw["channel"]["id"] == await client.channel_id()
    assert "orders_write" in next(c for c in tpl.info["shipbob"]["channels"]
                                  if c["id"] == order.raw["channel"]["id"])["scopes"]
    found = await client.find_by_reference("TT-5001")
    assert found is not None
    assert found.id == order.id
    [shipment] = found.shipments
    assert shipment.status == ShipmentStatus.NONE
    assert shipment.cancellable
    assert found.cancellable
    assert await client.find_by_reference("TT-NOPE") is None
    with pytest.raises(NotFound):
        await client.get_order(1)
    with pytest.raises(Rejected):  # the reference is unique
        await client.create_order(new_order("TT-5001"))


async def test_tracking_of_a_shipped_order_and_incremental_pages(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    start = tpl.clock.now()
    ids = [await created(client, f"TT-51{n:02d}") for n in range(5)]
    await tpl.control.advance(60)
    mark = tpl.clock.now()
    await tpl.control.advance(1)
    number = usps_number(42)
    await tpl.control.warehouse("shipbob", ids[3], "accept")
    await tpl.control.warehouse("shipbob", ids[3], "ship", {"carrier": "USPS", "tracking_number": number})

    first = await client.list_updated_since(start, limit=2)
    assert (first.page, first.total_pages, len(first.orders)) == (1, 3, 2)
    everything = [o.id async for o in client.iter_updated_since(start)]
    assert sorted(everything) == sorted(ids)

    [changed] = [o async for o in client.iter_updated_since(mark)]
    assert changed.id == ids[3]
    assert changed.status == "Fulfilled"
    [shipment] = changed.shipments
    assert shipment.status == ShipmentStatus.COMPLETED
    assert shipment.has_tracking
    assert shipment.tracking is not None
    assert (shipment.tracking.carrier, shipment.tracking.tracking_number) == ("USPS", number)
    assert [s.id for s in await client.shipments(ids[3])] == [shipment.id]


async def test_cancel_works_until_the_order_is_picked(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    early, picked = await created(client, "TT-5201"), await created(client, "TT-5202")
    await tpl.control.warehouse("shipbob", early, "accept")
    await tpl.control.warehouse("shipbob", picked, "accept")
    await tpl.control.warehouse("shipbob", picked, "pick")

    [outcome] = await client.cancel_order(early)
    assert outcome.is_success
    assert (await client.get_order(early)).status == "Cancelled"
    await client.cancel_order(early)  # repeating it is harmless

    before = await client.get_order(picked)
    assert not before.cancellable
    assert before.shipments[0].picked
    with pytest.raises(Rejected) as too_late:
        await client.cancel_order(picked)
    assert "picked" in str(too_late.value)
    assert (await client.get_order(picked)).status == "Processing"


async def test_the_client_limiter_keeps_under_150_a_minute(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    for _ in range(150):
        await client.channels()
    assert not [c for c in tpl.recorder.calls if c.status == 429]
    assert sum(tpl.sleeps) > 0  # the 141st call waited for the window


async def test_a_429_is_retried_after_x_retry_after(tpl: Warehouses) -> None:
    client = tpl.shipbob(limiter=RateLimiter(10_000, 60.0))  # no client-side pacing
    for _ in range(152):
        await client.channels()
    throttled = [c for c in tpl.calls("channels") if c.status == 429]
    assert len(throttled) >= 1
    assert 0 < tpl.sleeps[0] <= 60  # the server's x-retry-after, not a guess
    assert len([c for c in tpl.calls("channels") if c.ok]) == 152


async def test_webhooks_verify_with_the_subscription_secret(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    sub = await client.subscribe(["order.shipped"], "http://127.0.0.1:9/unreachable")
    assert sub.secret
    assert sub.secret.startswith("whsec_")
    order_id = await created(client, "TT-5301")
    await tpl.control.warehouse("shipbob", order_id, "ship",
                                {"carrier": "USPS", "tracking_number": usps_number(7)})
    shipped_at = int(tpl.clock.now().timestamp())  # the first attempt is signed at this instant
    # The first attempt (fails: nothing listens) and its retry run in the sandbox's scheduler in
    # the background; on a loaded machine the failure may only land after a clock step, and its
    # retry is due a few seconds after it. Step the clock until the delivery was signed again.
    for _ in range(40):
        await tpl.control.advance(1)
        await asyncio.sleep(0.02)  # let the background attempt run
        [listed] = await tpl.control.deliveries(sandbox="shipbob", topic="order.shipped")
        full = await tpl.control.delivery(listed["id"])
        if int(full["headers"]["webhook-timestamp"]) > shipped_at:
            break
    body, headers = full["body"].encode(), full["headers"]
    now = tpl.clock.now()

    verify_webhook(sub.secret, headers, body, now)
    event = parse_webhook(headers, body)
    assert (event.topic, event.payload["reference_id"]) == ("order.shipped", "TT-5301")
    assert int(headers["webhook-timestamp"]) > shipped_at  # signed again at the retry

    with pytest.raises(AuthError):
        verify_webhook(sub.secret, headers, body.replace(b"TT-5301", b"TT-5399"), now)
    with pytest.raises(AuthError):
        verify_webhook("whsec_" + "A" * 32, headers, body, now)
    with pytest.raises(AuthError):  # a replay ten minutes later
        verify_webhook(sub.secret, headers, body, now + timedelta(minutes=10))


async def test_the_warehouse_fails_holds_delays_and_delivers_with_webhooks(tpl: Warehouses) -> None:
    client = tpl.shipbob()
    await client.subscribe(["order.shipment.exception", "order.shipment.on_hold",
                            "order.shipment.delivered"], "http://127.0.0.1:9/unreachable")
    short, held, sent = (await created(client, "TT-5401"), await created(client, "TT-5402"),
                         await created(client, "TT-5403"))
    await tpl.control.warehouse("shipbob", short, "fail_stock")
    await tpl.control.warehouse("shipbob", held, "hold")
    before = (await client.get_order(sent)).shipments[0].estimated_fulfillment_date
    await tpl.control.warehouse("shipbob", sent, "delay", {"hours": 48})
    after = (await client.get_order(sent)).shipments[0].estimated_fulfillment_date
    assert before is not None
    assert after == before + timedelta(hours=48)
    with pytest.raises(SandboxError, match="409"):
        await tpl.control.warehouse("shipbob", sent, "ship", {"carrier": "UPS", "tracking_number": "12345"})
    await tpl.control.warehouse("shipbob", sent, "ship", {"carrier": "USPS", "tracking_number": usps_number(9)})
    await tpl.control.warehouse("shipbob", sent, "deliver")

    failed = await client.get_order(short)
    assert (failed.status, failed.shipments[0].status) == ("Exception", "Exception")
    assert failed.cancellable  # out of stock, not picked: it can still be stopped
    assert (await client.get_order(held)).shipments[0].status == ShipmentStatus.ON_HOLD
    assert (await client.get_order(sent)).shipments[0].delivery_date is not None
    topics = sorted(d["topic"] for d in await tpl.control.deliveries(sandbox="shipbob"))
    assert topics == ["order.shipment.delivered", "order.shipment.exception", "order.shipment.on_hold"]
