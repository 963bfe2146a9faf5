"""The cancellation desk through the whole engine, over real HTTP against the TikTok, Shopify
and Amazon MCF sandboxes, on both databases: a buyer's request for an order Amazon is still
planning is cancelled at Amazon, then in Shopify (restocked, job awaited), then approved on
TikTok; one Amazon is already processing stays pending with the reason and TikTok's deadline."""

from __future__ import annotations

from typing import Any

from orderbridge.adapters.alert_channels import WebhookChannel
from orderbridge.adapters.amazon_mcf import (
    AmazonMcfClient,
    CreateItem,
    CreateOrder,
    DestinationAddress,
)
from orderbridge.adapters.db import events, transaction
from orderbridge.adapters.retry import Runtime
from orderbridge.adapters.shipbob import (
    NewOrder,
    NewProduct,
    Recipient,
    RecipientAddress,
    ShipBobClient,
)
from orderbridge.adapters.threepl_lookup import ThreePLHandle
from orderbridge.devkit import amazon_mcf_client, shipbob_client
from orderbridge.engine.cancel_desk import OneThreePL, ReferenceKind, read_cancel_desk
from orderbridge.engine.recording import RoutingRecorder
from orderbridge.engine.sla_alerts import SlaAlerter
from orderbridge.engine.worker import Reconciler

from .conftest import HOUR, Harness
from .test_sla_alerts import Receiver, receiver  # noqa: F401  (fixture)

VALIDATION_SECONDS = 31  # the MCF sandbox validates New -> Received after 30 s


def mcf_client(h: Harness) -> AmazonMcfClient:
    return amazon_mcf_client(h.info, h.http, runtime=Runtime.on(h.services.clock, RoutingRecorder()))


def desk_worker(h: Harness, client: AmazonMcfClient) -> Reconciler:
    """The engine with its 3PL: every order at Amazon MCF under its Shopify order id."""
    return Reconciler(h.services, "desk-worker", batch=50,
                      threepl=OneThreePL(client, ReferenceKind.SHOPIFY_ORDER_ID))


async def at_amazon(h: Harness, client: AmazonMcfClient, reference: str) -> None:
    """What the seller's Shopify->MCF app does: the MCF order under the Shopify order id."""
    await client.create_order(CreateOrder(
        seller_fulfillment_order_id=reference, displayable_order_id=reference.lstrip("#"),
        displayable_order_date="2026-11-16T17:00:00Z", displayable_order_comment="Thank you",
        shipping_speed_category="Standard",
        destination_address=DestinationAddress(name="Ada Buyer", address_line1="1 Main St", city="Austin",
                                                state_or_region="TX", postal_code="73301", country_code="US"),
        items=[CreateItem(seller_sku="MW-SET-NAT", seller_fulfillment_order_item_id=f"{reference}-1", quantity=1)],
    ))
    await h.control.advance(VALIDATION_SECONDS)
    await h.control.warehouse("amazon_mcf", reference, "accept")  # Planning


def action_kinds(h: Harness, tiktok_id: str) -> list[str]:
    link = h.link(tiktok_id)
    with transaction(h.services.db, write=False) as conn:
        rows = events.timeline(conn, link.id)
    return [r.summary.split(":")[0] for r in rows if r.kind == "action"]


