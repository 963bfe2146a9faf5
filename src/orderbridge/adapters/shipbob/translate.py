"""A ShipBob order as the domain's ``ThreePLView`` (the engine never reads ShipBob JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from orderbridge.adapters.shipbob.models import Order, ShipmentStatus
from orderbridge.domain.observed import ThreePLPackage, ThreePLView
from orderbridge.domain.policy import ThreePL

__all__ = ["to_threepl_view", "webhook_order_view"]


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
    live = [s for s in order.shipments if s.status != ShipmentStatus.CANCELLED]
    return ThreePLView(
        order_id=str(order.id),
        provider=ThreePL.SHIPBOB,
        reference=order.reference_id,
        status=order.status,
        cancellable=order.cancellable,
        cancelled=order.status.lower() == ShipmentStatus.CANCELLED.value.lower()
        or (bool(order.shipments) and not live),
        shipped_without_tracking=untracked,
        live_shipments=len(live),
        picked=any(s.picked for s in live),
        packages=tuple(packages),
        updated_at=order.last_updated_date,
    )


def webhook_order_view(payload: dict[str, Any]) -> tuple[ThreePLView, str | None] | None:
    """An order-topic webhook's payload (``order.shipped`` carries the whole order) as
    (view, alternative reference) for ``engine/threepl/poll.store_views``; None when the
    payload is not an order (a shipment-topic payload: poll instead)."""
    try:
        order = Order.model_validate(payload)
    except ValidationError:
        return None
    return to_threepl_view(order), order.order_number
