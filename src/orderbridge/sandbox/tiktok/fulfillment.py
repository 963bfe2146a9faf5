"""Seller shipping: shipping providers, Mark Package As Shipped, tracking corrections.

A package is keyed by its tracking number; one tracking number may cover up to 20 orders
of the same recipient (combined shipment). The same number twice on one order is a
duplicate (21011025).
"""

from __future__ import annotations

from typing import Any

from orderbridge.sandbox.tiktok.carriers import CARRIERS, carrier_by_id, tracking_fits
from orderbridge.sandbox.tiktok.constants import (
    MAX_COMBINED_ORDERS,
    TRACKING_UPDATE_WINDOW,
    ErrorCode,
    EventType,
    OrderStatus,
    PackageStatus,
    ShippingType,
)
from orderbridge.sandbox.tiktok.errors import bad_request, business_error
from orderbridge.sandbox.tiktok.orders import Engine
from orderbridge.sandbox.tiktok.render import ts
from orderbridge.sandbox.tiktok.state import Order, Package, Shop

__all__ = ["Fulfillment"]

SHIPPABLE = frozenset({OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING})


def _recipient_key(order: Order) -> str:
    a = order.address
    return "|".join(x.strip().lower() for x in (a.name, a.address_line1, a.address_line2, a.postal_code))


