"""Typed results of the Shopify operations (pydantic v2).

Shopify's JSON becomes these models here and nowhere else. Field names are the GraphQL
names in snake_case (``displayFinancialStatus`` -> ``display_financial_status``);
connections (``{nodes: [...]}``) become plain lists; unknown extra fields are kept, and
every top-level result keeps the raw JSON it was built from in ``raw``.

Statuses Shopify may extend (financial, fulfilment, hold reasons...) stay strings: a new
value must not break parsing. The vocabularies *we send* are ``StrEnum``s.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "Attribute",
    "CancelResult",
    "CreatedOrder",
    "FulfillmentHold",
    "FulfillmentHoldReason",
    "FulfillmentOrder",
    "FulfillmentOrderLineItem",
    "FulfillmentOrderRef",
    "FulfillmentResult",
    "HoldResult",
    "Job",
    "Location",
    "Money",
    "MoneyBag",
    "OrderCancelReason",
    "OrderFulfillment",
    "OrderLineItem",
    "OrderSnapshot",
    "OrderSummary",
    "PaymentResult",
    "RestockType",
    "ShopInfo",
    "TrackingInfo",
    "UpdatedOrder",
    "Variant",
    "WebhookSubscription",
]


class OrderCancelReason(StrEnum):
    """``OrderCancelReason`` values we send."""

    CUSTOMER = "CUSTOMER"  # the buyer cancelled
    DECLINED = "DECLINED"  # payment declined / never paid
    FRAUD = "FRAUD"  # fraud
    INVENTORY = "INVENTORY"  # out of stock
    OTHER = "OTHER"  # anything else
    STAFF = "STAFF"  # a staff error


class FulfillmentHoldReason(StrEnum):
    """``FulfillmentHoldReason`` values we send."""

    AWAITING_PAYMENT = "AWAITING_PAYMENT"  # TikTok has not collected payment yet
    HIGH_RISK_OF_FRAUD = "HIGH_RISK_OF_FRAUD"  # flagged as fraud risk
    INCORRECT_ADDRESS = "INCORRECT_ADDRESS"  # address must be fixed first
    INVENTORY_OUT_OF_STOCK = "INVENTORY_OUT_OF_STOCK"  # no stock to ship
    UNKNOWN_DELIVERY_DATE = "UNKNOWN_DELIVERY_DATE"  # delivery date unknown
    OTHER = "OTHER"  # e.g. the TikTok cancellation window


class RestockType(StrEnum):
    """``RefundLineItemRestockType`` values we send."""

    NO_RESTOCK = "NO_RESTOCK"  # the units do not come back to stock
    CANCEL = "CANCEL"  # unfulfilled units go back to stock
    RETURN = "RETURN"  # fulfilled units came back and go to stock


def _nodes(value: Any) -> Any:
    """Accept a connection (``{"nodes": [...]}`` or ``{"edges": [{"node": ...}]}``) or a list."""
    if isinstance(value, dict):
        if "nodes" in value:
            return value["nodes"] or []
        if "edges" in value:
            return [e.get("node") for e in value["edges"] or [] if isinstance(e, dict)]
    return [] if value is None else value


class ShopifyModel(BaseModel):
    """Base: camelCase aliases, extra fields allowed."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


class RawResult(ShopifyModel):
    """A top-level result; ``raw`` is the JSON it was parsed from."""

    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @classmethod
    def from_raw(cls, payload: dict[str, Any]) -> Self:
        """Parse ``payload`` and keep it."""
        model = cls.model_validate(payload)
        model.raw = payload
        return model


class IdRef(ShopifyModel):
    """``{ id }`` of a related object."""

    id: str


class Money(ShopifyModel):
    """An amount in one currency."""

    amount: Decimal
    currency_code: str


class MoneyBag(ShopifyModel):
    """A ``MoneyBag``; we select the shop currency only."""

    shop_money: Money


class Attribute(ShopifyModel):
    """A custom attribute (``key``/``value``)."""

    key: str
    value: str | None = None


class ShopInfo(RawResult):
    """The store and the scopes granted to our token."""

    id: str
    name: str
    myshopify_domain: str | None = None
    currency_code: str | None = None
    iana_timezone: str | None = None
    access_scopes: list[str] = Field(default_factory=list)


class Location(ShopifyModel):
    """A location of the store."""

    id: str
    name: str
    is_active: bool | None = None
    fulfills_online_orders: bool | None = None


class OrderLineItem(ShopifyModel):
    """A line of an order."""

    id: str
    sku: str | None = None
    title: str | None = None
    quantity: int
    current_quantity: int | None = None
    variant: IdRef | None = None
    custom_attributes: list[Attribute] = Field(default_factory=list)

    @property
    def variant_id(self) -> str | None:
        """The variant's id; None for a custom line (or a deleted variant)."""
        return self.variant.id if self.variant else None


class CreatedOrder(RawResult):
    """What ``orderCreate`` returned about the new order."""

    id: str
    name: str
    created_at: datetime | None = None
    source_identifier: str | None = None
    display_financial_status: str | None = None
    display_fulfillment_status: str | None = None
    total_price_set: MoneyBag | None = None
    total_outstanding_set: MoneyBag | None = None
    line_items: Annotated[list[OrderLineItem], BeforeValidator(_nodes)] = Field(default_factory=list)


class UpdatedOrder(RawResult):
    """What ``orderUpdate`` returned."""

    id: str
    tags: list[str] = Field(default_factory=list)
    note: str | None = None
    email: str | None = None


