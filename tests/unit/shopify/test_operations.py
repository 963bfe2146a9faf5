"""Each client method: the variables it sends and the typed result it returns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from orderbridge.adapters.shopify import (
    AddressSpec,
    CustomerSpec,
    DiscountSpec,
    FulfillmentLinesSpec,
    LineItemSpec,
    MetafieldSpec,
    OrderSpec,
    RefundLineSpec,
    RestockType,
    ShippingLineSpec,
    TaxLineSpec,
    TrackingSpec,
)
from orderbridge.adapters.shopify.api_edits import SwapKept
from orderbridge.adapters.shopify.api_orders import search_term
from orderbridge.adapters.shopify.models import FulfillmentHoldReason, OrderCancelReason
from orderbridge.errors import Rejected

from .conftest import Harness, gql

ORDER_ID = "gid://shopify/Order/5001"


def sent(harness: Harness, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = harness.server.bodies()[index]
    return body


def full_spec() -> OrderSpec:
    tax = TaxLineSpec(title="TikTok sales tax", rate=Decimal("0.0825"), amount=Decimal("1.649"))
    return OrderSpec(
        currency="USD",
        line_items=[
            LineItemSpec(quantity=2, unit_price=Decimal("19.99"), variant_id="gid://shopify/ProductVariant/7",
                         tax_lines=[tax]),
            LineItemSpec(quantity=1, unit_price=Decimal("5"), title="Mystery sticker", sku="TT-STICKER"),
        ],
        processed_at=datetime(2026, 1, 5, 17, 0, tzinfo=UTC),
        source_identifier="576461413038789123",
        email="abc@chat-seller-us.tiktok.com",
        customer=CustomerSpec(email="abc@chat-seller-us.tiktok.com", first_name="TikTok", last_name="Order"),
        shipping_lines=[ShippingLineSpec(title="Standard", price=Decimal("3.50"), tax_lines=[tax])],
        discount=DiscountSpec(code="TIKTOK", amount=Decimal("4.00")),
        source_name="tiktok",
        source_url="https://seller-us.tiktok.com/order/detail?order_no=576461413038789123",
        tags=["TikTok", "tiktok-shop", "tiktok-576461413038789123", "TikTok"],
        custom_attributes=[("tiktok_order_id", "576461413038789123")],
        metafields=[MetafieldSpec(namespace="tiktok", key="order_id", value="576461413038789123")],
        note="Please gift wrap",
        shipping_address=AddressSpec(first_name="A", last_name="B", address1="1 Main St", city="Austin",
                                     province_code="TX", country_code="US", zip="78701"),
        phone="+15125550100",
    )


async def test_create_order_sends_the_lifecycle_policy(harness: Harness) -> None:
    client = harness.client()
    order = {
        "id": ORDER_ID, "name": "#1001", "sourceIdentifier": "576461413038789123",
        "displayFinancialStatus": "PENDING", "displayFulfillmentStatus": "UNFULFILLED",
        "totalPriceSet": {"shopMoney": {"amount": "48.13", "currencyCode": "USD"}},
        "lineItems": {"nodes": [
            {"id": "gid://shopify/LineItem/1", "sku": "A", "quantity": 2, "variant": {"id": "gid://shopify/ProductVariant/7"},
             "customAttributes": []},
            {"id": "gid://shopify/LineItem/2", "sku": "TT-STICKER", "quantity": 1, "variant": None,
             "customAttributes": []},
        ]},
        "somethingNew": 1,
    }
    harness.server.reply(gql({"orderCreate": {"order": order, "userErrors": []}}))
    created = await harness.time.run(client.create_order(full_spec()))

    assert created.id == ORDER_ID
    assert created.name == "#1001"
    assert created.total_price_set is not None
    assert created.total_price_set.shop_money.amount == Decimal("48.13")
    assert [li.variant_id for li in created.line_items] == ["gid://shopify/ProductVariant/7", None]
    assert created.raw == order
    assert created.model_extra == {"somethingNew": 1}

    variables = sent(harness)["variables"]
    assert variables["options"] == {
        "inventoryBehaviour": "DECREMENT_IGNORING_POLICY", "sendReceipt": False, "sendFulfillmentReceipt": False,
    }
    assert variables["lineItemsFirst"] == 2
    o = variables["order"]
    assert o["financialStatus"] == "PENDING"
    assert "transactions" not in o
    assert o["buyerAcceptsMarketing"] is False
    assert o["processedAt"] == "2026-01-05T17:00:00Z"
    assert (o["sourceIdentifier"], o["sourceName"]) == ("576461413038789123", "tiktok")
    assert o["sourceUrl"].startswith("https://seller-us.tiktok.com/")
    assert o["lineItems"][0] == {
        "quantity": 2,
        "priceSet": {"shopMoney": {"amount": "19.99", "currencyCode": "USD"}},
        "variantId": "gid://shopify/ProductVariant/7",
        "taxLines": [{"title": "TikTok sales tax", "rate": "0.0825", "channelLiable": True,
                      "priceSet": {"shopMoney": {"amount": "1.65", "currencyCode": "USD"}}}],
    }
    assert o["lineItems"][1] == {
        "quantity": 1, "title": "Mystery sticker", "sku": "TT-STICKER",
        "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}},
    }
    assert o["shippingLines"][0]["title"] == "Standard"
    assert o["shippingLines"][0]["taxLines"][0]["channelLiable"] is True
    assert o["discountCode"] == {"itemFixedDiscountCode": {
        "code": "TIKTOK", "amountSet": {"shopMoney": {"amount": "4.00", "currencyCode": "USD"}}}}
    assert o["customer"] == {"toUpsert": {"email": "abc@chat-seller-us.tiktok.com", "firstName": "TikTok",
                                          "lastName": "Order"}}
    assert o["tags"] == ["TikTok", "tiktok-shop", "tiktok-576461413038789123"]
    assert o["customAttributes"] == [{"key": "tiktok_order_id", "value": "576461413038789123"}]
    assert o["metafields"] == [{"namespace": "tiktok", "key": "order_id", "type": "single_line_text_field",
                                "value": "576461413038789123"}]
    assert o["shippingAddress"]["provinceCode"] == "TX"
    assert "phone" not in o["shippingAddress"]
    assert o["phone"] == "+15125550100"
    assert o["note"] == "Please gift wrap"
    assert "billingAddress" not in o
    assert "taxesIncluded" not in o


def test_order_spec_validation() -> None:
    with pytest.raises(ValueError, match="title"):
        LineItemSpec(quantity=1, unit_price=Decimal(1))
    with pytest.raises(ValueError, match="quantity"):
        LineItemSpec(quantity=0, unit_price=Decimal(1), variant_id="v")


async def test_update_order_sends_only_given_fields(harness: Harness) -> None:
    client = harness.client(api_version="2025-10")
    harness.server.reply(gql({"orderUpdate": {"order": {"id": ORDER_ID, "tags": ["a"]}, "userErrors": []}}))
    updated = await harness.time.run(client.update_order(
        ORDER_ID, shipping_address=AddressSpec(first_name="Ann", last_name="Lee", address1="2 Oak", city="Reno",
                                               province_code="NV", country_code="US", zip="89501"),
        phone="+17755550100", tags=["a", "a"], note="n", custom_attributes=[("k", "v")], email="e@x.com"))
    assert updated.tags == ["a"]
    order = sent(harness)["variables"]["input"]
    assert order["id"] == ORDER_ID
    assert order["tags"] == ["a"]
    assert order["note"] == "n"
    assert order["customAttributes"] == [{"key": "k", "value": "v"}]
    assert order["email"] == "e@x.com"
    # 2025-10 has no OrderInput.phone: the phone goes on the shipping address.
    assert "phone" not in order
    assert order["shippingAddress"]["phone"] == "+17755550100"

    with pytest.raises(ValueError, match=r"OrderInput\.phone"):
        await harness.time.run(client.update_order(ORDER_ID, phone="+17755550100"))

    for newer in (harness.client(api_version="2026-01"), harness.client()):  # the pin (2026-10) too
        harness.server.reply(gql({"orderUpdate": {"order": {"id": ORDER_ID}, "userErrors": []}}))
        await harness.time.run(newer.update_order(ORDER_ID, phone="+17755550100"))
        assert sent(harness)["variables"]["input"] == {"id": ORDER_ID, "phone": "+17755550100"}


async def test_payments(harness: Harness) -> None:
    client = harness.client()
    paid = {"id": ORDER_ID, "displayFinancialStatus": "PAID",
            "totalOutstandingSet": {"shopMoney": {"amount": "0.00", "currencyCode": "USD"}}}
    harness.server.reply(
        gql({"orderMarkAsPaid": {"order": paid, "userErrors": []}}),
        gql({"orderCreateManualPayment": {"order": paid, "userErrors": []}}),
    )
    result = await harness.time.run(client.mark_as_paid(ORDER_ID))
    assert result.display_financial_status == "PAID"
    assert sent(harness)["variables"] == {"input": {"id": ORDER_ID}}

    result = await harness.time.run(client.create_manual_payment(
        ORDER_ID, amount=Decimal("48.125"), currency="USD", processed_at=datetime(2026, 1, 5, 18, tzinfo=UTC)))
    assert sent(harness)["variables"] == {
        "id": ORDER_ID, "paymentMethodName": "TikTok Shop",
        "amount": {"amount": "48.13", "currencyCode": "USD"}, "processedAt": "2026-01-05T18:00:00Z",
    }


async def test_cancel_and_job(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(
        gql({"orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}}),
        gql({"job": {"id": "gid://shopify/Job/1", "done": True}}),
    )
    result = await harness.time.run(client.cancel_order(ORDER_ID, reason=OrderCancelReason.DECLINED,
                                                        staff_note="x" * 300))
    assert result.job is not None
    assert result.job.done is False
    assert sent(harness)["variables"] == {
        "orderId": ORDER_ID, "reason": "DECLINED", "restock": True,
        "refundMethod": {"originalPaymentMethodsRefund": False}, "notifyCustomer": False, "staffNote": "x" * 255,
    }
    job = await harness.time.run(client.get_job("gid://shopify/Job/1"))
    assert job.done


async def test_holds_and_release(harness: Harness) -> None:
    client = harness.client()
    fo = "gid://shopify/FulfillmentOrder/77"
    harness.server.reply(
        gql({"fulfillmentOrderHold": {"fulfillmentHold": {"id": "gid://shopify/FulfillmentHold/1",
                                                          "handle": "orderbridge"},
                                      "fulfillmentOrder": {"id": fo}, "userErrors": []}}),
        gql({"fulfillmentOrderReleaseHold": {"fulfillmentOrder": {"id": fo, "status": "OPEN",
                                                                  "fulfillmentHolds": []}, "userErrors": []}}),
    )
    hold = await harness.time.run(client.hold_fulfillment_order(
        fo, handle="orderbridge", reason=FulfillmentHoldReason.AWAITING_PAYMENT,
        reason_notes="awaiting TikTok payment and cancellation window"))
    assert hold.fulfillment_hold is not None
    assert hold.fulfillment_hold.id == "gid://shopify/FulfillmentHold/1"
    assert sent(harness)["variables"] == {"id": fo, "fulfillmentHold": {
        "reason": "AWAITING_PAYMENT", "handle": "orderbridge", "notifyMerchant": False,
        "reasonNotes": "awaiting TikTok payment and cancellation window"}}

    released = await harness.time.run(client.release_fulfillment_holds(fo, ["gid://shopify/FulfillmentHold/1"]))
    assert released.status == "OPEN"
    assert sent(harness)["variables"] == {"id": fo, "holdIds": ["gid://shopify/FulfillmentHold/1"]}

    with pytest.raises(ValueError, match="release all"):
        await harness.time.run(client.release_fulfillment_holds(fo, []))
    with pytest.raises(ValueError, match="handle"):
        await harness.time.run(client.hold_fulfillment_order(fo, handle="h" * 65, reason="OTHER"))


async def test_cancellation_request(harness: Harness) -> None:
    client = harness.client()
    fo = "gid://shopify/FulfillmentOrder/77"
    harness.server.reply(gql({"fulfillmentOrderSubmitCancellationRequest": {
        "fulfillmentOrder": {"id": fo, "status": "IN_PROGRESS", "requestStatus": "CANCELLATION_REQUESTED"},
        "userErrors": []}}))
    result = await harness.time.run(client.submit_cancellation_request(fo, message="TikTok buyer cancelled"))
    assert result.request_status == "CANCELLATION_REQUESTED"
    assert sent(harness)["variables"] == {"id": fo, "message": "TikTok buyer cancelled"}


@pytest.mark.parametrize(
    ("tracking", "expected"),
    [
        (TrackingSpec(company="USPS", numbers=["9400100000000000000000"]),
         {"company": "USPS", "number": "9400100000000000000000"}),
        (TrackingSpec(company="UPS", numbers=["1Z1", "1Z2"], urls=["u1", "u2"]),
         {"company": "UPS", "numbers": ["1Z1", "1Z2"], "urls": ["u1", "u2"]}),
        (TrackingSpec(company="Other", numbers=["X1"], urls=["https://t/X1"]),
         {"company": "Other", "number": "X1", "url": "https://t/X1"}),
    ],
)
async def test_fulfillment_create(harness: Harness, tracking: TrackingSpec, expected: dict[str, Any]) -> None:
    client = harness.client()
    harness.server.reply(gql({"fulfillmentCreate": {"fulfillment": {
        "id": "gid://shopify/Fulfillment/3", "status": "SUCCESS",
        "trackingInfo": [{"company": "USPS", "number": "9400", "url": None}]}, "userErrors": []}}))
    result = await harness.time.run(client.create_fulfillment(
        [FulfillmentLinesSpec("gid://shopify/FulfillmentOrder/77", [("gid://shopify/FulfillmentOrderLineItem/1", 2)]),
         FulfillmentLinesSpec("gid://shopify/FulfillmentOrder/78")],
        tracking=tracking))
    assert result.tracking_info[0].company == "USPS"
    fulfillment = sent(harness)["variables"]["fulfillment"]
    assert fulfillment["lineItemsByFulfillmentOrder"] == [
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/77",
         "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 2}]},
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/78"},
    ]
    assert fulfillment["notifyCustomer"] is False
    assert fulfillment["trackingInfo"] == expected


async def test_refund(harness: Harness) -> None:
    client = harness.client(api_version="2026-04")
    harness.server.reply(gql({"refundCreate": {"refund": {"id": "gid://shopify/Refund/1",
                                                          "totalRefundedSet": {"shopMoney": {"amount": "10.00",
                                                                                             "currencyCode": "USD"}}},
                                               "order": {"id": ORDER_ID}, "userErrors": []}}))
    refund = await harness.time.run(client.create_refund(
        ORDER_ID, idempotency_key="tt-return-42",
        lines=[RefundLineSpec("gid://shopify/LineItem/1", 1, RestockType.RETURN, "gid://shopify/Location/1")],
        shipping_amount=Decimal("3.5"), note="TikTok return 42"))
    assert refund.total_refunded_set is not None
    assert refund.total_refunded_set.shop_money.amount == Decimal(10)
    body = sent(harness)
    assert '@idempotent(key: "tt-return-42")' in body["query"]
    assert body["variables"]["input"] == {
        "orderId": ORDER_ID, "notify": False, "note": "TikTok return 42", "shipping": {"amount": "3.50"},
        "refundLineItems": [{"lineItemId": "gid://shopify/LineItem/1", "quantity": 1, "restockType": "RETURN",
                             "locationId": "gid://shopify/Location/1"}],
    }


def _order_payload() -> dict[str, Any]:
    return {
        "id": ORDER_ID, "name": "#1001", "sourceIdentifier": "576461413038789123", "tags": ["tiktok-576"],
        "cancelledAt": None, "cancelReason": None, "closed": False, "displayFinancialStatus": "PENDING",
        "displayFulfillmentStatus": "ON_HOLD",
        "totalPriceSet": {"shopMoney": {"amount": "48.13", "currencyCode": "USD"}},
        "totalOutstandingSet": {"shopMoney": {"amount": "48.13", "currencyCode": "USD"}},
        "currentTotalPriceSet": {"shopMoney": {"amount": "48.13", "currencyCode": "USD"}},
        "customAttributes": [{"key": "tiktok_order_id", "value": "576"}], "note": None,
        "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/1", "sku": "A", "quantity": 2, "currentQuantity": 2,
                                 "variant": {"id": "gid://shopify/ProductVariant/7"}, "customAttributes": []}],
                      "pageInfo": {"hasNextPage": False}},
        "fulfillmentOrders": {"nodes": [{
            "id": "gid://shopify/FulfillmentOrder/77", "status": "ON_HOLD", "requestStatus": "UNSUBMITTED",
            "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
            "fulfillmentHolds": [{"id": "gid://shopify/FulfillmentHold/1", "handle": "orderbridge",
                                  "reason": "AWAITING_PAYMENT", "heldByRequestingApp": True}],
            "lineItems": {"nodes": [{"id": "gid://shopify/FulfillmentOrderLineItem/1", "remainingQuantity": 2,
                                     "totalQuantity": 2, "lineItem": {"id": "gid://shopify/LineItem/1"}}],
                          "pageInfo": {"hasNextPage": False}}}],
            "pageInfo": {"hasNextPage": False}},
        "fulfillments": [{"id": "gid://shopify/Fulfillment/3", "status": "SUCCESS",
                          "createdAt": "2026-01-06T10:00:00Z", "updatedAt": "2026-01-06T10:00:00Z",
                          "trackingInfo": [{"company": "USPS", "number": "9400", "url": None}],
                          "fulfillmentLineItems": {"nodes": [{"lineItem": {"id": "gid://shopify/LineItem/1"},
                                                              "quantity": 1}], "pageInfo": {"hasNextPage": False}}}],
    }


async def test_get_order_snapshot(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(gql({"order": _order_payload()}))
    order = await harness.time.run(client.get_order(ORDER_ID))
    assert sent(harness)["variables"] == {
        "id": ORDER_ID, "lineItemsFirst": 50, "fulfillmentOrdersFirst": 5, "fulfillmentOrderLineItemsFirst": 20,
        "fulfillmentsFirst": 5, "fulfillmentLineItemsFirst": 20,
    }
    [fo] = order.fulfillment_orders
    assert fo.location_id == "gid://shopify/Location/1"
    assert [h.id for h in fo.holds_with_handle("orderbridge")] == ["gid://shopify/FulfillmentHold/1"]
    assert fo.line_items[0].line_item.id == "gid://shopify/LineItem/1"
    [ful] = order.fulfillments
    assert ful.tracking_info[0].number == "9400"
    assert ful.fulfillment_line_items[0].quantity == 1
    assert ful.created_at == datetime(2026, 1, 6, 10, tzinfo=UTC)
    assert order.line_items[0].current_quantity == 2
    assert order.closed is False
    assert order.truncated is False
    assert order.raw["name"] == "#1001"


async def test_get_order_flags_truncated_lists(harness: Harness) -> None:
    client = harness.client()
    payload = _order_payload()
    payload["lineItems"]["pageInfo"]["hasNextPage"] = True
    harness.server.reply(gql({"order": payload}))
    assert (await harness.time.run(client.get_order(ORDER_ID))).truncated


async def test_order_searches(harness: Harness) -> None:
    client = harness.client()
    nodes = [{"id": ORDER_ID, "name": "#1001", "tags": ["TikTok-576"], "sourceIdentifier": "576",
              "createdAt": "2026-01-05T17:00:00Z"},
             {"id": "gid://shopify/Order/2", "name": "#1002", "tags": ["tiktok-5767"], "sourceIdentifier": "5767"}]
    harness.server.reply(gql({"orders": {"nodes": nodes}}), gql({"orders": {"nodes": nodes}}))
    by_source = await harness.time.run(client.find_orders_by_source_identifier("576"))
    assert [o.id for o in by_source] == [ORDER_ID]
    assert sent(harness)["variables"] == {"first": 10, "query": "source_identifier:576"}
    by_tag = await harness.time.run(client.find_orders_by_tag("tiktok-576"))
    assert [o.id for o in by_tag] == [ORDER_ID]
    assert sent(harness)["variables"]["query"] == "tag:tiktok-576"


def test_search_term_quotes_when_needed() -> None:
    assert search_term("sku", "ABC-12.3") == "sku:ABC-12.3"
    assert search_term("sku", 'A B"C') == 'sku:"A B\\"C"'


async def test_remove_units_edits_the_order(harness: Harness) -> None:
    client = harness.client()
    calc = "gid://shopify/CalculatedOrder/9"
    harness.server.reply(
        gql({"orderEditBegin": {"calculatedOrder": {"id": calc, "lineItems": {"nodes": [
            {"id": "gid://shopify/CalculatedLineItem/1", "quantity": 3, "editableQuantity": 3, "sku": "A"},
            {"id": "gid://shopify/CalculatedLineItem/2", "quantity": 1, "editableQuantity": 1, "sku": "B"}]}},
            "userErrors": []}}),
        gql({"orderEditSetQuantity": {"calculatedLineItem": {"id": "gid://shopify/CalculatedLineItem/1",
                                                             "quantity": 1}, "calculatedOrder": {"id": calc},
                                      "userErrors": []}}),
        gql({"orderEditCommit": {"order": {"id": ORDER_ID}, "userErrors": []}}),
    )
    result = await harness.time.run(client.remove_units(ORDER_ID, "gid://shopify/LineItem/1", 2,
                                                        staff_note="TikTok out-of-stock cancel"))
    assert result.order is not None
    assert result.order.id == ORDER_ID
    begin, set_quantity, commit = harness.server.bodies()
    assert begin["operationName"] == "OrderEditBegin"
    assert begin["variables"]["id"] == ORDER_ID
    assert set_quantity["variables"] == {"id": calc, "lineItemId": "gid://shopify/CalculatedLineItem/1",
                                         "quantity": 1, "restock": True}
    assert commit["variables"] == {"id": calc, "notifyCustomer": False, "staffNote": "TikTok out-of-stock cancel"}


def _price(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _swap_replies(calc: str, custom: str, variant: str) -> list[httpx.Response]:
    return [
        gql({"orderEditBegin": {"calculatedOrder": {"id": calc, "lineItems": {"nodes": [
            {"id": "gid://shopify/CalculatedLineItem/2", "quantity": 2, "editableQuantity": 2, "variant": None,
             "originalUnitPriceSet": _price(custom)}]}}, "userErrors": []}}),
        gql({"orderEditAddVariant": {"calculatedLineItem": {"id": "gid://shopify/CalculatedLineItem/X",
                                                            "quantity": 2, "originalUnitPriceSet": _price(variant)},
                                     "userErrors": []}}),
        gql({"orderEditSetQuantity": {"calculatedLineItem": {"id": "gid://shopify/CalculatedLineItem/2",
                                                             "quantity": 0}, "userErrors": []}}),
    ]


async def test_swap_custom_line_for_a_dearer_variant_keeps_the_price_paid(harness: Harness) -> None:
    client = harness.client()
    calc = "gid://shopify/CalculatedOrder/9"
    harness.server.reply(
        *_swap_replies(calc, "19.99", "24.50"),
        gql({"orderEditAddLineItemDiscount": {"calculatedLineItem": {
            "id": "gid://shopify/CalculatedLineItem/X", "quantity": 2, "discountedUnitPriceSet": _price("19.99")},
            "userErrors": []}}),
        gql({"orderEditCommit": {"order": {"id": ORDER_ID}, "userErrors": []}}),
    )
    result = await harness.time.run(client.swap_custom_line_for_variant(
        ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7"))
    assert result.committed
    assert result.discount_per_unit == Decimal("4.51")
    bodies = harness.server.bodies()
    names = [b["operationName"] for b in bodies]
    assert names == ["OrderEditBegin", "OrderEditAddVariant", "OrderEditSetQuantity",
                     "OrderEditAddLineItemDiscount", "OrderEditCommit"]
    assert bodies[1]["variables"] == {"id": calc, "variantId": "gid://shopify/ProductVariant/7",
                                      "quantity": 2, "allowDuplicates": False}
    assert bodies[2]["variables"]["quantity"] == 0
    assert bodies[2]["variables"]["restock"] is False
    discount = bodies[3]["variables"]
    assert discount["lineItemId"] == "gid://shopify/CalculatedLineItem/X"
    assert discount["discount"]["fixedValue"] == {"amount": "4.51", "currencyCode": "USD"}
    assert "19.99" in discount["discount"]["description"]


async def test_swap_is_not_committed_when_the_staged_discount_is_not_per_unit(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(
        *_swap_replies("gid://shopify/CalculatedOrder/9", "19.99", "24.50"),
        gql({"orderEditAddLineItemDiscount": {"calculatedLineItem": {
            "id": "gid://shopify/CalculatedLineItem/X", "quantity": 2, "discountedUnitPriceSet": _price("22.25")},
            "userErrors": []}}),
    )
    with pytest.raises(Rejected, match="not committed"):
        await harness.time.run(client.swap_custom_line_for_variant(
            ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7"))
    assert "OrderEditCommit" not in [b["operationName"] for b in harness.server.bodies()]


async def test_swap_custom_line_for_a_cheaper_variant_is_not_committed(harness: Harness) -> None:
    client = harness.client()
    calc = "gid://shopify/CalculatedOrder/9"
    harness.server.reply(*_swap_replies(calc, "19.99", "15.00")[:2])
    result = await harness.time.run(client.swap_custom_line_for_variant(
        ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7"))
    assert not result.committed
    assert (result.custom_unit_price, result.variant_unit_price) == (Decimal("19.99"), Decimal("15.00"))
    assert [b["operationName"] for b in harness.server.bodies()] == ["OrderEditBegin", "OrderEditAddVariant"]


async def test_swap_custom_line_for_an_equal_variant_has_no_discount(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(*_swap_replies("gid://shopify/CalculatedOrder/9", "19.99", "19.99"),
                         gql({"orderEditCommit": {"order": {"id": ORDER_ID}, "userErrors": []}}))
    result = await harness.time.run(client.swap_custom_line_for_variant(
        ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7"))
    assert result.committed
    assert result.discount_per_unit == 0
    assert "OrderEditAddLineItemDiscount" not in [b["operationName"] for b in harness.server.bodies()]


async def test_variants_by_sku_and_paging(harness: Harness) -> None:
    client = harness.client()
    v = {"id": "gid://shopify/ProductVariant/7", "sku": "TT-1", "title": "Red",
         "product": {"id": "gid://shopify/Product/1", "title": "Shirt"}, "inventoryItem": {"id": "gid://shopify/InventoryItem/5"}}
    near = {**v, "id": "gid://shopify/ProductVariant/8", "sku": "tt-1"}
    harness.server.reply(
        gql({"productVariants": {"nodes": [v, near], "pageInfo": {"hasNextPage": False, "endCursor": None}}}),
        gql({"productVariants": {"nodes": [v], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}}),
        gql({"productVariants": {"nodes": [near], "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}}),
    )
    [found] = await harness.time.run(client.find_variants_by_sku(" TT-1 "))
    assert (found.product_title, found.inventory_item_id) == ("Shirt", "gid://shopify/InventoryItem/5")
    assert sent(harness)["variables"] == {"first": 10, "query": "sku:TT-1"}

    async def collect() -> list[str]:
        return [variant.id async for variant in client.iter_variants(page_size=1)]

    assert await harness.time.run(collect()) == ["gid://shopify/ProductVariant/7", "gid://shopify/ProductVariant/8"]
    assert [b["variables"] for b in harness.server.bodies()[1:]] == [{"first": 1}, {"first": 1, "after": "c1"}]


async def test_shop_info_locations_and_webhooks(harness: Harness) -> None:
    client = harness.client()
    harness.server.reply(
        gql({"shop": {"id": "gid://shopify/Shop/1", "name": "Demo", "myshopifyDomain": "example.myshopify.com",
                      "currencyCode": "USD", "ianaTimezone": "America/Chicago"},
             "currentAppInstallation": {"id": "gid://shopify/AppInstallation/1",
                                        "accessScopes": [{"handle": "write_orders"}, {"handle": "read_all_orders"}]}}),
        gql({"locations": {"nodes": [{"id": "gid://shopify/Location/1", "name": "Main", "isActive": True,
                                      "fulfillsOnlineOrders": True}]}}),
        gql({"webhookSubscriptionCreate": {"webhookSubscription": {
            "id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_UPDATED",
            "uri": "https://ob.example.com/webhooks/shopify", "format": "JSON"}, "userErrors": []}}),
        gql({"webhookSubscriptions": {"nodes": [{"id": "gid://shopify/WebhookSubscription/1",
                                                 "topic": "ORDERS_UPDATED", "uri": "https://x", "format": "JSON"}],
                                      "pageInfo": {"hasNextPage": False, "endCursor": None}}}),
    )
    info = await harness.time.run(client.shop_info())
    assert info.access_scopes == ["write_orders", "read_all_orders"]
    assert info.currency_code == "USD"
    [location] = await harness.time.run(client.locations())
    assert location.is_active
    assert sent(harness)["variables"] == {"first": 50}
    sub = await harness.time.run(client.create_webhook_subscription("ORDERS_UPDATED",
                                                                    "https://ob.example.com/webhooks/shopify"))
    assert sub.uri == "https://ob.example.com/webhooks/shopify"
    assert sent(harness)["variables"] == {"topic": "ORDERS_UPDATED", "webhookSubscription": {
        "uri": "https://ob.example.com/webhooks/shopify", "format": "JSON"}}
    subs = await harness.time.run(client.list_webhook_subscriptions())
    assert [s.topic for s in subs] == ["ORDERS_UPDATED"]


def _totalled(reply: httpx.Response, total: str) -> httpx.Response:
    """``reply`` with its calculated order's staged total."""
    body = reply.json()
    [payload] = body["data"].values()
    payload["calculatedOrder"] = {**(payload.get("calculatedOrder") or {"id": "gid://shopify/CalculatedOrder/9"}),
                                  "totalPriceSet": _price(total)}
    return gql(body["data"])


