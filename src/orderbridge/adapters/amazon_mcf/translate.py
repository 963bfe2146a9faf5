"""An MCF fulfilment order as the domain's ``ThreePLView`` (the engine never reads MCF JSON)."""

from __future__ import annotations

from orderbridge.adapters.amazon_mcf.models import McfStatus, OrderDetail
from orderbridge.domain.observed import ThreePLPackage, ThreePLView
from orderbridge.domain.policy import ThreePL

__all__ = ["to_threepl_view"]


def to_threepl_view(detail: OrderDetail) -> ThreePLView:
    """``getFulfillmentOrder``'s payload as a view: its reference is the seller fulfilment
    order id; every shipped package with a number is a parcel (``trackingNumber``, else
    ``amazonFulfillmentTrackingNumber``), carrier as Amazon names it (``carrierCode``)."""
    order = detail.fulfillment_order
    packages: list[ThreePLPackage] = []
    untracked = False
    for shipment in detail.fulfillment_shipments:
        if not shipment.shipped:
            continue
        for package in shipment.fulfillment_shipment_package:
            number = (package.tracking_number or package.amazon_fulfillment_tracking_number or "").strip()
            if not number:
                untracked = True
                continue
            packages.append(ThreePLPackage(tracking_number=number, carrier=package.carrier_code,
                                           shipped_at=shipment.shipping_date))
    return ThreePLView(
        order_id=order.seller_fulfillment_order_id,
        provider=ThreePL.AMAZON_MCF,
        reference=order.seller_fulfillment_order_id,
        status=order.fulfillment_order_status,
        cancellable=detail.cancellable,
        cancelled=detail.status is McfStatus.CANCELLED,
        shipped_without_tracking=untracked,
        live_shipments=sum(1 for s in detail.fulfillment_shipments if not s.cancelled),
        packages=tuple(packages),
        updated_at=order.status_updated_date,
    )
