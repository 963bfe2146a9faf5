"""TikTok payloads (as the docs show them) -> domain values."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderbridge.adapters.tiktok.after_sale import Cancellation as VendorCancellation
from orderbridge.adapters.tiktok.after_sale import ReturnRequest
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import (
    TranslationError,
    to_domain_cancellation,
    to_domain_order,
    to_domain_return,
)
from orderbridge.domain.address import to_shipping_address
from orderbridge.domain.money import plan_money
from orderbridge.domain.observed import CancellationStatus, CancellationType
from orderbridge.domain.order import OrderKind, TikTokStatus, classify, group_units

# tiktok-shop.md §2, "Example order (Get Order Detail response)", data.orders[0].
DOC_ORDER: dict[str, Any] = {
    "id": "576999123456789012",
    "status": "AWAITING_SHIPMENT",
    "user_id": "7494000011112222333",
    "buyer_email": "v8kQx2@chat.seller.tiktok.com",
    "buyer_message": "Gift - please no invoice in box",
    "seller_note": "",
    "create_time": 1732552200,
    "paid_time": 1732552231,
    "update_time": 1732555832,
    "rts_sla_time": 1732780799,
    "tts_sla_time": 1732867199,
    "shipping_due_time": 1733471999,
    "collection_due_time": 1733558399,
    "delivery_sla_time": 1733299199,
    "delivery_due_time": 1734163199,
    "cancel_order_sla_time": 1733471999,
    "is_on_hold_order": True,
    "is_sample_order": False,
    "is_cod": False,
    "is_buyer_request_cancel": False,
    "is_replacement_order": False,
    "is_exchange_order": False,
    "has_updated_recipient_address": False,
    "order_type": "NORMAL",
    "commerce_platform": "TIKTOK_SHOP",
    "fulfillment_type": "FULFILLMENT_BY_SELLER",
    "shipping_type": "SELLER",
    "delivery_type": "HOME_DELIVERY",
    "delivery_option_id": "7091146663229654785",
    "delivery_option_name": "Standard Shipping",
    "shipping_provider": "",
    "shipping_provider_id": "",
    "tracking_number": "",
    "warehouse_id": "7301234567890123456",
    "payment_method_name": "CCDC",
    "cancel_reason": "",
    "cancellation_initiator": "",
    "packages": [],
    "payment": {
        "currency": "USD",
        "original_total_product_price": "67.98",
        "seller_discount": "5.00",
        "platform_discount": "3.00",
        "sub_total": "59.98",
        "original_shipping_fee": "5.99",
        "shipping_fee_seller_discount": "0",
        "shipping_fee_platform_discount": "2.00",
        "shipping_fee_cofunded_discount": "0",
        "shipping_fee": "3.99",
        "product_tax": "4.35",
        "shipping_fee_tax": "0",
        "tax": "4.35",
        "retail_delivery_fee": "0",
        "item_insurance_fee": "0",
        "item_insurance_tax": "0",
        "total_amount": "68.32",
    },
    "recipient_address": {
        "name": "Jordan Lee",
        "first_name": "Jordan",
        "last_name": "Lee",
        "phone_number": "(+1)4085550142",
        "address_line1": "1199 Coleman Ave",
        "address_line2": "Apt 12",
        "address_line3": "",
        "address_line4": "",
        "address_detail": "Apt 12",
        "postal_code": "95110",
        "region_code": "US",
        "full_address": "1199 Coleman Ave Apt 12, San Jose, CA 95110",
        "district_info": [
            {
                "address_level": "L0",
                "address_level_name": "Country",
                "address_name": "United States",
            },
            {"address_level": "L1", "address_level_name": "State", "address_name": "California"},
            {"address_level": "L2", "address_level_name": "County", "address_name": "Santa Clara"},
            {"address_level": "L3", "address_level_name": "City", "address_name": "San Jose"},
        ],
        "delivery_preferences": {"drop_off_location": "Front Door"},
    },
    "line_items": [
        {
            "id": "577000111122223331",
            "sku_id": "1729400000000000001",
            "product_id": "1729500000000000001",
            "product_name": "Bamboo Matcha Whisk Set",
            "sku_name": "Natural",
            "seller_sku": "MW-SET-NAT",
            "currency": "USD",
            "original_price": "24.99",
            "seller_discount": "2.50",
            "platform_discount": "0",
            "sale_price": "22.49",
            "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": "1.63", "tax_rate": "0.0725"}],
            "display_status": "AWAITING_SHIPMENT",
            "package_status": "TO_FULFILL",
            "package_id": "",
            "tracking_number": "",
            "shipping_provider_id": "",
            "shipping_provider_name": "",
            "is_gift": False,
            "sku_type": "NORMAL",
            "cancel_reason": "",
            "cancel_user": "",
        },
        {
            "id": "577000111122223332",
            "sku_id": "1729400000000000001",
            "product_id": "1729500000000000001",
            "product_name": "Bamboo Matcha Whisk Set",
            "sku_name": "Natural",
            "seller_sku": "MW-SET-NAT",
            "currency": "USD",
            "original_price": "24.99",
            "seller_discount": "2.50",
            "platform_discount": "0",
            "sale_price": "22.49",
            "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": "1.63", "tax_rate": "0.0725"}],
            "display_status": "AWAITING_SHIPMENT",
            "package_status": "TO_FULFILL",
            "package_id": "",
            "tracking_number": "",
            "is_gift": False,
            "sku_type": "NORMAL",
        },
        {
            "id": "577000111122223333",
            "sku_id": "1729400000000000002",
            "product_id": "1729500000000000002",
            "product_name": "Ceramic Matcha Bowl",
            "sku_name": "White",
            "seller_sku": "BOWL-WHT",
            "currency": "USD",
            "original_price": "18.00",
            "seller_discount": "0",
            "platform_discount": "3.00",
            "sale_price": "15.00",
            "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": "1.09", "tax_rate": "0.0725"}],
            "display_status": "AWAITING_SHIPMENT",
            "package_status": "TO_FULFILL",
            "package_id": "",
            "tracking_number": "",
            "is_gift": False,
            "sku_type": "NORMAL",
        },
    ],
}


def order_from(**changes: Any) -> Order:
    data = copy.deepcopy(DOC_ORDER)
    data.update(changes)
    return Order.model_validate(data)


def test_the_documented_example_translates_field_by_field() -> None:
    order = to_domain_order(order_from())
    assert order.id == "576999123456789012"
    assert order.status is TikTokStatus.AWAITING_SHIPMENT
    assert order.raw_status == "AWAITING_SHIPMENT"
    assert order.create_time == datetime.fromtimestamp(1732552200, UTC)
    assert order.paid_time is not None
    assert order.paid_time.tzinfo is not None
    assert order.paid_time.utcoffset() is not None
    assert not order.paid_time.utcoffset()
    assert order.buyer_email == "v8kQx2@chat.seller.tiktok.com"
    assert order.delivery_option_name == "Standard Shipping"
    assert classify(order) is OrderKind.SELLER_SHIPPED
    assert order.payment.total_amount == Decimal("68.32")
    assert order.payment.shipping_fee_platform_discount == Decimal("2.00")
    assert order.is_on_hold_order is True
    assert order.packages == ()

    r = order.recipient
    assert r is not None
    assert (r.city, r.state, r.county, r.postal_code) == (
        "San Jose",
        "California",
        "Santa Clara",
        "95110",
    )
    assert r.phone == "(+1)4085550142"
    assert r.masked is False
    address, warnings = to_shipping_address(r)
    assert address is not None
    assert address.province_code == "CA"
    assert not warnings

    first, second, bowl = order.line_items
    assert first.tax == Decimal("1.63")
    assert first.tax_rate == Decimal("0.0725")
    assert first.seller_discount == Decimal("2.50")
    assert bowl.platform_discount == Decimal("3.00")
    groups = group_units(order.line_items)
    assert [(g.seller_sku, g.quantity) for g in groups] == [("MW-SET-NAT", 2), ("BOWL-WHT", 1)]
    assert second.package_status == "TO_FULFILL"


def test_the_documented_example_plans_to_the_cent() -> None:
    plan = plan_money(to_domain_order(order_from()))
    assert plan.expected_total == Decimal("68.32")
    assert plan.mismatch is None


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("CANCEL", TikTokStatus.CANCELLED),
        ("CANCELLED", TikTokStatus.CANCELLED),
        ("UNPAID", TikTokStatus.UNPAID),
        ("on_hold", TikTokStatus.ON_HOLD),
        ("SOMETHING_NEW", TikTokStatus.UNKNOWN),
        ("", TikTokStatus.UNKNOWN),
    ],
)
def test_statuses_go_through_parse_status(raw: str, status: TikTokStatus) -> None:
    order = to_domain_order(order_from(status=raw))
    assert order.status is status


def test_an_order_without_id_is_the_only_refusal() -> None:
    with pytest.raises(TranslationError, match="without an id"):
        to_domain_order(order_from(id=""))
    assert issubclass(TranslationError, ValueError)


def test_odd_inputs_become_defaults() -> None:
    order = to_domain_order(
        Order.model_validate(
            {
                "id": 576000000000000099,  # a number, not a string
                "status": None,
                "payment": None,
                "recipient_address": None,
                "line_items": [
                    {"id": "1", "sku_id": "s", "original_price": "", "item_tax": None},
                    {
                        "id": "2",
                        "sku_id": "s",
                        "item_tax": [
                            {"tax_amount": None, "tax_rate": None},
                            {"tax_amount": "0.50"},
                        ],
                    },
                ],
                "packages": [{"id": ""}, {"id": "pkg-1"}],
                "create_time": 0,
                "combined_listing_skus": "garbage",
                "brand_new_field": {"x": 1},
            }
        )
    )
    assert order.id == "576000000000000099"
    assert order.status is TikTokStatus.UNKNOWN
    assert order.payment.total_amount == Decimal("0")
    assert order.payment.currency == "USD"
    assert order.recipient is None
    assert order.create_time is None
    one, two = order.line_items
    assert one.original_price == Decimal("0")
    assert one.tax == Decimal("0")
    assert one.tax_rate is None
    assert two.tax == Decimal("0.50")
    assert two.tax_rate is None
    assert order.packages == ("pkg-1",)


def test_bundle_components_are_read_from_the_raw_line() -> None:
    data = copy.deepcopy(DOC_ORDER)
    data["line_items"][0]["combined_listing_skus"] = [
        {"sku_id": " c1 ", "product_id": "p1", "seller_sku": " A\t", "sku_count": 2},
        {"sku_id": "c2", "sku_count": "nonsense"},
        "not an object",
        {"no_sku": True},
    ]
    order = to_domain_order(Order.model_validate(data))
    bundle = order.line_items[0].combined_listing_skus
    assert [(c.sku_id, c.sku_count) for c in bundle] == [("c1", 2), ("c2", 1)]
    assert bundle[0].seller_sku == "A"  # bundle SKU codes are trimmed like the line's own


def test_masked_by_asterisks() -> None:
    address = copy.deepcopy(DOC_ORDER["recipient_address"])
    address.update(name="J***** L**", phone_number="(+1)40*****42", address_line1="**********")
    order = to_domain_order(order_from(status="CANCELLED", recipient_address=address))
    assert order.recipient is not None
    assert order.recipient.masked
    assert to_shipping_address(order.recipient)[0] is None


@pytest.mark.parametrize("status", ["UNPAID", "ON_HOLD"])
def test_missing_parts_while_unpaid_or_on_hold_count_as_masked(status: str) -> None:
    address = copy.deepcopy(DOC_ORDER["recipient_address"])
    address.update(
        name="", address_line1="", postal_code="", full_address="Santa Clara, California"
    )
    address["district_info"] = address["district_info"][:3]
    order = to_domain_order(order_from(status=status, recipient_address=address))
    assert order.recipient is not None
    assert order.recipient.masked
    assert order.recipient.state == "California"
    assert order.recipient.city == ""


def test_missing_parts_after_release_are_not_called_masked() -> None:
    address = copy.deepcopy(DOC_ORDER["recipient_address"])
    address.update(address_line2="")
    order = to_domain_order(order_from(recipient_address=address))
    assert order.recipient is not None
    assert not order.recipient.masked


def test_a_naive_iso_time_is_taken_as_utc() -> None:
    order = to_domain_order(order_from(update_time="2025-03-03T15:00:00"))
    assert order.update_time == datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_pending_buyer_cancellation_with_deadline() -> None:
    record = VendorCancellation.model_validate(
        {
            "cancel_id": "4035",
            "order_id": "576999123456789012",
            "cancel_type": "BUYER_CANCEL",
            "cancel_status": "CANCELLATION_REQUEST_PENDING",
            "role": "buyer",
            "cancel_reason": "ecom_order_to_ship_canceled_reason_no_longer_needed",
            "cancel_reason_text": "No longer needed",
            "cancel_line_items": [
                {"order_line_item_id": "577000111122223331"},
                {"order_line_item_id": ""},
            ],
            "seller_next_action_response": [
                {"action": "SOMETHING_ELSE", "deadline": 1732000000},
                {"action": "SELLER_RESPOND_CANCEL", "deadline": 1732725000},
            ],
        }
    )
    c = to_domain_cancellation(record)
    assert c.cancel_id == "4035"
    assert c.type is CancellationType.BUYER_CANCEL
    assert c.status is CancellationStatus.PENDING
    assert c.role == "BUYER"
    assert c.line_item_ids == ("577000111122223331",)
    assert c.deadline == datetime.fromtimestamp(1732725000, UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("CANCELLATION_REQUEST_CANCELLED", CancellationStatus.WITHDRAWN),
        ("CANCELLATION_REQUEST_CANCEL", CancellationStatus.WITHDRAWN),
        ("CANCELLATION_REQUEST_SUCCESS", CancellationStatus.SUCCESS),
        ("CANCELLATION_REQUEST_COMPLETE", CancellationStatus.COMPLETE),
        ("WHATEVER", CancellationStatus.UNKNOWN),
    ],
)
def test_cancellation_statuses_and_odd_types(raw: str, status: CancellationStatus) -> None:
    record = VendorCancellation.model_validate(
        {
            "cancel_id": "1",
            "cancel_type": "NEW_KIND",
            "cancel_status": raw,
            "role": "SYSTEM",
            "seller_next_action_response": None,
        }
    )
    c = to_domain_cancellation(record)
    assert c.status is status
    assert c.type is CancellationType.CANCEL
    assert c.deadline is None


def test_returns() -> None:
    done = ReturnRequest.model_validate(
        {
            "return_id": "r1",
            "order_id": "o",
            "return_type": "RETURN_AND_REFUND",
            "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
            "refund_amount": {
                "currency": "USD",
                "refund_total": "26.62",
                "refund_shipping_fee": "0",
                "refund_tax": "1.63",
            },
            "return_line_items": [{"order_line_item_id": "577000111122223331"}],
        }
    )
    r = to_domain_return(done)
    assert (r.return_id, r.type, r.refunded, r.received) == ("r1", "RETURN_AND_REFUND", True, True)
    assert r.refund_total == Decimal("26.62")
    assert r.refund_tax == Decimal("1.63")
    assert r.line_item_ids == ("577000111122223331",)

    pending = to_domain_return(
        ReturnRequest.model_validate(
            {"return_id": "r2", "return_status": "BUYER_SHIPPED_ITEM", "refund_amount": None}
        )
    )
    assert (pending.type, pending.refunded, pending.received) == ("REFUND", False, False)
    assert pending.refund_total == Decimal("0")
    refund_only = to_domain_return(
        ReturnRequest.model_validate(
            {
                "return_id": "r3",
                "return_type": "REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_SUCCESS",
            }
        )
    )
    # SUCCESS is an approval: the money has not moved yet, so nothing reaches Shopify.
    assert not refund_only.refunded
    assert not refund_only.received


def test_return_details_both_reject_spellings_deadline_and_partial_offer() -> None:
    for spelling in ("REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_REJECT"):
        rejected = to_domain_return(ReturnRequest.model_validate(
            {"return_id": "r", "return_status": spelling}))
        assert rejected.status == "RETURN_OR_REFUND_REQUEST_REJECT"
    pending = to_domain_return(ReturnRequest.model_validate({
        "return_id": "r4", "return_type": "REFUND", "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
        "seller_next_action_response": [{"action": "SELLER_RESPOND_RETURN", "deadline": 1765000000}],
    }))
    assert pending.deadline == datetime(2025, 12, 6, 5, 46, 40, tzinfo=UTC)
    kept = to_domain_return(ReturnRequest.model_validate({
        "return_id": "r5", "return_type": "RETURN_AND_REFUND",
        "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE", "can_buyer_keep_item": True,
        "seller_proposed_return_type": "PARTIAL_REFUND",
        "partial_refund": {"currency": "USD", "amount": "4.00"},
        "refund_amount": {"refund_total": "4.00"},
    }))
    assert (kept.refunded, kept.buyer_keeps_item, kept.received) == (True, True, False)
    won = to_domain_return(ReturnRequest.model_validate({
        "return_id": "r6", "return_type": "RETURN_AND_REFUND", "arbitration_status": "SUPPORT_BUYER",
        "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
    }))
    assert (won.refunded, won.received, won.arbitration_status) == (True, False, "SUPPORT_BUYER")


def test_a_masked_phone_alone_does_not_mask_the_address() -> None:
    """An address counts as masked only by the parts it needs: one starred phone must not
    keep the street address from Shopify (it is left off with a warning)."""
    address = copy.deepcopy(DOC_ORDER["recipient_address"])
    address.update(phone_number="(+1)408*****42")
    order = to_domain_order(order_from(recipient_address=address))
    assert order.recipient is not None
    assert not order.recipient.masked
    shipping, warnings = to_shipping_address(order.recipient)
    assert shipping is not None
    assert shipping.address1 == "1199 Coleman Ave"
    assert shipping.phone is None
    assert warnings == ["The recipient phone is masked by TikTok; it was left off."]


def test_a_masked_postcode_masks_the_address() -> None:
    address = copy.deepcopy(DOC_ORDER["recipient_address"])
    address.update(postal_code="95***")
    order = to_domain_order(order_from(status="CANCELLED", recipient_address=address))
    assert order.recipient is not None
    assert order.recipient.masked