async def test_swap_carries_the_channel_tax_as_a_non_taxable_custom_item(harness: Harness) -> None:
    client = harness.client()
    begin, add, remove = _swap_replies("gid://shopify/CalculatedOrder/9", "19.99", "19.99")
    harness.server.reply(
        _totalled(begin, "42.68"), _totalled(add, "62.67"), _totalled(remove, "40.88"),
        _totalled(gql({"orderEditAddCustomItem": {"calculatedLineItem": {
            "id": "gid://shopify/CalculatedLineItem/T", "quantity": 1, "originalUnitPriceSet": _price("1.80")},
            "userErrors": []}}), "42.68"),
        gql({"orderEditCommit": {"order": {"id": ORDER_ID}, "userErrors": []}}),
    )
    result = await harness.time.run(client.swap_custom_line_for_variant(
        ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7",
        channel_tax=Decimal("1.80"), channel_tax_title="Sales tax TikTok collected"))
    assert result.committed
    assert (result.channel_tax, result.total_before, result.total_staged) == (
        Decimal("1.80"), Decimal("42.68"), Decimal("42.68"))
    bodies = harness.server.bodies()
    assert [b["operationName"] for b in bodies] == [
        "OrderEditBegin", "OrderEditAddVariant", "OrderEditSetQuantity", "OrderEditAddCustomItem", "OrderEditCommit"]
    assert bodies[3]["variables"] == {
        "id": "gid://shopify/CalculatedOrder/9", "title": "Sales tax TikTok collected", "quantity": 1,
        "price": {"amount": "1.80", "currencyCode": "USD"}, "taxable": False, "requiresShipping": False}