async def request_cancel(h: Harness, order_id: str) -> dict[str, Any]:
    answer = await h.control.tiktok_action(order_id, "buyer_cancel", {"reason": "changed mind"})
    record: dict[str, Any] = answer["cancellation"]
    assert record["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    return record


async def test_planning_mcf_order_is_cancelled_at_amazon_then_shopify_then_approved(harness: Harness) -> None:
    h = harness
    client = mcf_client(h)
    worker = desk_worker(h, client)
    order_id, shopify_id = await h.released_order()
    name = shopify_id.removeprefix("gid://shopify/Order/")
    await at_amazon(h, client, name)
    await request_cancel(h, order_id)

    h.mark_due(order_id)
    await h.settle(worker)
    assert (await client.get_order(name)).fulfillment_order.fulfillment_order_status == "Cancelled"
    await h.advance(60, settle=False)  # Shopify's cancel job finishes
    h.mark_due(order_id)
    await h.settle(worker)

    shop = await h.control.shopify_order(shopify_id)
    assert shop["cancelled_at"] is not None
    [record] = await h.control.tiktok_cancellations(order_id)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    kinds = action_kinds(h, order_id)
    assert kinds.index("cancel_threepl_order") < kinds.index("cancel_shopify_order") \
        < kinds.index("approve_cancellation"), kinds
    assert kinds.count("approve_cancellation") == 1
    with transaction(h.services.db, write=False) as conn:
        assert read_cancel_desk(conn, tiktok_order_id=order_id) == []


async def test_processing_mcf_order_stays_pending_with_reason_and_tiktoks_deadline(harness: Harness) -> None:
    h = harness
    client = mcf_client(h)
    worker = desk_worker(h, client)
    order_id, shopify_id = await h.released_order()
    name = shopify_id.removeprefix("gid://shopify/Order/")
    await at_amazon(h, client, name)
    await h.control.warehouse("amazon_mcf", name, "pick")  # Processing: too late
    record = await request_cancel(h, order_id)

    h.mark_due(order_id)
    await h.settle(worker)
    await h.advance(HOUR, settle=False)
    h.mark_due(order_id)
    await h.settle(worker)
    assert (await client.get_order(name)).fulfillment_order.fulfillment_order_status == "Processing"
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is None
    [still] = await h.control.tiktok_cancellations(order_id)
    assert still["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    with transaction(h.services.db, write=False) as conn:
        [item] = read_cancel_desk(conn, tiktok_order_id=order_id)
    assert item.state.value == "blocked"
    assert not item.stoppable
    assert "Processing" in item.why
    [respond] = record["seller_next_action_response"]  # TikTok's own deadline, not computed
    assert item.deadline is not None
    assert int(item.deadline.timestamp()) == int(respond["deadline"])
    assert "cancel_threepl_order" not in action_kinds(h, order_id)


async def test_a_blocked_request_is_alerted_before_tiktoks_deadline_once_per_threshold(
        harness: Harness, receiver: tuple[Receiver, str]) -> None:  # noqa: F811
    h, (hook, url) = harness, receiver
    client = mcf_client(h)
    worker = desk_worker(h, client)
    alerter = SlaAlerter(h.services, "test-alerter", [WebhookChannel(url, h.http)])
    order_id, _ = await h.released_order()
    reference = h.link(order_id).shopify_order_id or ""
    reference = reference.removeprefix("gid://shopify/Order/")
    await at_amazon(h, client, reference)
    await h.control.warehouse("amazon_mcf", reference, "pick")
    record = await request_cancel(h, order_id)
    h.mark_due(order_id)
    await h.settle(worker)
    deadline = int(record["seller_next_action_response"][0]["deadline"])

    def cancel_alerts() -> list[str]:
        return [b["threshold"] for b in hook.received if b.get("alert") == "cancellation"]

    await alerter.run_once()
    assert cancel_alerts() == []  # 48 h left
    await h.advance(deadline - h.now().timestamp() - 11 * HOUR, settle=False)
    await alerter.run_once()
    await alerter.run_once()
    assert cancel_alerts() == ["cancel_12h"]
    [body] = [b for b in hook.received if b.get("alert") == "cancellation"]
    assert body["tiktok_order_id"] == order_id
    assert body["stoppable"] is False
    assert "Processing" in body["why_not"]
    await h.advance(8 * HOUR, settle=False)  # 3 h left
    await alerter.run_once()
    assert cancel_alerts() == ["cancel_12h", "cancel_4h"]


async def at_shipbob(h: Harness, reference: str) -> tuple[ShipBobClient, int]:
    """What the seller's Shopify->ShipBob app does: the ShipBob order under the Shopify order name."""
    client = shipbob_client(h.info, h.http, runtime=Runtime.on(h.services.clock, RoutingRecorder()))
    order = await client.create_order(NewOrder(
        reference_id=reference, order_number=reference, shipping_method="Standard",
        recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
            address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
        products=[NewProduct(reference_id="MW-SET-NAT", name="Matcha set", quantity=1)]))
    return client, order.id


async def test_shipbob_order_not_picked_is_cancelled_there_first_a_picked_one_is_blocked(harness: Harness) -> None:
    h = harness
    stoppable, _ = await h.released_order()
    late, late_shopify = await h.released_order()
    name = h.link(stoppable).shopify_order_name or ""
    client, sb_id = await at_shipbob(h, name)
    _, picked_id = await at_shipbob(h, h.link(late).shopify_order_name or "")
    await h.control.warehouse("shipbob", picked_id, "pick")
    worker = Reconciler(h.services, "desk-worker", batch=50,
                        threepl=OneThreePL(client, ReferenceKind.SHOPIFY_ORDER_NAME))
    await request_cancel(h, stoppable)
    await request_cancel(h, late)
    h.mark_due(stoppable, late)
    await h.settle(worker)
    await h.advance(60, settle=False)
    h.mark_due(stoppable, late)
    await h.settle(worker)

    assert (await client.get_order(sb_id)).status == "Cancelled"
    [record] = await h.control.tiktok_cancellations(stoppable)
    assert record["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert (await client.get_order(picked_id)).status != "Cancelled"
    assert (await h.control.shopify_order(late_shopify))["cancelled_at"] is None
    with transaction(h.services.db, write=False) as conn:
        [item] = read_cancel_desk(conn)
    assert item.record.tiktok_order_id == late
    assert item.state.value == "blocked"
    assert "picked" in item.why


async def test_a_request_is_judged_on_the_3pl_order_found_under_any_reference(harness: Harness) -> None:
    """The seller's app filed the MCF order under the Shopify name without its ``#``: the first
    reference (``#NNNN``) finds nothing, the next one finds it Processing, so the request is
    blocked, never taken for stoppable because the first look came back empty."""
    h = harness
    client = mcf_client(h)
    order_id, shopify_id = await h.released_order()
    reference = "SO-" + shopify_id.removeprefix("gid://shopify/Order/")
    await at_amazon(h, client, reference)
    await h.control.warehouse("amazon_mcf", reference, "pick")  # Processing: too late

    def locator(connection_id: int, order: Any, shopify: Any) -> ThreePLHandle:
        return ThreePLHandle(client, f"#{reference}", (reference,))

    worker = Reconciler(h.services, "desk-worker", batch=50, threepl=locator)
    await request_cancel(h, order_id)
    h.mark_due(order_id)
    await h.settle(worker)
    with transaction(h.services.db, write=False) as conn:
        [item] = read_cancel_desk(conn, tiktok_order_id=order_id)
    assert item.state.value == "blocked"
    assert not item.stoppable
    assert "Processing" in item.why
    assert "cancel_threepl_order" not in action_kinds(h, order_id)
    assert (await h.control.shopify_order(shopify_id))["cancelled_at"] is None
