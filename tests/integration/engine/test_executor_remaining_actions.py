"""The executor's remaining actions against the sandboxes over real HTTP: the swap of a custom
line (with the price paid kept to the cent), the refund, the tracking correction, the seller
cancel and the fulfilment-service cancellation request.

Each runs twice (as the engine repeats an action whose outcome was unknown): the second run
must be a SUCCESS without a second remote mutation, and the remote state is read back through
the sandboxes' control API.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from orderbridge.devkit import tracking_number
from orderbridge.domain.actions import (
    CancelOnTikTok,
    CreateShopifyOrder,
    FetchShippingProviders,
    PushTracking,
    RefundShopify,
    RequestFulfillmentServiceCancel,
    SwapCustomLine,
    UpdateTracking,
)
from orderbridge.domain.carriers import Carrier
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import SkuResolution, SkuState
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.outcome import OutcomeStatus

from .conftest import Kit
from .test_executor_vs_sandboxes import UPS_NUMBER, Story, created, held, only, released

CENT = Decimal("0.01")


def d(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


async def shopify_order(kit: Kit, story: Story) -> dict[str, Any]:
    assert story.view is not None
    return await kit.control.shopify_order(story.view.id)


async def add_variant(kit: Kit, sku: str, price: str) -> str:
    shop = kit.info["shopify"]["shops"][0]["domain"]
    made = await kit.control.call(
        "POST", f"/shopify/shops/{shop}/variants",
        {"sku": sku, "title": f"Variant {sku}", "price": price, "available": 10},
    )
    return str(made["variant_id"])


# Oregon has no sales tax: TikTok charges none there.
TAX_FREE = {"name": "Riley Moss", "phone_number": "(+1)5035550123", "address_line1": "1 SW Main St",
            "address_line2": "", "city": "Portland", "county": "Multnomah", "state": "Oregon",
            "state_code": "OR", "postal_code": "97204"}


async def custom_line_order(
    kit: Kit, story: Story, discount: str = "0", address: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """An order created with its one SKU unmapped (a custom line), held; the TikTok SKU id."""
    extra: dict[str, Any] = {"recipient_address": address} if address else {}
    await story.place(items=[{"seller_sku": "MW-SET-NAT", "units": 2, "seller_discount": discount}], **extra)
    assert story.order is not None
    sku_id = story.order.line_items[0].sku_id
    story.skus[sku_id] = SkuResolution(state=SkuState.UNMAPPED)
    create = only(story.decide(), CreateShopifyOrder)
    assert create.lines[0].variant_id is None
    outcome = await story.run(create)
    assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
    await story.refresh()
    await held(story)
    before = await shopify_order(kit, story)
    [line] = before["line_items"]
    assert line["variant_id"] is None
    return sku_id, before


def line_total(line: dict[str, Any]) -> Decimal:
    return d(line["price"]) * line["current_quantity"] - d(line["total_discount"])


def line_tax(line: dict[str, Any]) -> Decimal:
    return sum((d(t["price"]) for t in line["tax_lines"]), Decimal("0"))


async def test_swap_to_a_dearer_variant_keeps_the_price_paid_to_the_cent(kit: Kit) -> None:
    story = Story(kit)
    sku_id, before = await custom_line_order(kit, story)
    [custom] = before["line_items"]
    paid = d(custom["price"])
    assert story.order is not None
    assert paid == story.order.line_items[0].original_price
    variant_id = await add_variant(kit, "MW-SET-NAT-V2", "31.49")
    story.skus[sku_id] = SkuResolution(state=SkuState.MAPPED, variant_id=variant_id)

    swap = only(story.decide(), SwapCustomLine)
    assert swap.custom_line_item_id.endswith(f"/{custom['id']}")
    first, second, extra = await story.twice(swap)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["discount_per_unit"] == "6.50"
    assert second.message == "already swapped"
    assert not extra  # no second edit

    after = await shopify_order(kit, story)
    old, new, tax_item = after["line_items"]
    assert old["id"] == custom["id"]
    assert old["current_quantity"] == 0
    assert new["admin_graphql_api_id"] != custom["admin_graphql_api_id"]
    assert f"gid://shopify/ProductVariant/{new['variant_id']}" == variant_id
    assert new["current_quantity"] == 2
    assert d(new["price"]) == Decimal("31.49")
    assert d(new["total_discount"]) == Decimal("13.00")  # 6.50 off each of 2 units
    assert line_total(new) == paid * 2 == line_total(custom)
    assert after["inventory"]["MW-SET-NAT-V2"]["claimed"] == 2  # the variant's stock is claimed
    assert list((await kit.control.inventory(variant_id))["available"].values()) == [8]
    # The custom line's channel-liable tax left with it; it comes back as a non-taxable,
    # non-shipping custom item named for what it is, so the total is unchanged to the cent.
    assert line_tax(custom) > 0
    assert first.ids["channel_tax"] == str(line_tax(custom))
    assert_tax_item(tax_item, line_tax(custom), sku_id)
    assert d(after["current_total_price"]) == d(before["current_total_price"])
    assert story.order is not None
    assert d(after["current_total_price"]) == story.order.payment.total_amount
    assert any("MW-SET-NAT" in n or sku_id in n for n in after["staff_notes"])
    counts = await story.mutations()
    assert counts["orderEditCommit"] == 1
    assert counts["orderEditAddLineItemDiscount"] == 1
    assert counts["orderEditAddCustomItem"] == 1  # the repeat added no second tax item


def assert_tax_item(item: dict[str, Any], tax: Decimal, sku_id: str) -> None:
    assert item["variant_id"] is None
    assert item["current_quantity"] == 1
    assert d(item["price"]) == tax
    assert item["taxable"] is False
    assert item["requires_shipping"] is False
    assert item["tax_lines"] == []
    assert "Sales tax collected and remitted by TikTok Shop" in item["title"]
    assert "channel-liable" in item["title"]
    assert sku_id in item["title"]


async def test_swap_of_a_discounted_line_keeps_what_the_buyer_paid(kit: Kit) -> None:
    story = Story(kit)
    sku_id, before = await custom_line_order(kit, story, discount="2.50")
    [custom] = before["line_items"]
    assert d(custom["total_discount"]) == Decimal("5.00")  # the order's discount code, allocated
    assert story.order is not None
    paid_for_line = d(custom["price"]) * 2 - Decimal("5.00")
    # 24.99 a unit less 2.50 on TikTok: the variant at 24.99 is dearer than the 22.49 paid.
    variant_id = await add_variant(kit, "MW-SET-NAT-V4", "24.99")
    story.skus[sku_id] = SkuResolution(state=SkuState.MAPPED, variant_id=variant_id)
    swap = only(story.decide(), SwapCustomLine)
    outcome = await story.run(swap)
    assert outcome.status is OutcomeStatus.SUCCESS, outcome.message
    assert outcome.ids["discount_per_unit"] == "2.50"
    after = await shopify_order(kit, story)
    _, new, tax_item = after["line_items"]
    assert line_total(new) == paid_for_line == Decimal("44.98")
    # The custom line's share of the discount code left with it, its tax came back as an item.
    assert_tax_item(tax_item, line_tax(custom), sku_id)
    assert d(after["current_total_price"]) == d(before["current_total_price"])
    assert d(after["current_total_price"]) == story.order.payment.total_amount


async def test_swap_of_an_untaxed_line_to_an_equal_variant_adds_nothing(kit: Kit) -> None:
    story = Story(kit)
    sku_id, before = await custom_line_order(kit, story, address=TAX_FREE)
    [custom] = before["line_items"]
    assert line_tax(custom) == 0
    variant_id = await add_variant(kit, "MW-SET-NAT-V5", str(d(custom["price"])))
    story.skus[sku_id] = SkuResolution(state=SkuState.MAPPED, variant_id=variant_id)
    swap = only(story.decide(), SwapCustomLine)
    assert swap.channel_tax == 0
    first, second, extra = await story.twice(swap)
    assert first.message == "swapped", first.message
    assert second.message == "already swapped"
    assert not extra
    after = await shopify_order(kit, story)
    old, new = after["line_items"]  # no tax item
    assert (old["current_quantity"], new["current_quantity"]) == (0, 2)
    assert d(new["total_discount"]) == 0
    assert d(after["current_total_price"]) == d(before["current_total_price"])
    assert story.order is not None
    assert d(after["current_total_price"]) == story.order.payment.total_amount
    counts = await story.mutations()
    assert counts.get("orderEditAddCustomItem", 0) == counts.get("orderEditAddLineItemDiscount", 0) == 0


async def test_swap_to_a_cheaper_variant_keeps_the_custom_line(kit: Kit) -> None:
    story = Story(kit)
    sku_id, before = await custom_line_order(kit, story)
    variant_id = await add_variant(kit, "MW-SET-NAT-V3", "19.99")
    story.skus[sku_id] = SkuResolution(state=SkuState.MAPPED, variant_id=variant_id)

    swap = only(story.decide(), SwapCustomLine)
    first, second, extra = await story.twice(swap)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["kept_custom_line"] == swap.custom_line_item_id
    assert first.ids["variant_unit_price"] == "19.99"
    assert "cannot raise" in first.message
    assert not extra
    assert story.memory.custom_lines_kept == (swap.custom_line_item_id,)
    after = await shopify_order(kit, story)
    assert after["line_items"] == before["line_items"]  # nothing committed
    assert after["current_total_price"] == before["current_total_price"]
    assert (await story.mutations())["orderEditCommit"] == 0
    actions = story.decide()
    assert not any(isinstance(a, SwapCustomLine) for a in actions)
    assert "CUSTOM_LINE_KEPT" in {i.code for i in story.last_issues}


async def test_refund_mirrors_the_lines_and_restocks_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 2}])
    await released(story)
    assert story.view is not None
    before = await shopify_order(kit, story)
    # Writing the address at release made Shopify recalculate the tax away (the sandbox store
    # collects none): TikTok's tax came back as a non-taxable item beside the line.
    [line] = [li for li in before["line_items"] if li["variant_id"]]
    [restored] = [li for li in before["line_items"] if not li["variant_id"]]
    assert line_tax(line) == 0
    available = before["inventory"]["MW-SET-NAT"]["available"]
    [sale] = before["transactions"]
    assert sale["kind"] == "SALE"
    # TikTok gave back one unit with its tax.
    paid_back = d(line["price"]) + d(restored["price"]) / line["quantity"]
    refund = RefundShopify(
        shopify_order_id=story.view.id,
        return_id="4035000000000001",
        line_items=((line["admin_graphql_api_id"], 1),),
        shipping=Decimal("0"),
        restock=True,
        idempotency_key="tiktok-refund-4035000000000001",
        amount=paid_back,
    )
    first, second, extra = await story.twice(refund)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["refund_id"].startswith("gid://shopify/Refund/")
    assert not extra
    assert "4035000000000001" in story.memory.refunds_done

    after = await shopify_order(kit, story)
    [made] = after["refunds"]
    [rline] = made["refund_line_items"]
    assert (rline["line_item_id"], rline["quantity"], rline["restock_type"]) == (line["id"], 1, "return")
    unit = d(line["price"]) - d(line["total_discount"]) / line["quantity"]
    assert d(rline["subtotal"]) == unit
    assert made["note"] == "TikTok refund 4035000000000001"
    assert [li["current_quantity"] for li in after["line_items"] if li["variant_id"]] == [1]
    assert after["inventory"]["MW-SET-NAT"]["available"] == available + 1  # restocked once
    [money_back] = made["transactions"]
    assert (money_back["kind"], money_back["status"]) == ("refund", "success")
    assert money_back["gateway"] == sale["gateway"]  # refunds the recorded "TikTok Shop" payment
    assert d(money_back["amount"]) == paid_back
    # Shopify's own split of the unit: the line, and no tax (TikTok's sits on the item).
    assert first.message.startswith(f"refunded {paid_back}; Shopify's split: lines {unit:.2f}, tax 0.00")
    assert d(first.ids["shopify_lines"]) == unit
    assert first.ids["shopify_shipping"] == "0.00"
    assert after["financial_status"] == "partially_refunded"

    # Memory lost (an unknown outcome records nothing): the refund is found by its note in
    # Shopify, never created (and restocked) twice.
    before_counts = await story.mutations()
    again = await story.executor.execute(refund, replace(story.ctx(), memory=LinkMemory()))
    assert again.status is OutcomeStatus.SUCCESS, again.message
    assert again.message == "already refunded in Shopify"
    assert again.ids["refund_id"] == first.ids["refund_id"]
    assert await story.mutations() == before_counts
    final = await shopify_order(kit, story)
    assert len(final["refunds"]) == 1
    assert final["inventory"]["MW-SET-NAT"]["available"] == available + 1


async def shipped(kit: Kit, story: Story) -> PushTracking:
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await released(story)
    assert story.view is not None
    await kit.control.fulfil(story.view.id, "UPS", UPS_NUMBER)
    await story.refresh()
    await story.run(only(story.decide(), FetchShippingProviders))
    push = only(story.decide(), PushTracking)
    pushed = await story.run(push)
    assert pushed.status is OutcomeStatus.SUCCESS, pushed.message
    await story.refresh()
    return push


async def test_tracking_corrected_once_on_the_package(kit: Kit) -> None:
    story = Story(kit)
    push = await shipped(kit, story)
    assert story.order is not None
    package = story.memory.package_of(push.source_fulfillment_id)
    assert package is not None
    assert package.package_id
    corrected = tracking_number(Carrier.UPS, 4242)
    update = UpdateTracking(
        tiktok_order_id=story.order.id,
        package_id=package.package_id,
        tracking_number=corrected,
        provider_id=push.provider_id,
        source_fulfillment_id=push.source_fulfillment_id,
    )
    first, second, extra = await story.twice(update)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert second.message == "TikTok already has this tracking"
    assert not extra
    [remote] = await kit.control.tiktok_packages(story.order.id)
    assert remote["tracking_number"] == corrected
    assert story.order.line_items[0].tracking_number == corrected
    calls = [c.operation for c in kit.recorder.calls if "update" in c.operation]
    assert calls == ["fulfillment.update_package_shipping_info"]

    # The answer lost and memory not updated: TikTok's "already updated" is read back as done.
    stale = replace(story.ctx(), order=replace(story.order, line_items=tuple(
        replace(li, tracking_number=UPS_NUMBER) for li in story.order.line_items)))
    again = await story.executor.execute(update, stale)
    assert again.status is OutcomeStatus.SUCCESS, again.message
    assert again.message == "TikTok already has this tracking"


async def test_a_lost_push_answer_is_read_back_from_every_already_shipped_code(kit: Kit) -> None:
    """The push went through but its answer was lost: this decision still sees the units
    unshipped. TikTok refuses the repeat with 21011006 ("These orders are already shipped",
    one of the four already-shipped codes Mark Package As Shipped documents); a fresh read
    shows our number on those units: a success, and no second package."""
    story = Story(kit)
    push = await shipped(kit, story)
    assert story.order is not None
    stale = replace(story.ctx(), order=replace(story.order, line_items=tuple(
        replace(li, tracking_number="", package_id="") for li in story.order.line_items)))
    again = await story.executor.execute(push, stale)
    assert again.status is OutcomeStatus.SUCCESS, again.message
    assert again.message == "already on TikTok"
    refused = [c for c in kit.recorder.calls if c.operation == "fulfillment.mark_shipped" and not c.ok]
    assert refused[-1].code == "21011006"
    assert len(await kit.control.tiktok_packages(story.order.id)) == 1


async def test_seller_cancel_on_tiktok_once_with_the_reason(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await held(story)
    await kit.control.advance(3600 + 5)
    await story.refresh()
    assert story.order is not None
    assert story.order.status is TikTokStatus.AWAITING_SHIPMENT
    before_order = story.order
    cancel = CancelOnTikTok(
        tiktok_order_id=story.order.id, reason="seller_cancel_reason_out_of_stock"
    )
    first, second, extra = await story.twice(cancel)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["cancel_id"]
    assert second.message == "already cancelled on TikTok"
    assert not extra
    assert story.memory.tiktok_cancel_done
    remote = await kit.control.tiktok_order(story.order.id)
    assert remote["status"] == "CANCELLED"
    assert remote["cancel_reason"] == "seller_cancel_reason_out_of_stock"
    assert story.order.status is TikTokStatus.CANCELLED
    [record] = await kit.control.tiktok_cancellations(story.order.id)
    assert record["role"] == "SELLER"

    # Answer lost: this decision still sees the order open; TikTok's refusal is checked
    # against a fresh read and is a success, not a second cancellation.
    again = await story.executor.execute(cancel, replace(story.ctx(), order=before_order))
    assert again.status is OutcomeStatus.SUCCESS, again.message
    assert again.message == "already cancelled on TikTok"
    assert len(await kit.control.tiktok_cancellations(story.order.id)) == 1


async def test_fulfilment_service_cancellation_requested_once(kit: Kit) -> None:
    story = Story(kit)
    await created(story, items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
    await released(story)
    assert story.view is not None
    await kit.control.call("POST", f"/shopify/orders/{story.view.id}/assign-service", {"handle": "acme-3pl"})
    await story.refresh()
    assert story.view is not None
    [fo] = story.view.fulfillment_orders
    assert fo.fulfillment_service
    request = RequestFulfillmentServiceCancel(
        fulfillment_order_id=fo.id, message="TikTok order cancelled by the buyer"
    )
    first, second, extra = await story.twice(request)
    assert first.status is second.status is OutcomeStatus.SUCCESS, first.message
    assert first.ids["request_status"] == "CANCELLATION_REQUESTED"
    assert not extra
    remote = await shopify_order(kit, story)
    assert remote["fulfillment_orders"][0]["request_status"] == "CANCELLATION_REQUESTED"

    # Memory lost (unknown outcome): Shopify's fulfilment order shows the request: no resend.
    before = await story.mutations()
    again = await story.executor.execute(request, replace(story.ctx(), memory=replace(
        story.memory, fs_cancel_requested_at=None)))
    assert again.status is OutcomeStatus.SUCCESS, again.message
    assert "already has it" in again.message
    assert await story.mutations() == before
    assert before["fulfillmentOrderSubmitCancellationRequest"] == 1
