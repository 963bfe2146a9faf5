"""Shopify order snapshots (GraphQL JSON as the client selects it) -> ShopifyOrderView."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from orderbridge.adapters.shopify.models import OrderSnapshot
from orderbridge.adapters.shopify.translate import gone_view, to_order_view
from orderbridge.domain.observed import FulfillmentStatus

HANDLE = "orderbridge"


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


SNAPSHOT: dict[str, Any] = {
    "id": "gid://shopify/Order/1001",
    "name": "#1001",
    "createdAt": "2026-11-16T17:00:00Z",
    "sourceIdentifier": "576999123456789012",
    "tags": ["TikTok", "tiktok-576999123456789012"],
    "cancelledAt": None,
    "displayFinancialStatus": "PENDING",
    "totalPriceSet": _money("68.32"),
    "totalOutstandingSet": _money("68.32"),
    "customAttributes": [{"key": "tiktok_order_id", "value": "576999123456789012"}],
    "lineItems": {
        "nodes": [
            {
                "id": "gid://shopify/LineItem/1",
                "sku": "MW-SET-NAT",
                "title": "Whisk",
                "quantity": 2,
                "currentQuantity": 2,
                "variant": {"id": "gid://shopify/ProductVariant/7"},
                "customAttributes": [{"key": "tiktok_sku_id", "value": "1729400000000000001"}],
            },
            {
                "id": "gid://shopify/LineItem/2",
                "sku": None,
                "title": "Mystery",
                "quantity": 1,
                "currentQuantity": None,
                "variant": None,
                "customAttributes": [],
            },
        ],
        "pageInfo": {"hasNextPage": False},
    },
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/11",
                "status": "ON_HOLD",
                "requestStatus": "UNSUBMITTED",
                "assignedLocation": {"location": {"id": "gid://shopify/Location/1"}},
                "fulfillmentHolds": [
                    {
                        "id": "gid://shopify/FulfillmentHold/5",
                        "handle": HANDLE,
                        "reason": "AWAITING_PAYMENT",
                        "heldByRequestingApp": True,
                    },
                    {
                        "id": "gid://shopify/FulfillmentHold/6",
                        "handle": "other-app",
                        "reason": "OTHER",
                        "heldByRequestingApp": False,
                    },
                ],
                "lineItems": {"nodes": []},
            },
            {
                "id": "gid://shopify/FulfillmentOrder/12",
                "status": "IN_PROGRESS",
                "requestStatus": "ACCEPTED",
                "assignedLocation": {"location": {"id": "gid://shopify/Location/9"}},
                "fulfillmentHolds": [],
                "lineItems": {"nodes": []},
            },
            {
                "id": "gid://shopify/FulfillmentOrder/13",
                "status": "open",
                "requestStatus": None,
                "assignedLocation": {"location": {"id": "gid://shopify/Location/3"}},
                "fulfillmentHolds": [],
                "lineItems": {"nodes": []},
            },
        ],
    },
    "fulfillments": [
        {
            "id": "gid://shopify/Fulfillment/21",
            "status": "SUCCESS",
            "createdAt": "2026-11-17T10:00:00Z",
            "updatedAt": "2026-11-17T10:00:00Z",
            "trackingInfo": [
                {"company": " UPS ", "number": "1Z999AA10100000004", "url": None},
                {"company": None, "number": "1Z999AA10100000004"},
            ],
            "fulfillmentLineItems": {
                "nodes": [{"lineItem": {"id": "gid://shopify/LineItem/1"}, "quantity": 1}]
            },
        },
        {
            "id": "gid://shopify/Fulfillment/22",
            "status": "CANCELLED",
            "trackingInfo": [],
            "fulfillmentLineItems": {"nodes": []},
        },
        {
            "id": "gid://shopify/Fulfillment/23",
            "status": "PENDING",
            "trackingInfo": [],
            "fulfillmentLineItems": {"nodes": []},
        },
    ],
}


def test_a_full_snapshot() -> None:
    view = to_order_view(OrderSnapshot.from_raw(SNAPSHOT), our_app_holds_handle=HANDLE)
    assert view.exists
    assert view.id == "gid://shopify/Order/1001"
    assert view.name == "#1001"
    assert view.financial_status == "PENDING"
    assert view.total_outstanding == Decimal("68.32")
    assert view.cancelled_at is None
    assert not view.cancel_job_pending
    assert view.tags == ("TikTok", "tiktok-576999123456789012")

    mapped, custom = view.line_items
    assert mapped.variant_id == "gid://shopify/ProductVariant/7"
    assert mapped.tiktok_sku_id == "1729400000000000001"
    assert mapped.sku == "MW-SET-NAT"
    assert custom.variant_id is None
    assert custom.tiktok_sku_id == ""
    assert custom.sku == ""
    assert custom.current_quantity == 1  # missing currentQuantity = quantity

    held, service, plain = view.fulfillment_orders
    assert [h.id for h in held.holds_with(HANDLE)] == ["gid://shopify/FulfillmentHold/5"]
    assert {h.handle for h in held.holds} == {HANDLE, "other-app"}
    assert not held.fulfillment_service
    assert service.fulfillment_service  # ACCEPTED: only a fulfilment service accepts
    assert plain.status == "OPEN"
    assert not plain.fulfillment_service

    shipped, cancelled, pending = view.fulfillments
    assert shipped.status is FulfillmentStatus.SUCCESS
    assert shipped.tracking_company == "UPS"
    assert shipped.tracking_numbers == ("1Z999AA10100000004",)
    assert [(li.line_item_id, li.quantity) for li in shipped.line_items] == [
        ("gid://shopify/LineItem/1", 1)
    ]
    assert shipped.created_at == datetime(2026, 11, 17, 10, tzinfo=UTC)
    assert cancelled.status is FulfillmentStatus.CANCELLED
    assert pending.status is FulfillmentStatus.OTHER
    assert view.shipped == (shipped,)


def test_service_locations_named_by_the_caller() -> None:
    view = to_order_view(
        OrderSnapshot.from_raw(SNAPSHOT),
        our_app_holds_handle=HANDLE,
        service_location_ids={"gid://shopify/Location/3"},
    )
    assert [fo.fulfillment_service for fo in view.fulfillment_orders] == [False, True, True]


def test_cancelled_and_paid() -> None:
    data = {
        **SNAPSHOT,
        "cancelledAt": "2026-11-18T00:00:00Z",
        "displayFinancialStatus": "paid",
        "totalOutstandingSet": _money("0.00"),
    }
    view = to_order_view(
        OrderSnapshot.from_raw(data), our_app_holds_handle=HANDLE, cancel_job_pending=True
    )
    assert view.cancelled_at == datetime(2026, 11, 18, tzinfo=UTC)
    assert not view.cancel_job_pending  # done is done
    assert view.financial_status == "PAID"
    assert view.total_outstanding == 0


def test_a_job_still_running_is_passed_through() -> None:
    view = to_order_view(
        OrderSnapshot.from_raw(SNAPSHOT), our_app_holds_handle=HANDLE, cancel_job_pending=True
    )
    assert view.cancel_job_pending


def test_a_minimal_snapshot() -> None:
    view = to_order_view(
        OrderSnapshot.from_raw({"id": "gid://shopify/Order/2", "name": "#2"}),
        our_app_holds_handle=HANDLE,
    )
    assert view.line_items == ()
    assert view.fulfillment_orders == ()
    assert view.fulfillments == ()
    assert view.total_outstanding == 0
    assert view.financial_status == ""
    assert not view.has_shipping_address


def test_gone() -> None:
    view = gone_view("gid://shopify/Order/3")
    assert not view.exists
    assert view.id == "gid://shopify/Order/3"
