"""Payload models: the documented example, tolerance of unknown/empty fields, raw kept."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from orderbridge.adapters.tiktok import (
    Cancellation,
    CancelStatus,
    Order,
    OrderFilter,
    OrderPage,
    OrderStatus,
    ReturnPage,
)
from orderbridge.clock import from_unix


def example_order() -> dict[str, Any]:
    """tiktok-shop.md §2's example (abridged: one of the two identical units dropped)."""
    line = {
        "id": "577000111122223331",
        "sku_id": "1729400000000000001",
        "product_id": "1729500000000000001",
        "product_name": "Bamboo Matcha Whisk Set",
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
    }
    return {
        "id": "576999123456789012",
        "status": "AWAITING_SHIPMENT",
        "buyer_email": "v8kQx2@chat.seller.tiktok.com",
        "create_time": 1732552200,
        "paid_time": 1732552231,
        "rts_sla_time": 1732780799,
        "cancel_order_sla_time": 1733471999,
        "is_on_hold_order": True,
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "shipping_type": "SELLER",
        "delivery_option_id": "7091146663229654785",
        "shipping_provider": "",
        "commerce_platform": "TIKTOK_SHOP",
        "packages": [],
        "payment": {
            "currency": "USD",
            "sub_total": "59.98",
            "shipping_fee": "3.99",
            "tax": "4.35",
            "retail_delivery_fee": "0",
            "total_amount": "68.32",
        },
        "recipient_address": {
            "name": "Jordan Lee",
            "postal_code": "95110",
            "region_code": "US",
            "district_info": [
                {
                    "address_level": "L1",
                    "address_level_name": "State",
                    "address_name": "California",
                },
                {"address_level": "L3", "address_level_name": "City", "address_name": "San Jose"},
            ],
            "delivery_preferences": {"drop_off_location": "Front Door"},
        },
        "line_items": [
            line,
            {**line, "id": "577000111122223332"},
            {**line, "id": "577000111122223333", "sku_id": "1729400000000000002"},
        ],
    }


def test_example_order_parses() -> None:
    page = OrderPage.model_validate({"orders": [example_order()], "next_page_token": None})
    order = page.orders[0]
    assert page.next_page_token == ""
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert order.create_time == datetime(2024, 11, 25, 16, 30, tzinfo=UTC)
    assert order.paid_time == from_unix(1732552231)
    assert order.payment is not None
    assert order.payment.total_amount == Decimal("68.32")
    assert order.payment.retail_delivery_fee == Decimal("0")
    assert order.recipient_address is not None
    assert order.recipient_address.district("L1") == "California"
    assert order.recipient_address.district("L4") == ""
    assert order.line_items[0].item_tax[0].tax_rate == Decimal("0.0725")
    assert order.quantities_by_sku() == {"1729400000000000001": 2, "1729400000000000002": 1}
    # unknown and deprecated fields are kept, never fatal
    assert order.model_extra is not None
    assert order.model_extra["commerce_platform"] == "TIKTOK_SHOP"
    assert order.raw["cancel_order_sla_time"] == 1733471999
    assert order.line_items[0].raw["sku_type"] == "NORMAL"
    assert order.rts_time is None


def test_empty_spellings_are_absorbed() -> None:
    order = Order.model_validate(
        {
            "id": 576,
            "status": "CANCEL",
            "update_time": "",
            "cancel_time": "1732552200",
            "is_cod": None,
            "line_items": None,
            "payment": {"total_amount": "", "tax": None},
            "recipient_address": None,
        }
    )
    assert order.id == "576"
    assert order.status == OrderStatus.CANCELLED
    assert order.update_time is None
    assert order.cancel_time == from_unix(1732552200)
    assert order.is_cod is False
    assert order.line_items == []
    assert order.payment is not None
    assert order.payment.total_amount is None
    assert order.raw["status"] == "CANCEL"


def test_bad_amount_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Order.model_validate({"payment": {"total_amount": "twelve"}})


def test_cancellation_statuses_and_deadline() -> None:
    cancel = Cancellation.model_validate(
        {
            "cancel_id": "c1",
            "cancel_status": "CANCELLATION_REQUEST_CANCELLED",
            "refund_amount": {"currency": "USD", "refund_total": "10.00"},
            "seller_next_action_response": [
                {"action": "SELLER_RESPOND_CANCEL", "deadline": 1700172800}
            ],
            "cancel_line_items": [{"order_line_item_id": "l1", "sku_id": "s1"}],
        }
    )
    assert cancel.cancel_status == CancelStatus.CANCEL
    assert cancel.refund_amount is not None
    assert cancel.refund_amount.refund_total == Decimal("10.00")
    assert cancel.seller_next_action_response[0].deadline == from_unix(1700172800)


def test_return_page_accepts_both_list_names() -> None:
    assert ReturnPage.model_validate({"returns": [{"return_id": "r"}]}).returns[0].return_id == "r"
    page = ReturnPage.model_validate({"return_orders": [{"return_id": "q"}]})
    assert page.returns[0].return_id == "q"


def test_order_filter_body() -> None:
    body = OrderFilter(
        update_time_ge=datetime(2024, 1, 1, tzinfo=UTC),
        update_time_lt=datetime(2024, 1, 2, tzinfo=UTC),
        shipping_type="SELLER",
        warehouse_ids=["w1"],
        extra={"buyer_user_id": "u"},
    ).to_body()
    assert body == {
        "buyer_user_id": "u",
        "shipping_type": "SELLER",
        "warehouse_ids": ["w1"],
        "update_time_ge": 1704067200,
        "update_time_lt": 1704153600,
    }
    with pytest.raises(ValueError, match="warehouse_ids"):
        OrderFilter(warehouse_ids=[str(i) for i in range(101)]).to_body()
