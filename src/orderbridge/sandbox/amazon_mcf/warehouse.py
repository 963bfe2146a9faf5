"""What happens to MCF orders: created by the API, moved by the warehouse (control API).

A new order is ``New`` and is validated to ``Received`` after ``VALIDATION_DELAY`` of
virtual time; the warehouse accepts (``Planning``), picks (``Processing``), ships packages
with a carrier and tracking number, fails for stock or delays. The seller may cancel only
while ``Received`` or ``Planning``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from orderbridge.clock import Clock
from orderbridge.sandbox.amazon_mcf.state import (
    CANCELLABLE,
    FulfillmentOrder,
    Item,
    McfStatus,
    Package,
    Shipment,
    ShipmentStatus,
    World,
)
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok.carriers import CARRIERS, tracking_fits

__all__ = ["OrderError", "Warehouse"]

VALIDATION_DELAY = timedelta(seconds=30)
PLANNED_SHIP_DELAY = timedelta(days=1)  # the estimate shown before anything ships
TRANSIT_TIME = timedelta(days=3)
FULFILMENT_CENTER = "SBD1"
AMAZON_CARRIER = "Amazon Logistics"
SPEEDS = frozenset({"Standard", "Expedited", "Priority", "ScheduledDelivery"})
MAX_ITEMS, MAX_UNITS = 100, 250


class OrderError(Exception):
    """A request Amazon refuses: ``code`` and HTTP ``status`` of the error envelope."""

    def __init__(self, message: str, code: str = "InvalidInput", status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


def _required(body: dict[str, Any], names: list[str], where: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "", [])]
    if missing:
        raise OrderError(f"{where}: missing required {', '.join(missing)}")


class Warehouse:
    """Order rules shared by the API (seller) and the control API (warehouse)."""

    def __init__(self, world: World, clock: Clock, scheduler: Scheduler) -> None:
        self.world, self.clock, self.scheduler = world, clock, scheduler

    def order(self, order_id: str) -> FulfillmentOrder:
        found = self.world.orders.get(order_id)
        if found is None:
            raise OrderError(f"Requested order {order_id} not found", "NotFound", 404)
        return found

    # seller operations
    def create(self, body: dict[str, Any]) -> FulfillmentOrder:
        _required(body, ["sellerFulfillmentOrderId", "displayableOrderId", "displayableOrderDate",
                         "displayableOrderComment", "shippingSpeedCategory", "destinationAddress",
                         "items"], "CreateFulfillmentOrderRequest")
        order_id = str(body["sellerFulfillmentOrderId"])
        if len(order_id) > 40 or len(str(body["displayableOrderId"])) > 40:
            raise OrderError("sellerFulfillmentOrderId and displayableOrderId are at most 40 characters")
        if order_id in self.world.orders:
            raise OrderError(f"Fulfillment order {order_id} already exists")
        if body["shippingSpeedCategory"] not in SPEEDS:
            raise OrderError(f"Invalid shippingSpeedCategory {body['shippingSpeedCategory']!r}")
        address = body["destinationAddress"]
        if not isinstance(address, dict):
            raise OrderError("destinationAddress must be an object")
        _required(address, ["name", "addressLine1", "postalCode", "countryCode"], "destinationAddress")
        raw_items = body["items"]
        if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
            raise OrderError(f"items must be a list of at most {MAX_ITEMS}")
        items = []
        for raw in raw_items:
            if not isinstance(raw, dict):
                raise OrderError("each item must be an object")
            _required(raw, ["sellerSku", "sellerFulfillmentOrderItemId", "quantity"], "items[]")
            quantity = raw["quantity"]
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise OrderError("items[].quantity must be a positive integer")
            items.append(Item(str(raw["sellerSku"]), str(raw["sellerFulfillmentOrderItemId"]), quantity))
        if sum(i.quantity for i in items) > MAX_UNITS:
            raise OrderError(f"An order holds at most {MAX_UNITS} units")
        now = self.clock.now()
        order = FulfillmentOrder(
            id=order_id, displayable_id=str(body["displayableOrderId"]),
            displayable_date=str(body["displayableOrderDate"]),
            comment=str(body["displayableOrderComment"]), speed=str(body["shippingSpeedCategory"]),
            address=dict(address), items=items, received=now, status_updated=now,
            action=str(body.get("fulfillmentAction") or "Ship"),
            policy=str(body.get("fulfillmentPolicy") or "FillOrKill"),
            marketplace_id=str(body.get("marketplaceId") or ""),
            emails=[str(e) for e in body.get("notificationEmails") or []],
            ship_estimate=now + PLANNED_SHIP_DELAY,
        )
        self.world.orders[order_id] = order
        self.scheduler.call_later(VALIDATION_DELAY, lambda: self._validated(order),
                                  name=f"mcf validate {order_id}")
        return order

    def _validated(self, order: FulfillmentOrder) -> None:
        if order.status == McfStatus.NEW:
            self.world.touch(order, self.clock.now(), McfStatus.RECEIVED)

    def cancel(self, order_id: str) -> FulfillmentOrder:
        order = self.order(order_id)
        if order.status == McfStatus.CANCELLED:
            return order  # a repeated cancel succeeds again (sandbox choice; unconfirmed)
        if order.status not in CANCELLABLE or any(s.status is ShipmentStatus.SHIPPED for s in order.shipments):
            raise OrderError(
                f"Fulfillment order {order_id} cannot be cancelled in status {order.status}")
        for item in order.items:
            item.cancelled += item.open
        for shipment in order.shipments:
            shipment.status = ShipmentStatus.CANCELLED_BY_SELLER
        self.world.touch(order, self.clock.now(), McfStatus.CANCELLED)
        return order

    # warehouse operations
    def _require(self, order: FulfillmentOrder, allowed: set[str], action: str) -> None:
        if order.status not in allowed:
            raise OrderError(f"cannot {action} an order in status {order.status}", "Conflict", 409)

    def accept(self, order_id: str) -> FulfillmentOrder:
        order = self.order(order_id)
        self._require(order, {McfStatus.NEW, McfStatus.RECEIVED}, "accept")
        self.world.touch(order, self.clock.now(), McfStatus.PLANNING)
        return order

    def pick(self, order_id: str) -> FulfillmentOrder:
        order = self.order(order_id)
        self._require(order, {McfStatus.NEW, McfStatus.RECEIVED, McfStatus.PLANNING}, "pick")
        self.world.touch(order, self.clock.now(), McfStatus.PROCESSING)
        return order

    def ship(self, order_id: str, carrier: str, tracking_number: str | None,
             quantities: dict[str, int] | None) -> Package:
        order = self.order(order_id)
        self._require(order, {McfStatus.NEW, McfStatus.RECEIVED, McfStatus.PLANNING, McfStatus.PROCESSING},
                      "ship")
        known = next((c for c in CARRIERS if c.name.lower() == carrier.lower()), None)
        number = self.world.next_number()
        amazon_number = f"TBA{number:012d}"
        tracking = tracking_number or (amazon_number if known and known.name == AMAZON_CARRIER else None)
        if tracking is None:
            raise OrderError(f"a tracking number is required for {carrier}", "Conflict", 409)
        if known is not None and not tracking_fits(known, tracking):
            raise OrderError(f"{tracking!r} is not a {known.name} tracking number", "Conflict", 409)
        wanted = quantities or {i.item_id: i.open for i in order.items}
        lines: list[tuple[Item, int]] = []
        for item in order.items:
            qty = wanted.get(item.item_id, 0)
            if qty < 0 or qty > item.open:
                raise OrderError(f"item {item.item_id} has {item.open} units left to ship", "Conflict", 409)
            if qty:
                lines.append((item, qty))
        if not lines:
            raise OrderError("nothing left to ship", "Conflict", 409)
        now = self.clock.now()
        package = Package(number, carrier if known is None else known.name, tracking, amazon_number,
                          now, now + TRANSIT_TIME)
        package.events.append((now, "EVENT_101", "Carrier picked up the package."))
        self.world.packages[number] = package
        for item, qty in lines:
            item.shipped += qty
        order.shipments.append(Shipment(
            id=f"D{number:08d}", center=FULFILMENT_CENTER, status=ShipmentStatus.SHIPPED,
            items=[(item, qty, number) for item, qty in lines], packages=[package],
            shipping_date=now, eta=package.eta,
        ))
        self._settle(order, McfStatus.PROCESSING)
        return package

    def _settle(self, order: FulfillmentOrder, otherwise: str) -> None:
        """Complete when nothing is open; CompletePartialled when some did not ship."""
        shipped = sum(i.shipped for i in order.items)
        if any(i.open for i in order.items):
            status = otherwise
        elif shipped == sum(i.quantity for i in order.items):
            status = McfStatus.COMPLETE
        elif shipped:
            status = McfStatus.COMPLETE_PARTIALLED
        else:
            status = McfStatus.UNFULFILLABLE
        self.world.touch(order, self.clock.now(), status)

    def fail_stock(self, order_id: str) -> FulfillmentOrder:
        order = self.order(order_id)
        self._require(order, {McfStatus.NEW, McfStatus.RECEIVED, McfStatus.PLANNING, McfStatus.PROCESSING},
                      "fail")
        for item in order.items:
            item.unfulfillable += item.open
        self._settle(order, McfStatus.UNFULFILLABLE)
        return order

    def delay(self, order_id: str, hours: float) -> FulfillmentOrder:
        order = self.order(order_id)
        base = order.ship_estimate or self.clock.now()
        order.ship_estimate = base + timedelta(hours=hours)
        self.world.touch(order, self.clock.now())
        return order

    def set_status(self, order_id: str, status: str) -> FulfillmentOrder:
        order = self.order(order_id)
        self.world.touch(order, self.clock.now(), status)
        return order

    def deliver(self, package_number: int) -> Package:
        package = self.world.packages.get(package_number)
        if package is None:
            raise OrderError(f"package {package_number} not found", "NotFound", 404)
        now: datetime = self.clock.now()
        package.status = "DELIVERED"
        package.events.append((now, "EVENT_301", "Delivered."))
        return package
