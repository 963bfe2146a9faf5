"""Typed models of the 3PL clients: statuses, cancellability, packages, request bodies."""

from datetime import UTC, datetime

import pytest

from orderbridge.adapters.amazon_mcf import (
    CreateItem,
    CreateOrder,
    DestinationAddress,
    McfStatus,
    OrderDetail,
    ShippingSpeed,
    normalize_status,
)
from orderbridge.adapters.shipbob import NewOrder, NewProduct, Order, Recipient, RecipientAddress


@pytest.mark.parametrize(("raw", "status"), [
    ("Processing", McfStatus.PROCESSING), ("PROCESSING", McfStatus.PROCESSING),
    ("COMPLETE", McfStatus.COMPLETE), ("COMPLETE_PARTIALLED", McfStatus.COMPLETE_PARTIALLED),
    ("completePartialled", McfStatus.COMPLETE_PARTIALLED), ("RECEIVED", McfStatus.RECEIVED),
    ("SomethingNew", McfStatus.UNKNOWN), (None, McfStatus.UNKNOWN),
])
def test_mcf_statuses_are_compared_without_case(raw: str | None, status: McfStatus) -> None:
    assert normalize_status(raw) is status


def mcf_detail(status: str, shipment_status: str | None = None) -> OrderDetail:
    shipments = [] if shipment_status is None else [{
        "amazonShipmentId": "D1", "fulfillmentShipmentStatus": shipment_status,
        "fulfillmentShipmentItem": [{"sellerSku": "A", "sellerFulfillmentOrderItemId": "1", "quantity": 1,
                                     "packageNumber": 7}],
        "fulfillmentShipmentPackage": [{"packageNumber": 7, "carrierCode": "UPS",
                                        "trackingNumber": "1Z999AA10123456784", "newField": True}],
    }]
    return OrderDetail.model_validate({
        "fulfillmentOrder": {"sellerFulfillmentOrderId": "X", "fulfillmentOrderStatus": status,
                             "statusUpdatedDate": "2026-11-16T17:00:00Z"},
        "fulfillmentShipments": shipments,
    })


@pytest.mark.parametrize(("status", "shipment", "cancellable"), [
    ("Received", None, True), ("PLANNING", None, True), ("Planning", "PENDING", False),
    ("Planning", "CancelledByFulfiller", True), ("Planning", "CANCELLED_BY_SELLER", True),
    ("New", None, False), ("Processing", None, False), ("Complete", "SHIPPED", False),
])
def test_mcf_cancellable_only_while_received_or_planning_with_nothing_live(
        status: str, shipment: str | None, cancellable: bool) -> None:
    assert mcf_detail(status, shipment).cancellable is cancellable


def test_mcf_packages_are_those_of_shipped_shipments() -> None:
    assert mcf_detail("Processing", "PENDING").packages == []
    [package] = mcf_detail("Complete", "SHIPPED").packages
    assert (package.package_number, package.carrier_code) == (7, "UPS")
    assert package.model_extra == {"newField": True}  # unknown fields are kept


def test_mcf_create_body_uses_amazon_names() -> None:
    body = CreateOrder(
        seller_fulfillment_order_id="TT-1", displayable_order_id="TT-1",
        displayable_order_date=datetime(2026, 11, 16, 17, tzinfo=UTC), displayable_order_comment="Thanks",
        shipping_speed_category=ShippingSpeed.EXPEDITED,
        destination_address=DestinationAddress(name="A", address_line1="1 Main", postal_code="1",
                                               country_code="US"),
        items=[CreateItem(seller_sku="S", seller_fulfillment_order_item_id="1", quantity=2)],
    ).to_json()
    assert body["sellerFulfillmentOrderId"] == "TT-1"
    assert body["displayableOrderDate"] == "2026-11-16T17:00:00Z"
    assert body["shippingSpeedCategory"] == "Expedited"
    assert body["destinationAddress"] == {"name": "A", "addressLine1": "1 Main", "postalCode": "1",
                                          "countryCode": "US"}
    assert body["items"] == [{"sellerSku": "S", "sellerFulfillmentOrderItemId": "1", "quantity": 2}]


def shipbob_order(status: str, details: list[str], tracking: bool = False) -> Order:
    return Order.model_validate({"id": 1, "reference_id": "R", "status": "Processing", "shipments": [{
        "id": 2, "status": status, "status_details": [{"name": d} for d in details],
        "tracking": {"carrier": "USPS", "tracking_number": "9400"} if tracking else None,
    }]})


@pytest.mark.parametrize(("status", "details", "tracking", "cancellable"), [
    ("None", [], False, True), ("Processing", [], False, True), ("Exception", ["OutOfStock"], False, True),
    ("OnHold", [], False, True), ("Processing", ["Picked"], False, False),
    ("Processing", ["Packed"], False, False), ("LabeledCreated", [], False, False),
    ("Completed", [], True, False), ("Processing", [], True, False), ("Cancelled", [], False, False),
])
def test_shipbob_cancellable_until_picked(status: str, details: list[str], tracking: bool,
                                          cancellable: bool) -> None:
    assert shipbob_order(status, details, tracking).shipments[0].cancellable is cancellable


def test_shipbob_order_cancellable_needs_a_live_shipment() -> None:
    assert shipbob_order("Processing", []).cancellable
    assert not shipbob_order("Cancelled", []).cancellable


def test_shipbob_create_body() -> None:
    body = NewOrder(reference_id="TT-1", shipping_method="Standard",
                    recipient=Recipient(name="A", address=RecipientAddress(address1="1", city="C", country="US")),
                    products=[NewProduct(reference_id="S", quantity=1)]).to_json()
    assert body == {"reference_id": "TT-1", "shipping_method": "Standard", "type": "DTC",
                    "recipient": {"name": "A", "address": {"address1": "1", "city": "C", "country": "US"}},
                    "products": [{"reference_id": "S", "quantity": 1}]}
