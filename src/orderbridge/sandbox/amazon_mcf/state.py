"""State of the Amazon MCF sandbox: the seller, LWA tokens, fulfilment orders, packages.

Written from the Fulfillment Outbound API 2020-07-01 model. Statuses follow the model's
enum; the warehouse (the control API) moves them. Rendering to Amazon's JSON is here too,
with the option of upper-case status values as in Amazon's own examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "AccessToken",
    "FulfillmentOrder",
    "Item",
    "McfStatus",
    "Package",
    "Seller",
    "Shipment",
    "ShipmentStatus",
    "World",
    "iso",
]

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)  # LWA access tokens live one hour
CANCELLABLE = frozenset({"Received", "Planning"})


class McfStatus(StrEnum):
    """``fulfillmentOrderStatus`` values of the model."""

    NEW = "New"  # received, not yet validated
    RECEIVED = "Received"  # validated; cancellable
    PLANNING = "Planning"  # being planned for shipment; cancellable
    PROCESSING = "Processing"  # picking began; no longer cancellable
    COMPLETE = "Complete"  # every item shipped
    COMPLETE_PARTIALLED = "CompletePartialled"  # some shipped, the rest cancelled/unfulfillable
    CANCELLED = "Cancelled"  # cancelled by the seller
    UNFULFILLABLE = "Unfulfillable"  # no sellable stock; nothing ships
    INVALID = "Invalid"  # bad address or items; nothing ships


class ShipmentStatus(StrEnum):
    """``fulfillmentShipmentStatus`` values."""

    PENDING = "PENDING"  # planned, not shipped
    SHIPPED = "SHIPPED"  # left the fulfilment centre
    CANCELLED_BY_FULFILLER = "CANCELLED_BY_FULFILLER"  # Amazon cancelled it
    CANCELLED_BY_SELLER = "CANCELLED_BY_SELLER"  # the seller cancelled it


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Seller:
    client_id: str
    client_secret: str
    refresh_token: str
    marketplace_id: str = "ATVPDKIKX0DER"  # amazon.com


@dataclass
class AccessToken:
    token: str
    expires: datetime


@dataclass
class Item:
    sku: str
    item_id: str
    quantity: int
    cancelled: int = 0
    unfulfillable: int = 0
    shipped: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.cancelled - self.unfulfillable - self.shipped


@dataclass
class Package:
    number: int
    carrier: str
    tracking_number: str
    amazon_tracking_number: str
    ship_date: datetime
    eta: datetime
    status: str = "IN_TRANSIT"
    events: list[tuple[datetime, str, str]] = field(default_factory=list)


@dataclass
class Shipment:
    id: str
    center: str
    status: ShipmentStatus
    items: list[tuple[Item, int, int]]  # (item, quantity, package number)
    packages: list[Package]
    shipping_date: datetime
    eta: datetime


@dataclass
class FulfillmentOrder:
    id: str  # sellerFulfillmentOrderId
    displayable_id: str
    displayable_date: str
    comment: str
    speed: str
    address: dict[str, Any]
    items: list[Item]
    received: datetime
    status_updated: datetime
    status: str = McfStatus.NEW.value
    action: str = "Ship"
    policy: str = "FillOrKill"
    marketplace_id: str = ""
    emails: list[str] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    ship_estimate: datetime | None = None


class World:
    """Everything the sandbox knows."""

    def __init__(self, seed: int) -> None:
        tag = f"{seed:04d}"  # credentials are stable for a seed, like every sandbox id
        self.seller = Seller(
            client_id=f"amzn1.application-oa2-client.sandbox{tag}",
            client_secret=f"amzn1.oa2-cs.v1.sandbox-secret-{tag}",
            refresh_token=f"Atzr|sandbox-refresh-{tag}",
        )
        self.tokens: dict[str, AccessToken] = {}
        self.orders: dict[str, FulfillmentOrder] = {}
        self.packages: dict[int, Package] = {}
        self.uppercase_statuses = False
        self._counter = 0

    def next_number(self) -> int:
        self._counter += 1
        return self._counter

    def touch(self, order: FulfillmentOrder, now: datetime, status: str | None = None) -> None:
        if status is not None:
            order.status = status
        order.status_updated = now

    # rendering
    def status_text(self, status: str) -> str:
        return status.upper() if self.uppercase_statuses else status

    def order_json(self, order: FulfillmentOrder) -> dict[str, Any]:
        return {
            "sellerFulfillmentOrderId": order.id,
            "marketplaceId": order.marketplace_id or self.seller.marketplace_id,
            "displayableOrderId": order.displayable_id,
            "displayableOrderDate": order.displayable_date,
            "displayableOrderComment": order.comment,
            "shippingSpeedCategory": order.speed,
            "destinationAddress": order.address,
            "fulfillmentAction": order.action,
            "fulfillmentPolicy": order.policy,
            "receivedDate": iso(order.received),
            "fulfillmentOrderStatus": self.status_text(order.status),
            "statusUpdatedDate": iso(order.status_updated),
            "notificationEmails": order.emails,
        }

    def detail_json(self, order: FulfillmentOrder) -> dict[str, Any]:
        items = [{
            "sellerSku": i.sku, "sellerFulfillmentOrderItemId": i.item_id, "quantity": i.quantity,
            "cancelledQuantity": i.cancelled, "unfulfillableQuantity": i.unfulfillable,
            "estimatedShipDate": iso(order.ship_estimate),
        } for i in order.items]
        shipments = [{
            "amazonShipmentId": s.id, "fulfillmentCenterId": s.center,
            "fulfillmentShipmentStatus": s.status.value,
            "shippingDate": iso(s.shipping_date), "estimatedArrivalDate": iso(s.eta),
            "fulfillmentShipmentItem": [{
                "sellerSku": item.sku, "sellerFulfillmentOrderItemId": item.item_id,
                "quantity": qty, "packageNumber": number,
            } for item, qty, number in s.items],
            "fulfillmentShipmentPackage": [{
                "packageNumber": p.number, "carrierCode": p.carrier, "trackingNumber": p.tracking_number,
                "amazonFulfillmentTrackingNumber": p.amazon_tracking_number,
                "estimatedArrivalDate": iso(p.eta),
            } for p in s.packages],
        } for s in order.shipments]
        return {
            "fulfillmentOrder": self.order_json(order),
            "fulfillmentOrderItems": items,
            "fulfillmentShipments": shipments,
            "returnItems": [],
            "returnAuthorizations": [],
        }

    def tracking_json(self, package: Package) -> dict[str, Any]:
        return {
            "packageNumber": package.number,
            "trackingNumber": package.tracking_number,
            "carrierCode": package.carrier,
            "customerTrackingLink": f"https://www.swiship.com/track?id={package.amazon_tracking_number}",
            "shipDate": iso(package.ship_date),
            "estimatedArrivalDate": iso(package.eta),
            "currentStatus": package.status,
            "trackingEvents": [
                {"eventDate": iso(at), "eventCode": code, "eventDescription": text}
                for at, code, text in package.events
            ],
        }
