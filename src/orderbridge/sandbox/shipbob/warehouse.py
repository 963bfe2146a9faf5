"""ShipBob order rules and webhooks: created by the API, moved by the warehouse (control).

A new order has one shipment in status ``None``; the warehouse accepts it (``Processing``),
picks it (a ``Picked`` status detail: from then on it cannot be cancelled), ships it
(``Completed`` with tracking, order ``Fulfilled``, ``order.shipped``), delivers it
(``order.shipment.delivered``), fails it for stock (``Exception``,
``order.shipment.exception``), holds it (``OnHold``) or delays it. Webhooks are signed the
Standard Webhooks way: ``webhook-signature: v1,base64(HMAC-SHA256(key, id.timestamp.body))``
with the key = base64-decoded secret after ``whsec_``, signed again at every attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from orderbridge.clock import Clock
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.shipbob.state import (
    Order,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    Subscription,
    Tracking,
    World,
)
from orderbridge.sandbox.tiktok.carriers import CARRIERS, tracking_fits

__all__ = ["ShipBobError", "Warehouse", "invalid", "sign"]

FULFILMENT_PROMISE = timedelta(days=1)
ORDER_TYPES = frozenset({"DTC", "DropShip", "B2B"})
CANCELLABLE = frozenset({ShipmentStatus.NONE, ShipmentStatus.PROCESSING, ShipmentStatus.EXCEPTION,
                         ShipmentStatus.ON_HOLD, ShipmentStatus.IMPORT_REVIEW})
TOPICS = frozenset({"order.shipped", "order.shipment.delivered", "order.shipment.exception",
                    "order.shipment.on_hold", "order.shipment.cancelled"})


class ShipBobError(Exception):
    """A refusal: HTTP ``status`` and ShipBob's validation body (field -> messages)."""

    def __init__(self, status: int, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.status, self.errors = status, errors


def invalid(field: str, message: str) -> ShipBobError:
    return ShipBobError(400, {field: [message]})


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one attempt."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Warehouse:
    """Order rules shared by the API and the control API."""

    def __init__(self, world: World, clock: Clock, dispatcher: WebhookDispatcher) -> None:
        self.world, self.clock, self.dispatcher = world, clock, dispatcher

    def order(self, order_id: int) -> Order:
        found = self.world.orders.get(order_id)
        if found is None:
            raise ShipBobError(404, {"orderId": [f"Order {order_id} not found"]})
        return found

    def create(self, channel_id: int, body: dict[str, Any]) -> Order:
        channel = self.world.channel(channel_id)
        if channel is None or "orders_write" not in channel.scopes:
            raise invalid("shipbob_channel_id", "The channel does not exist or cannot write orders")
        for name in ("reference_id", "shipping_method", "recipient", "products"):
            if body.get(name) in (None, "", []):
                raise invalid(name, f"The {name} field is required.")
        reference = str(body["reference_id"])
        if any(o.reference_id == reference and o.channel.id == channel_id for o in self.world.orders.values()):
            raise ShipBobError(422, {"reference_id": [f"Order with reference id {reference} already exists"]})
        kind = str(body.get("type") or "DTC")
        if kind not in ORDER_TYPES:
            raise invalid("type", f"Invalid order type {kind!r}")
        recipient = body["recipient"]
        address = recipient.get("address") if isinstance(recipient, dict) else None
        if not isinstance(address, dict) or not recipient.get("name"):
            raise invalid("recipient", "recipient.name and recipient.address are required")
        for name in ("address1", "city", "country"):
            if not address.get(name):
                raise invalid(f"recipient.address.{name}", f"The {name} field is required.")
        products = []
        for raw in body["products"]:
            if not isinstance(raw, dict) or not raw.get("reference_id"):
                raise invalid("products", "Each product needs a reference_id")
            quantity = raw.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise invalid("products.quantity", "quantity must be a positive integer")
            products.append({"id": self.world.next_id("product"), "reference_id": str(raw["reference_id"]),
                             "name": raw.get("name"), "sku": raw.get("sku"), "quantity": quantity,
                             "unit_price": raw.get("unit_price"), "external_line_id": raw.get("external_line_id")})
        now = self.clock.now()
        order = Order(
            id=self.world.next_id("order"), reference_id=reference,
            order_number=str(body.get("order_number") or reference), channel=channel,
            shipping_method=str(body["shipping_method"]), recipient=dict(recipient), products=products,
            type=kind, created=now, purchase_date=body.get("purchase_date"), updated=now,
            tags=list(body.get("tags") or []),
        )
        order.shipments.append(Shipment(self.world.next_id("shipment"), order, ShipmentStatus.NONE,
                                        now, now, now + FULFILMENT_PROMISE))
        self.world.orders[order.id] = order
        return order

    def _touch(self, shipment: Shipment, status: ShipmentStatus | None = None, detail: str | None = None) -> None:
        now = self.clock.now()
        if status is not None:
            shipment.status = status
        if detail is not None:
            shipment.details = [detail]
        shipment.updated = shipment.order.updated = now
        statuses = {s.status for s in shipment.order.shipments}
        if statuses <= {ShipmentStatus.CANCELLED}:
            shipment.order.status = OrderStatus.CANCELLED
        elif statuses <= {ShipmentStatus.COMPLETED, ShipmentStatus.CANCELLED}:
            shipment.order.status = OrderStatus.FULFILLED
        elif ShipmentStatus.COMPLETED in statuses:
            shipment.order.status = OrderStatus.PARTIALLY_FULFILLED
        elif statuses & {ShipmentStatus.EXCEPTION, ShipmentStatus.ON_HOLD}:
            shipment.order.status = OrderStatus.EXCEPTION
        else:
            shipment.order.status = OrderStatus.PROCESSING

    def cancel_shipment(self, shipment: Shipment) -> dict[str, Any]:
        if shipment.status is ShipmentStatus.CANCELLED:
            return {"action": "Cancel", "is_success": True, "reason": "Already cancelled", "shipment_id": shipment.id}
        if shipment.picked or shipment.status not in CANCELLABLE:
            reason = "Shipment is already picked, packed or shipped" if shipment.picked or \
                shipment.status in (ShipmentStatus.COMPLETED, ShipmentStatus.LABELED_CREATED) \
                else f"Shipment in status {shipment.status.value} cannot be cancelled"
            return {"action": "Cancel", "is_success": False, "reason": reason, "shipment_id": shipment.id}
        self._touch(shipment, ShipmentStatus.CANCELLED, "Cancelled")
        self.emit("order.shipment.cancelled", self.world.shipment_json(shipment))
        return {"action": "Cancel", "is_success": True, "reason": "", "shipment_id": shipment.id}

    def cancel_order(self, order_id: int) -> dict[str, Any]:
        order = self.order(order_id)
        # All or nothing: a partly picked order is not cancelled at all.
        blocked = [s for s in order.shipments if s.picked or
                   s.status not in CANCELLABLE | {ShipmentStatus.CANCELLED}]
        if blocked:
            results = [{"action": "Cancel", "is_success": False, "shipment_id": s.id,
                        "reason": "Shipment is already picked, packed or shipped"} for s in blocked]
        else:
            results = [self.cancel_shipment(s) for s in order.shipments]
        return {"order_id": order.id, "status": order.status.value,
                "canceled_shipment_results": results, "order": self.world.order_json(order)}

    def find_shipment(self, shipment_id: int) -> Shipment:
        for order in self.world.orders.values():
            for shipment in order.shipments:
                if shipment.id == shipment_id:
                    return shipment
        raise ShipBobError(404, {"shipmentId": [f"Shipment {shipment_id} not found"]})

    # warehouse
    def _open(self, order_id: int, action: str) -> Shipment:
        order = self.order(order_id)
        shipment = next((s for s in order.shipments if s.status not in
                         (ShipmentStatus.CANCELLED, ShipmentStatus.COMPLETED)), None)
        if shipment is None:
            raise ShipBobError(409, {"orderId": [f"nothing left to {action} on order {order_id}"]})
        return shipment

    def accept(self, order_id: int) -> Order:
        self._touch(self._open(order_id, "accept"), ShipmentStatus.PROCESSING)
        return self.order(order_id)

    def pick(self, order_id: int) -> Order:
        shipment = self._open(order_id, "pick")
        shipment.picked = True
        self._touch(shipment, ShipmentStatus.PROCESSING, "Picked")
        return self.order(order_id)

    def ship(self, order_id: int, carrier: str, tracking_number: str, service: str) -> Order:
        shipment = self._open(order_id, "ship")
        known = next((c for c in CARRIERS if c.name.lower() == carrier.lower()), None)
        if known is not None and not tracking_fits(known, tracking_number):
            raise ShipBobError(409, {"tracking_number": [f"{tracking_number!r} is not a {known.name} number"]})
        now = self.clock.now()
        shipment.picked = True
        shipment.tracking = Tracking(known.name if known else carrier, tracking_number, service, now)
        shipment.actual_fulfillment = now
        self._touch(shipment, ShipmentStatus.COMPLETED, "Shipped")
        self.emit("order.shipped", self.world.order_json(shipment.order))
        return shipment.order

    def deliver(self, order_id: int) -> Order:
        order = self.order(order_id)
        shipment = next((s for s in order.shipments if s.status is ShipmentStatus.COMPLETED), None)
        if shipment is None:
            raise ShipBobError(409, {"orderId": ["no shipped shipment to deliver"]})
        shipment.delivered = self.clock.now()
        self._touch(shipment, detail="Delivered")
        self.emit("order.shipment.delivered", self.world.shipment_json(shipment))
        return order

    def fail_stock(self, order_id: int) -> Order:
        shipment = self._open(order_id, "fail")
        self._touch(shipment, ShipmentStatus.EXCEPTION, "OutOfStock")
        self.emit("order.shipment.exception", self.world.shipment_json(shipment))
        return shipment.order

    def hold(self, order_id: int) -> Order:
        shipment = self._open(order_id, "hold")
        self._touch(shipment, ShipmentStatus.ON_HOLD, "InvalidAddress")
        self.emit("order.shipment.on_hold", self.world.shipment_json(shipment))
        return shipment.order

    def delay(self, order_id: int, hours: float) -> Order:
        shipment = self._open(order_id, "delay")
        shipment.estimated_fulfillment += timedelta(hours=hours)
        self._touch(shipment)
        return shipment.order

    # webhooks
    def subscribe(self, body: dict[str, Any]) -> Subscription:
        topics, url = body.get("topics"), body.get("url")
        if not isinstance(topics, list) or not topics or not set(topics) <= TOPICS:
            raise invalid("topics", f"topics must be a non-empty list of {sorted(TOPICS)}")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise invalid("url", "url must be an http(s) URL")
        secret = body.get("secret") or "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        if not isinstance(secret, str) or not secret.startswith("whsec_"):
            raise invalid("secret", "secret must be whsec_ followed by base64")
        try:
            base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            raise invalid("secret", "secret must be whsec_ followed by base64") from None
        sub = Subscription(self.world.next_id("webhook"), list(topics), url, secret, self.clock.now())
        self.world.subscriptions[sub.id] = sub
        return sub

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        for sub in self.world.subscriptions.values():
            if topic not in sub.topics:
                continue
            msg_id = "msg_" + secrets.token_hex(12)

            def resign(now: datetime, secret: str = sub.secret, msg_id: str = msg_id) -> dict[str, str]:
                stamp = int(now.timestamp())
                return {"webhook-timestamp": str(stamp), "webhook-signature": sign(secret, msg_id, stamp, body)}

            headers = {"content-type": "application/json", "webhook-id": msg_id,
                       "x-webhook-topic": topic, **resign(self.clock.now())}
            self.dispatcher.enqueue(sub.url, topic, body, headers, resign)
