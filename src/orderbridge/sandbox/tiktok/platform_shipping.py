"""TikTok ships an order itself (Fulfilled by TikTok, or a TikTok Shipping label): the
package, its tracking number and the status move without the seller (control API)."""

from __future__ import annotations

from orderbridge.sandbox.tiktok.carriers import CARRIERS
from orderbridge.sandbox.tiktok.constants import OrderStatus, PackageStatus, ShippingType
from orderbridge.sandbox.tiktok.orders import Engine, OrderRuleError
from orderbridge.sandbox.tiktok.state import Order, Package

__all__ = ["ship_by_tiktok"]

_USPS = CARRIERS[0]


def ship_by_tiktok(engine: Engine, order: Order) -> Package:
    """Every unshipped live unit in one package with a USPS number (sandbox choice)."""
    if order.shipping_type is not ShippingType.TIKTOK:
        raise OrderRuleError(f"order {order.id} is shipped by the seller, not by TikTok")
    if order.status not in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING):
        raise OrderRuleError(f"order {order.id} is {order.status}: nothing to ship")
    world = engine.world
    package_id = world.ids.next("package")
    tracking = ("9400" + package_id)[:22].ljust(22, "0")
    package = Package(package_id, tracking, _USPS.id, _USPS.name, engine.now())
    world.packages[package.id] = package
    world.tracking_index[tracking] = package.id
    ids = [li.id for li in order.live_lines() if not li.shipped]
    package.lines[order.id] = ids
    for li in order.live_lines():
        if li.id in ids:
            li.package_id, li.tracking_number = package.id, tracking
            li.shipping_provider_id, li.shipping_provider_name = _USPS.id, _USPS.name
            li.package_status = PackageStatus.PROCESSING
    order.package_ids.append(package.id)
    order.rts_time = order.rts_time or engine.now()
    engine.touch(order)
    engine.recompute_shipping_status(order)
    return package
