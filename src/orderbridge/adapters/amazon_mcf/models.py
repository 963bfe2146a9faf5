"""Typed results of the Fulfillment Outbound API 2020-07-01 (pydantic v2).

Amazon's JSON becomes these models here and nowhere else. Field names are the model's
camelCase names in snake_case; unknown extra fields are kept; top-level results keep the
raw JSON in ``raw``. Status values stay strings: Amazon's own examples write them
upper-case ("PROCESSING") and real responses carry undocumented values, so parsing never
rejects a status; ``status`` properties compare case-insensitively against ``McfStatus``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "CreateItem",
    "CreateOrder",
    "DestinationAddress",
    "FulfillmentOrder",
    "FulfillmentOrderItem",
    "McfStatus",
    "OrderDetail",
    "OrderPage",
    "PackageTracking",
    "Shipment",
    "ShipmentItem",
    "ShipmentPackage",
    "ShippingSpeed",
    "TrackingEvent",
    "normalize_status",
]


class McfStatus(StrEnum):
    """``fulfillmentOrderStatus`` values (CamelCase as in the enum)."""

    NEW = "New"  # received, not yet validated
    RECEIVED = "Received"  # validated; can still be cancelled
    PLANNING = "Planning"  # planning the shipment; can still be cancelled
    PROCESSING = "Processing"  # picking began; cannot be cancelled
    COMPLETE = "Complete"  # everything shipped
    COMPLETE_PARTIALLED = "CompletePartialled"  # some shipped, the rest cancelled/unfulfillable
    CANCELLED = "Cancelled"  # cancelled
    UNFULFILLABLE = "Unfulfillable"  # no sellable stock
    INVALID = "Invalid"  # invalid request; nothing ships
    UNKNOWN = "Unknown"  # a value Amazon did not document


class ShippingSpeed(StrEnum):
    """``shippingSpeedCategory`` values we send."""

    STANDARD = "Standard"  # the slowest, cheapest
    EXPEDITED = "Expedited"  # faster
    PRIORITY = "Priority"  # fastest
    SCHEDULED_DELIVERY = "ScheduledDelivery"  # Japan only


_BY_FOLDED = {s.value.lower(): s for s in McfStatus}


def normalize_status(value: str | None) -> McfStatus:
    """Amazon's status string (any case, underscores tolerated) as ``McfStatus``."""
    folded = (value or "").replace("_", "").lower()
    return _BY_FOLDED.get(folded, McfStatus.UNKNOWN)


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class DestinationAddress(_Model):
    name: str
    address_line1: str
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    district_or_county: str | None = None
    state_or_region: str | None = None
    postal_code: str
    country_code: str
    phone: str | None = None


class CreateItem(_Model):
    seller_sku: str = Field(max_length=50)
    seller_fulfillment_order_item_id: str = Field(max_length=50)
    quantity: int = Field(ge=1)


class CreateOrder(_Model):
    """``CreateFulfillmentOrderRequest`` (the fields we use)."""

    seller_fulfillment_order_id: str = Field(max_length=40)
    displayable_order_id: str = Field(min_length=1, max_length=40)
    displayable_order_date: datetime
    displayable_order_comment: str = Field(max_length=750)
    shipping_speed_category: ShippingSpeed
    destination_address: DestinationAddress
    items: list[CreateItem] = Field(min_length=1, max_length=100)
    marketplace_id: str | None = None
    notification_emails: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["displayableOrderDate"] = self.displayable_order_date.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


class FulfillmentOrder(_Model):
    seller_fulfillment_order_id: str
    displayable_order_id: str | None = None
    displayable_order_date: datetime | None = None
    shipping_speed_category: str | None = None
    fulfillment_order_status: str
    status_updated_date: datetime | None = None
    received_date: datetime | None = None
    marketplace_id: str | None = None

    @property
    def status(self) -> McfStatus:
        return normalize_status(self.fulfillment_order_status)


class FulfillmentOrderItem(_Model):
    seller_sku: str
    seller_fulfillment_order_item_id: str
    quantity: int
    cancelled_quantity: int = 0
    unfulfillable_quantity: int = 0
    estimated_ship_date: datetime | None = None


class ShipmentItem(_Model):
    seller_sku: str
    seller_fulfillment_order_item_id: str
    quantity: int
    package_number: int | None = None


class ShipmentPackage(_Model):
    package_number: int
    carrier_code: str
    tracking_number: str | None = None
    amazon_fulfillment_tracking_number: str | None = None
    estimated_arrival_date: datetime | None = None


class Shipment(_Model):
    amazon_shipment_id: str
    fulfillment_center_id: str | None = None
    fulfillment_shipment_status: str
    shipping_date: datetime | None = None
    estimated_arrival_date: datetime | None = None
    fulfillment_shipment_item: list[ShipmentItem] = Field(default_factory=list)
    fulfillment_shipment_package: list[ShipmentPackage] = Field(default_factory=list)

    @property
    def shipped(self) -> bool:
        return self.fulfillment_shipment_status.upper() == "SHIPPED"

    @property
    def cancelled(self) -> bool:
        # The model lists CANCELLED_BY_FULFILLER; its prose says CancelledByFulfiller.
        return self.fulfillment_shipment_status.replace("_", "").upper().startswith("CANCELLEDBY")


class OrderDetail(_Model):
    """``getFulfillmentOrder``'s payload."""

    fulfillment_order: FulfillmentOrder
    fulfillment_order_items: list[FulfillmentOrderItem] = Field(default_factory=list)
    fulfillment_shipments: list[Shipment] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @property
    def status(self) -> McfStatus:
        return self.fulfillment_order.status

    @property
    def cancellable(self) -> bool:
        """Amazon cancels only while Received or Planning, and nothing may have shipped."""
        live = [s for s in self.fulfillment_shipments if not s.cancelled]
        return self.status in (McfStatus.RECEIVED, McfStatus.PLANNING) and not live

    @property
    def packages(self) -> list[ShipmentPackage]:
        """Every package of every shipment that left the warehouse."""
        return [p for s in self.fulfillment_shipments if s.shipped for p in s.fulfillment_shipment_package]


class OrderPage(_Model):
    """One page of ``listAllFulfillmentOrders``."""

    fulfillment_orders: list[FulfillmentOrder] = Field(default_factory=list)
    next_token: str | None = None


class TrackingEvent(_Model):
    event_date: datetime | None = None
    event_code: str | None = None
    event_description: str | None = None


class PackageTracking(_Model):
    """``getPackageTrackingDetails``'s payload."""

    package_number: int
    tracking_number: str | None = None
    carrier_code: str | None = None
    customer_tracking_link: str | None = None
    ship_date: datetime | None = None
    estimated_arrival_date: datetime | None = None
    current_status: str | None = None
    tracking_events: list[TrackingEvent] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)
