"""A ShipBob order as the domain's ``ThreePLView`` (the engine never reads ShipBob JSON)."""

from __future__ import annotations

from orderbridge.adapters.shipbob.models import Order, ShipmentStatus
from orderbridge.domain.observed import ThreePLPackage, ThreePLView
from orderbridge.domain.policy import ThreePL

__all__ = ["to_threepl_view"]


def to_threepl_view(order: Order) -> ThreePLView:
    """A ShipBob order (with its shipments) as a view: its reference is ``reference_id``;
    every shipment with a tracking number is a parcel."""
    packages: list[ThreePLPackage] = []
    untracked = False
    for shipment in order.shipments:
        if shipment.status == ShipmentStatus.CANCELLED:
            continue
        tracking = shipment.tracking
        if tracking is not None and (tracking.tracking_number or "").strip():
            packages.append(ThreePLPackage(
                tracking_number=(tracking.tracking_number or "").strip(), carrier=tracking.carrier or "",
                shipped_at=tracking.shipping_date or shipment.actual_fulfillment_date))
        elif shipment.status == ShipmentStatus.COMPLETED:
            untracked = True
    return ThreePLView(
        order_id=str(order.id),
        provider=ThreePL.SHIPBOB,
        reference=order.reference_id,
        status=order.status,
        cancellable=order.cancellable,
        cancelled=order.status.lower() == ShipmentStatus.CANCELLED.value.lower(),
        shipped_without_tracking=untracked,
        packages=tuple(packages),
        updated_at=order.last_updated_date,
    )
