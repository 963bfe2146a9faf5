"""3PL orders as the domain's ThreePLView: references, status, parcels with tracking."""

from __future__ import annotations

from datetime import UTC, datetime

from orderbridge.adapters.amazon_mcf import OrderDetail
from orderbridge.adapters.amazon_mcf.translate import to_threepl_view as mcf_view
from orderbridge.adapters.shipbob import Order
from orderbridge.adapters.shipbob.translate import to_threepl_view as shipbob_view
from orderbridge.adapters.shipbob.translate import webhook_order_view
from orderbridge.domain.observed import ThreePLPackage
from orderbridge.domain.policy import ThreePL

SHIPPED_AT = datetime(2026, 11, 17, 1, 0, tzinfo=UTC)


def _package(number: int, tracking: str | None, amazon: str | None = None) -> dict[str, object]:
    return {"packageNumber": number, "carrierCode": "AMZN_US", "trackingNumber": tracking,
            "amazonFulfillmentTrackingNumber": amazon}


def test_an_mcf_order_keeps_shipped_packages_with_a_number() -> None:
    detail = OrderDetail.model_validate({
        "fulfillmentOrder": {"sellerFulfillmentOrderId": "1001", "displayableOrderId": "#1001",
                             "fulfillmentOrderStatus": "COMPLETE", "statusUpdatedDate": "2026-11-17T01:00:00Z"},
        "fulfillmentShipments": [
            {"amazonShipmentId": "S1", "fulfillmentShipmentStatus": "SHIPPED", "shippingDate": "2026-11-17T01:00:00Z",
             "fulfillmentShipmentPackage": [_package(1, "TBA123456789012"), _package(2, None, "TBA000000000001"),
                                            _package(3, None)]},
            {"amazonShipmentId": "S2", "fulfillmentShipmentStatus": "PENDING",
             "fulfillmentShipmentPackage": [_package(4, "TBA999999999999")]},
        ],
    })
    view = mcf_view(detail)
    assert (view.order_id, view.reference, view.provider, view.status) == ("1001", "1001", ThreePL.AMAZON_MCF,
                                                                          "COMPLETE")
    assert view.packages == (
        ThreePLPackage(tracking_number="TBA123456789012", carrier="AMZN_US", shipped_at=SHIPPED_AT),
        ThreePLPackage(tracking_number="TBA000000000001", carrier="AMZN_US", shipped_at=SHIPPED_AT),
    )
    assert view.shipped_without_tracking  # package 3 left without a number
    assert not view.cancellable
    assert not view.cancelled
    assert view.updated_at == SHIPPED_AT


def test_a_cancelled_mcf_order() -> None:
    detail = OrderDetail.model_validate({"fulfillmentOrder": {
        "sellerFulfillmentOrderId": "X", "fulfillmentOrderStatus": "Cancelled"}})
    view = mcf_view(detail)
    assert view.cancelled
    assert view.packages == ()
    assert not view.shipped_without_tracking


def test_a_shipbob_order_keeps_tracked_shipments_and_notes_untracked_ones() -> None:
    order = Order.model_validate({
        "id": 55, "reference_id": "576001", "order_number": "576001", "status": "Fulfilled",
        "last_updated_date": "2026-11-17T01:00:00Z",
        "shipments": [
            {"id": 1, "status": "Completed", "tracking": {"carrier": "USPS", "tracking_number": " 9400 ",
                                                           "shipping_date": "2026-11-17T01:00:00Z"}},
            {"id": 2, "status": "Completed", "tracking": None},
            {"id": 3, "status": "Cancelled", "tracking": {"carrier": "UPS", "tracking_number": "1Z"}},
            {"id": 4, "status": "Processing", "tracking": {"carrier": "UPS", "tracking_number": ""}},
        ],
    })
    view = shipbob_view(order)
    assert (view.order_id, view.reference, view.provider) == ("55", "576001", ThreePL.SHIPBOB)
    assert view.packages == (ThreePLPackage(tracking_number="9400", carrier="USPS", shipped_at=SHIPPED_AT),)
    assert view.shipped_without_tracking
    assert not view.cancelled
    cancelled = shipbob_view(Order.model_validate({"id": 56, "reference_id": "R", "status": "Cancelled"}))
    assert cancelled.cancelled
    assert not cancelled.cancellable


def test_an_order_shipped_webhook_payload_is_a_view_a_shipment_payload_is_not() -> None:
    found = webhook_order_view({"id": 9, "reference_id": "576001", "order_number": "#1001", "status": "Fulfilled",
                                "shipments": [{"id": 1, "status": "Completed",
                                               "tracking": {"carrier": "USPS", "tracking_number": "9400"}}]})
    assert found is not None
    view, alt = found
    assert (view.reference, alt, view.packages[0].tracking_number) == ("576001", "#1001", "9400")
    assert webhook_order_view({"id": 1, "status": "Completed", "tracking": None}) is None