async def test_swap_is_not_committed_when_the_staged_total_differs(harness: Harness) -> None:
    # E.g. a store that charges its own tax on the added variant: the total would grow.
    client = harness.client()
    begin, add, remove = _swap_replies("gid://shopify/CalculatedOrder/9", "19.99", "19.99")
    harness.server.reply(
        _totalled(begin, "42.68"), _totalled(add, "62.67"), _totalled(remove, "43.28"),
        _totalled(gql({"orderEditAddCustomItem": {"calculatedLineItem": {
            "id": "gid://shopify/CalculatedLineItem/T", "quantity": 1}, "userErrors": []}}), "45.08"),
    )
    result = await harness.time.run(client.swap_custom_line_for_variant(
        ORDER_ID, "gid://shopify/LineItem/2", "gid://shopify/ProductVariant/7", channel_tax=Decimal("1.80")))
    assert not result.committed
    assert result.kept is SwapKept.TOTAL_CHANGED
    assert (result.total_before, result.total_staged) == (Decimal("42.68"), Decimal("45.08"))
    assert "OrderEditCommit" not in [b["operationName"] for b in harness.server.bodies()]


async def test_custom_item_arguments_are_checked(harness: Harness) -> None:
    client = harness.client()
    with pytest.raises(ValueError, match="negative"):
        await client.order_edit_add_custom_item("c", title="t", unit_price=Decimal("-1"), currency="USD")
    with pytest.raises(ValueError, match="at least 1"):
        await client.order_edit_add_custom_item("c", title="t", unit_price=Decimal("1"), currency="USD", quantity=0)
