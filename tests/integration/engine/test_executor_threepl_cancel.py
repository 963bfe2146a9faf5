"""The executor's 3PL cancel against the Amazon MCF and ShipBob sandboxes: sent once, a repeat
reads the 3PL first and sends nothing; too late is a refusal with the 3PL's words; with no 3PL
known it is refused, never a silent success."""

from __future__ import annotations

from dataclasses import replace

from orderbridge.adapters.amazon_mcf import CreateItem, CreateOrder, DestinationAddress
from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.retry import Runtime
from orderbridge.adapters.shipbob import NewOrder, NewProduct, Recipient, RecipientAddress
from orderbridge.adapters.threepl_lookup import ThreePLHandle
from orderbridge.devkit import amazon_mcf_client, shipbob_client
from orderbridge.domain.actions import CancelThreePLOrder
from orderbridge.domain.outcome import OutcomeStatus
from orderbridge.engine.executor import NO_THREEPL_MESSAGE

from .conftest import Kit
from .test_executor_vs_sandboxes import Story, created

VALIDATION_SECONDS = 31  # the MCF sandbox validates New -> Received after 30 s


async def test_mcf_cancel_is_sent_once_and_a_late_one_is_refused(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    recorder = MemoryRecorder()
    mcf = amazon_mcf_client(kit.info, kit.http, runtime=Runtime.on(kit.world.clock, recorder))
    for ref in ("TT-9001", "TT-9002"):
        await mcf.create_order(CreateOrder(
            seller_fulfillment_order_id=ref, displayable_order_id=ref, displayable_order_date="2026-11-16T17:00:00Z",
            displayable_order_comment="Thanks", shipping_speed_category="Standard",
            destination_address=DestinationAddress(name="Ada Buyer", address_line1="1 Main St", city="Austin",
                                                    state_or_region="TX", postal_code="73301", country_code="US"),
            items=[CreateItem(seller_sku="MW-SET-NAT", seller_fulfillment_order_item_id=f"{ref}-1", quantity=1)]))
    await kit.control.advance(VALIDATION_SECONDS)
    await kit.control.warehouse("amazon_mcf", "TT-9002", "pick")  # Processing: too late

    ctx = replace(story.ctx(), threepl=ThreePLHandle(mcf, "TT-9001"))
    action = CancelThreePLOrder(threepl_order_id="TT-9001")
    first = await story.executor.execute(action, ctx)
    second = await story.executor.execute(action, ctx)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert second.message == "3PL order TT-9001 already cancelled"
    assert [c.operation for c in recorder.calls].count("cancelFulfillmentOrder") == 1
    assert (await mcf.get_order("TT-9001")).fulfillment_order.fulfillment_order_status == "Cancelled"

    late = await story.executor.execute(CancelThreePLOrder(threepl_order_id="TT-9002"),
                                        replace(ctx, threepl=ThreePLHandle(mcf, "TT-9002")))
    assert late.status is OutcomeStatus.REJECTED
    assert "cancelFulfillmentOrder" in late.message

    unknown = await story.executor.execute(action, story.ctx())
    assert unknown.status is OutcomeStatus.REJECTED
    assert NO_THREEPL_MESSAGE in unknown.message


async def test_shipbob_cancel_is_sent_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    recorder = MemoryRecorder()
    sb = shipbob_client(kit.info, kit.http, runtime=Runtime.on(kit.world.clock, recorder))
    order = await sb.create_order(NewOrder(
        reference_id="#1077", order_number="#1077", shipping_method="Standard",
        recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
            address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
        products=[NewProduct(reference_id="MW-SET-NAT", name="Matcha set", quantity=1)]))
    ctx = replace(story.ctx(), threepl=ThreePLHandle(sb, "#1077"))
    action = CancelThreePLOrder(threepl_order_id=str(order.id))
    first = await story.executor.execute(action, ctx)
    second = await story.executor.execute(action, ctx)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert "already cancelled" in second.message
    assert [c.operation for c in recorder.calls].count("cancelOrder") == 1
