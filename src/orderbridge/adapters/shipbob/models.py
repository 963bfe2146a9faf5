"""Typed results of the ShipBob API (pydantic v2).

ShipBob's JSON (already snake_case) becomes these models here and nowhere else; unknown
extra fields are kept; top-level results keep their raw JSON in ``raw``. Statuses stay
strings (ShipBob adds values between versions); ``ShipmentStatus`` names the ones we act on.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CancelOutcome",
    "Channel",
    "NewOrder",
    "NewProduct",
    "Order",
    "OrderPage",
    "Recipient",
    "RecipientAddress",
    "Shipment",
    "ShipmentStatus",
    "StatusDetail",
    "Tracking",
    "WebhookSubscription",
]


class ShipmentStatus(StrEnum):
    """Shipment statuses (``Orders.OrderStatusEnum``) we act on."""

    NONE = "None"  # received, not yet processing
    PROCESSING = "Processing"  # being fulfilled
    COMPLETED = "Completed"  # left ShipBob (not delivered)
    EXCEPTION = "Exception"  # e.g. out of stock
    ON_HOLD = "OnHold"  # bad address, tariff codes, manual hold
    CANCELLED = "Cancelled"  # cancelled
    LABELED_CREATED = "LabeledCreated"  # label printed
    IMPORT_REVIEW = "ImportReview"  # held for review


# Status details that mean the warehouse already has the goods in hand.
_HANDLED = frozenset({"picked", "packed", "labeled", "labelcreated", "shipped", "delivered"})
_OPEN = frozenset({ShipmentStatus.NONE, ShipmentStatus.PROCESSING, ShipmentStatus.EXCEPTION,
                   ShipmentStatus.ON_HOLD, ShipmentStatus.IMPORT_REVIEW})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Channel(_Model):
    id: int
    name: str
    application_name: str | None = None
    scopes: list[str] = Field(default_factory=list)


class StatusDetail(_Model):
    name: str | None = None
    description: str | None = None


class Tracking(_Model):
    carrier: str | None = None
    tracking_number: str | None = None
    carrier_service: str | None = None
    tracking_url: str | None = None
    shipping_date: datetime | None = None


class Shipment(_Model):
    id: int
    order_id: int | None = None
    reference_id: str | None = None
    status: str
    status_details: list[StatusDetail] = Field(default_factory=list)
    tracking: Tracking | None = None
    created_date: datetime | None = None
    last_update_at: datetime | None = None
    estimated_fulfillment_date: datetime | None = None
    actual_fulfillment_date: datetime | None = None
    delivery_date: datetime | None = None

    @property
    def picked(self) -> bool:
        """Whether the warehouse has begun handling the goods (picked, packed, labelled, shipped)."""
        details = {(d.name or "").replace(" ", "").lower() for d in self.status_details}
        return bool(details & _HANDLED) or self.status in (
            ShipmentStatus.COMPLETED, ShipmentStatus.LABELED_CREATED) or self.tracking is not None

    @property
    def cancellable(self) -> bool:
        """ShipBob cancels a shipment only before it is picked, packed or shipped."""
        return self.status in _OPEN and not self.picked

    @property
    def has_tracking(self) -> bool:
        return self.tracking is not None and bool(self.tracking.tracking_number)


class Order(_Model):
    id: int
    reference_id: str
    order_number: str | None = None
    status: str
    created_date: datetime | None = None
    last_updated_date: datetime | None = None
    shipping_method: str | None = None
    shipments: list[Shipment] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @property
    def cancellable(self) -> bool:
        """Every live shipment can still be stopped (and at least one is live)."""
        live = [s for s in self.shipments if s.status != ShipmentStatus.CANCELLED]
        return bool(live) and all(s.cancellable for s in live)


class OrderPage(_Model):
    """One page of ``GET /order``."""

    orders: list[Order]
    page: int
    total_pages: int
    next_page: str | None = None


class CancelOutcome(_Model):
    """One entry of ``canceled_shipment_results``."""

    action: str | None = None
    is_success: bool
    reason: str | None = None
    shipment_id: int | None = None


class WebhookSubscription(_Model):
    id: int
    topics: list[str]
    url: str
    secret: str | None = None


class RecipientAddress(_Model):
    address1: str
    address2: str | None = None
    company_name: str | None = None
    city: str
    state: str | None = None
    country: str
    zip_code: str | None = None


class Recipient(_Model):
    name: str
    address: RecipientAddress
    email: str | None = None
    phone_number: str | None = None


class NewProduct(_Model):
    reference_id: str
    quantity: int = Field(ge=1)
    name: str | None = None
    sku: str | None = None
    external_line_id: int | None = None


class NewOrder(_Model):
    """``POST /order`` body (the fields we use)."""

    reference_id: str
    order_number: str | None = None
    shipping_method: str
    type: str = "DTC"
    recipient: Recipient
    products: list[NewProduct] = Field(min_length=1)
    purchase_date: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return data
