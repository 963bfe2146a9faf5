"""State of the ShipBob sandbox (API version 2026-01): token, channels, orders, shipments,
webhook subscriptions, and their JSON as the API renders it (snake_case)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "API_VERSION",
    "Channel",
    "Order",
    "OrderStatus",
    "Shipment",
    "ShipmentStatus",
    "Subscription",
    "World",
    "iso",
]

API_VERSION = "2026-01"


class OrderStatus(StrEnum):
    """``Orders.OrderStatus``."""

    PROCESSING = "Processing"  # at ShipBob, not fully shipped
    EXCEPTION = "Exception"  # a shipment is in exception (e.g. out of stock)
    PARTIALLY_FULFILLED = "PartiallyFulfilled"  # some shipments left
    FULFILLED = "Fulfilled"  # every shipment left ShipBob
    CANCELLED = "Cancelled"  # cancelled
    IMPORT_REVIEW = "ImportReview"  # held for review after import


class ShipmentStatus(StrEnum):
    """Shipment statuses (``Orders.OrderStatusEnum``)."""

    NONE = "None"  # received, not yet processing
    PROCESSING = "Processing"  # being fulfilled (picked and packed are status details)
    COMPLETED = "Completed"  # left ShipBob (not delivered)
    EXCEPTION = "Exception"  # e.g. out of stock
    ON_HOLD = "OnHold"  # bad address, tariff codes, manual hold
    CANCELLED = "Cancelled"  # cancelled
    LABELED_CREATED = "LabeledCreated"  # label printed
    IMPORT_REVIEW = "ImportReview"  # held for review


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


@dataclass
class Channel:
    id: int
    name: str
    application_name: str
    scopes: list[str]


@dataclass
class Tracking:
    carrier: str
    tracking_number: str
    carrier_service: str
    shipping_date: datetime


@dataclass
class Shipment:
    id: int
    order: Order
    status: ShipmentStatus
    created: datetime
    updated: datetime
    estimated_fulfillment: datetime
    details: list[str] = field(default_factory=list)  # status_details names, e.g. Picked
    picked: bool = False
    tracking: Tracking | None = None
    actual_fulfillment: datetime | None = None
    delivered: datetime | None = None


@dataclass
class Order:
    id: int
    reference_id: str
    order_number: str
    channel: Channel
    shipping_method: str
    recipient: dict[str, Any]
    products: list[dict[str, Any]]
    type: str
    created: datetime
    purchase_date: str | None
    updated: datetime
    status: OrderStatus = OrderStatus.PROCESSING
    tags: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)


@dataclass
class Subscription:
    id: int
    topics: list[str]
    url: str
    secret: str
    created: datetime


class World:
    """Everything the sandbox knows."""

    def __init__(self, seed: int) -> None:
        self.token = f"sbpat_sandbox_{seed:04d}_personal_access_token"
        self.channels = [
            Channel(100101, "OrderBridge", "OrderBridge", ["orders_read", "orders_write",
                                                           "fulfillments_read", "webhooks_read",
                                                           "webhooks_write"]),
            Channel(100102, "Matcha Shop (Shopify)", "ShipBob's Shopify app", ["orders_read"]),
        ]
        self.orders: dict[int, Order] = {}
        self.subscriptions: dict[int, Subscription] = {}
        self._next = {"order": 31000000, "shipment": 52000000, "product": 8800000, "webhook": 700}

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def channel(self, channel_id: int) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def shipment_json(self, s: Shipment) -> dict[str, Any]:
        tracking = None
        if s.tracking is not None:
            tracking = {
                "carrier": s.tracking.carrier, "tracking_number": s.tracking.tracking_number,
                "carrier_service": s.tracking.carrier_service,
                "tracking_url": f"https://tracking.shipbob.com/{s.tracking.tracking_number}",
                "shipping_date": iso(s.tracking.shipping_date), "bol": None, "scac": None,
                "pro_number": None,
            }
        return {
            "id": s.id, "order_id": s.order.id, "reference_id": s.order.reference_id,
            "recipient": s.order.recipient, "created_date": iso(s.created),
            "last_update_at": iso(s.updated), "status": s.status.value,
            "status_details": [{"name": d, "description": d} for d in s.details],
            "location": {"id": 1, "name": "Cicero (IL)"},
            "tracking": tracking,
            "products": [{"reference_id": p["reference_id"], "sku": p.get("sku") or p["reference_id"],
                          "quantity": p["quantity"]} for p in s.order.products],
            "estimated_fulfillment_date": iso(s.estimated_fulfillment),
            "actual_fulfillment_date": iso(s.actual_fulfillment),
            "delivery_date": iso(s.delivered),
            "is_tracking_uploaded": False,
            "ship_option": s.order.shipping_method,
        }

    def order_json(self, o: Order) -> dict[str, Any]:
        return {
            "id": o.id, "reference_id": o.reference_id, "order_number": o.order_number,
            "created_date": iso(o.created), "purchase_date": o.purchase_date,
            "last_updated_date": iso(o.updated), "status": o.status.value, "type": o.type,
            "channel": {"id": o.channel.id, "name": o.channel.name},
            "shipping_method": o.shipping_method, "recipient": o.recipient,
            "products": o.products, "tags": o.tags,
            "shipments": [self.shipment_json(s) for s in o.shipments],
        }