class FulfillmentHold(ShopifyModel):
    """A hold on a fulfilment order."""

    id: str
    handle: str | None = None
    reason: str | None = None
    held_by_requesting_app: bool | None = None


class FulfillmentOrderLineItem(ShopifyModel):
    """A line of a fulfilment order and the order line it belongs to."""

    id: str
    remaining_quantity: int
    total_quantity: int | None = None
    line_item: IdRef


class _AssignedLocation(ShopifyModel):
    location: IdRef | None = None


class FulfillmentOrder(ShopifyModel):
    """A fulfilment order with its holds and lines."""

    id: str
    status: str
    request_status: str | None = None
    assigned_location: _AssignedLocation | None = None
    fulfillment_holds: list[FulfillmentHold] = Field(default_factory=list)
    line_items: Annotated[list[FulfillmentOrderLineItem], BeforeValidator(_nodes)] = Field(default_factory=list)

    @property
    def location_id(self) -> str | None:
        """The assigned location's id, when visible."""
        loc = self.assigned_location
        return loc.location.id if loc and loc.location else None

    def holds_with_handle(self, handle: str) -> list[FulfillmentHold]:
        """Holds carrying ``handle`` (ours, when it is our app's handle)."""
        return [h for h in self.fulfillment_holds if h.handle == handle]


class TrackingInfo(ShopifyModel):
    """A tracking number of a fulfilment."""

    company: str | None = None
    number: str | None = None
    url: str | None = None


class _FulfillmentLine(ShopifyModel):
    line_item: IdRef
    quantity: int | None = None


class OrderFulfillment(ShopifyModel):
    """A fulfilment (shipment) of an order."""

    id: str
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tracking_info: list[TrackingInfo] = Field(default_factory=list)
    fulfillment_line_items: Annotated[list[_FulfillmentLine], BeforeValidator(_nodes)] = Field(
        default_factory=list
    )


class OrderSnapshot(RawResult):
    """The order as the engine observes it."""

    id: str
    name: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source_name: str | None = None
    source_identifier: str | None = None
    tags: list[str] = Field(default_factory=list)
    note: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed: bool | None = None
    display_financial_status: str | None = None
    display_fulfillment_status: str | None = None
    total_price_set: MoneyBag | None = None
    total_outstanding_set: MoneyBag | None = None
    current_total_price_set: MoneyBag | None = None
    current_total_tax_set: MoneyBag | None = None
    custom_attributes: list[Attribute] = Field(default_factory=list)
    line_items: Annotated[list[OrderLineItem], BeforeValidator(_nodes)] = Field(default_factory=list)
    fulfillment_orders: Annotated[list[FulfillmentOrder], BeforeValidator(_nodes)] = Field(default_factory=list)
    fulfillments: Annotated[list[OrderFulfillment], BeforeValidator(_nodes)] = Field(default_factory=list)
    # True when a page size cut a list short (more lines or fulfilment orders exist).
    truncated: bool = False


class OrderFulfillmentOrders(RawResult):
    """The fulfilment orders of one order (the lean read that finds what to hold)."""

    id: str
    fulfillment_orders: Annotated[list[FulfillmentOrder], BeforeValidator(_nodes)] = Field(default_factory=list)
    # True when a page size cut a list short (more fulfilment orders or lines exist).
    truncated: bool = False


class OrderSummary(ShopifyModel):
    """An order found by a search."""

    id: str
    name: str
    tags: list[str] = Field(default_factory=list)
    source_identifier: str | None = None
    created_at: datetime | None = None
    cancelled_at: datetime | None = None


class Variant(ShopifyModel):
    """A product variant (for SKU linking)."""

    id: str
    sku: str | None = None
    title: str | None = None
    product: dict[str, Any] | None = None
    inventory_item: IdRef | None = None

    @property
    def product_title(self) -> str | None:
        """The product's title."""
        value = (self.product or {}).get("title")
        return str(value) if value is not None else None

    @property
    def inventory_item_id(self) -> str | None:
        """The inventory item's id."""
        return self.inventory_item.id if self.inventory_item else None


class Job(RawResult):
    """An asynchronous job (``orderCancel`` runs as one)."""

    id: str
    done: bool


class CancelResult(RawResult):
    """``orderCancel`` accepted: the cancellation runs as ``job``."""

    job: Job | None = None


class HoldResult(RawResult):
    """``fulfillmentOrderHold``: the hold placed and the fulfilment order(s)."""

    fulfillment_hold: FulfillmentHold | None = None
    fulfillment_order: IdRef | None = None
    remaining_fulfillment_order: IdRef | None = None


class FulfillmentOrderRef(RawResult):
    """A fulfilment order after a hold release or a cancellation request."""

    id: str
    status: str | None = None
    request_status: str | None = None
    fulfillment_holds: list[FulfillmentHold] = Field(default_factory=list)


class FulfillmentResult(RawResult):
    """``fulfillmentCreate``: the new fulfilment."""

    id: str
    status: str | None = None
    created_at: datetime | None = None
    tracking_info: list[TrackingInfo] = Field(default_factory=list)


class PaymentResult(RawResult):
    """``orderMarkAsPaid`` / ``orderCreateManualPayment``: the order afterwards."""

    id: str
    display_financial_status: str | None = None
    total_outstanding_set: MoneyBag | None = None


class WebhookSubscription(RawResult):
    """A webhook subscription."""

    id: str
    topic: str
    uri: str | None = None
    format: str | None = None