class Fulfillment:
    """Shipping endpoints' logic."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world = engine.world

    def providers(self, shop: Shop, delivery_option_id: str) -> list[dict[str, Any]]:
        """Get Shipping Providers of a delivery option (seller options only)."""
        if delivery_option_id == shop.tiktok_delivery_option_id:
            raise business_error(ErrorCode.TIKTOK_DELIVERY_OPTION,
                                 "The delivery option is fulfilled by TikTok Shop")
        if delivery_option_id not in shop.delivery_options.values():
            raise bad_request(f"delivery_option_id {delivery_option_id} does not exist")
        return [{"id": c.id, "name": c.name} for c in CARRIERS]

    def ship(self, order: Order, tracking_number: str, provider_id: str,
             line_ids: list[str] | None) -> dict[str, Any]:
        """Mark Package As Shipped."""
        if order.shipping_type is ShippingType.TIKTOK:
            raise business_error(ErrorCode.PLATFORM_FULFILLED,
                                 "The order is fulfilled by TikTok Shop; seller shipping is not allowed")
        # Codes: each one Mark Package As Shipped documents (ON_HOLD has none of its own there).
        if order.status is OrderStatus.ON_HOLD:
            raise business_error(ErrorCode.FULFILL_ACTION_NOT_ALLOWED,
                                 "fulfill_unit action not allowed: the order is on hold until the hold ends")
        if order.status not in SHIPPABLE:
            if order.status in (OrderStatus.UNPAID, OrderStatus.CANCELLED):
                raise business_error(ErrorCode.FULFILL_ACTION_NOT_ALLOWED,
                                     f"fulfill_unit action not allowed: the order is {order.status.value}")
            raise business_error(ErrorCode.ORDER_ALREADY_SHIPPED, "These orders are already shipped.")
        tracking = tracking_number.strip()
        if not tracking:
            raise bad_request("tracking_number is required", ErrorCode.SHIP_INVALID_PARAMETERS)
        carrier = carrier_by_id(provider_id)
        if carrier is None:
            raise bad_request(f"shipping_provider_id {provider_id!r} is not available for this order",
                              ErrorCode.SHIP_INVALID_PARAMETERS)
        if not tracking_fits(carrier, tracking):
            raise business_error(ErrorCode.TRACKING_PROVIDER_MISMATCH,
                                 f"The tracking number does not match the format of {carrier.name}")
        live = {li.id: li for li in order.live_lines()}
        if line_ids:
            missing = [lid for lid in line_ids if lid not in live]
            if missing:
                raise bad_request(f"order_line_item_ids not found or cancelled: {','.join(missing)}",
                                  ErrorCode.SHIP_INVALID_PARAMETERS)
            if any(live[lid].shipped for lid in line_ids):
                raise business_error(ErrorCode.ALREADY_SHIPPED, "Some line items are already shipped")
            ids = list(dict.fromkeys(line_ids))
        else:
            ids = [lid for lid, li in live.items() if not li.shipped]
            if not ids:
                raise business_error(ErrorCode.ORDER_ALREADY_SHIPPED, "These orders are already shipped.")
        package = self._package_for(order, tracking, carrier.id, carrier.name)
        package.lines.setdefault(order.id, []).extend(ids)
        now = self.engine.now()
        for lid in ids:
            li = live[lid]
            li.package_id = package.id
            li.tracking_number = tracking
            li.shipping_provider_id = carrier.id
            li.shipping_provider_name = carrier.name
            li.package_status = PackageStatus.PROCESSING
        if package.id not in order.package_ids:
            order.package_ids.append(package.id)
        if order.rts_time is None:
            order.rts_time = now
        if self.engine.cancels is not None:
            self.engine.cancels.auto_reject_on_ship(order)
        self.engine.touch(order)
        self.engine.recompute_shipping_status(order)
        self._package_event(order, package, partial=len(ids) < len(live))
        return {"order_id": order.id, "order_line_item_ids": ids, "package_id": package.id,
                "warning": {"message": ""}}

    def _package_for(self, order: Order, tracking: str, provider_id: str, provider_name: str) -> Package:
        existing_id = self.world.tracking_index.get(tracking.upper())
        key = _recipient_key(order)
        if existing_id is not None:
            package = self.world.packages[existing_id]
            if order.id in package.lines:
                raise business_error(ErrorCode.DUPLICATE_TRACKING,
                                     "The tracking number is already used on this order")
            if package.recipient_key != key or package.shipping_provider_id != provider_id:
                raise business_error(ErrorCode.DUPLICATE_TRACKING,
                                     "The tracking number is used by an order with another recipient")
            if len(package.lines) >= MAX_COMBINED_ORDERS:
                raise business_error(ErrorCode.DUPLICATE_TRACKING,
                                     f"A tracking number can cover at most {MAX_COMBINED_ORDERS} orders")
            return package
        package = Package(self.world.ids.next("package"), tracking, provider_id, provider_name,
                          self.engine.now(), recipient_key=key)
        self.world.packages[package.id] = package
        self.world.tracking_index[tracking.upper()] = package.id
        return package

    def _package_event(self, order: Order, package: Package, partial: bool) -> None:
        combined = len(package.lines) > 1
        if not (combined or partial or len(order.package_ids) > 1):
            return
        self.engine.events.emit(self.engine.shop_of(order), EventType.PACKAGE_UPDATE, {
            "sc_type": "COMBINE" if combined else "SPLIT", "role_type": "SELLER",
            "package_list": [{"package_id": package.id, "order_id_list": list(package.lines)}],
            "update_time": ts(self.engine.now()),
        })

    def update_shipping_info(self, order: Order, package_id: str | None, tracking_number: str,
                             provider_id: str) -> dict[str, Any]:
        """Correct the tracking of a package: once, within 72 h of shipment."""
        package_id_given = package_id
        if package_id is None:
            if len(order.package_ids) != 1:
                raise bad_request("the order has no package or several: use the package endpoint")
            package_id = order.package_ids[0]
        package = self.world.packages.get(package_id)
        if package is None or order.id not in package.lines:
            raise bad_request(f"package {package_id} not found for order {order.id}")
        # Codes as each endpoint documents them: the package endpoint tells the window
        # (21011050) from the one update (21011051); the order endpoint has only 21011049.
        by_order = package_id_given is None
        if package.tracking_updated:
            raise business_error(ErrorCode.UPDATE_PLATFORM_RULE if by_order else ErrorCode.UPDATE_ONLY_ONCE,
                                 "Due to platform rule limitations, you are unable to update the tracking number."
                                 if by_order else "The tracking number can only be updated once.")
        if self.engine.now() > package.shipped_at + TRACKING_UPDATE_WINDOW:
            raise business_error(ErrorCode.UPDATE_PLATFORM_RULE if by_order else ErrorCode.UPDATE_WINDOW_PASSED,
                                 "Due to platform rule limitations, you are unable to update the tracking number."
                                 if by_order else
                                 "The tracking number can only be updated within a certain number of hours.")
        carrier = carrier_by_id(provider_id)
        tracking = tracking_number.strip()
        if carrier is None or not tracking_fits(carrier, tracking):
            raise business_error(ErrorCode.INVALID_TRACKING_OR_PROVIDER,
                                 "Invalid tracking number or provider ID. Please double check and try again.")
        other = self.world.tracking_index.get(tracking.upper())
        if other is not None and other != package.id:
            raise business_error(ErrorCode.INVALID_TRACKING_OR_PROVIDER,
                                 "Invalid tracking number or provider ID: the number is used by another package.")
        self.world.tracking_index.pop(package.tracking_number.upper(), None)
        self.world.tracking_index[tracking.upper()] = package.id
        package.tracking_number = tracking
        package.shipping_provider_id = carrier.id
        package.shipping_provider_name = carrier.name
        package.tracking_updated = True
        for oid, lids in package.lines.items():
            o = self.world.orders[oid]
            for li in o.line_items:
                if li.id in lids:
                    li.tracking_number = tracking
                    li.shipping_provider_id = carrier.id
                    li.shipping_provider_name = carrier.name
            self.engine.touch(o)
        return {}

    def tracking(self, order: Order) -> list[dict[str, Any]]:
        """Tracking events of the order (label created, picked up, delivered)."""
        events: list[dict[str, Any]] = []
        if order.rts_time is not None:
            events.append({"description": "Shipping label created",
                           "update_time_millis": ts(order.rts_time) * 1000})
        if order.collection_time is not None:
            events.append({"description": "Package picked up by carrier",
                           "update_time_millis": ts(order.collection_time) * 1000})
        if order.delivery_time is not None:
            events.append({"description": "Delivered",
                           "update_time_millis": ts(order.delivery_time) * 1000})
        return list(reversed(events))
