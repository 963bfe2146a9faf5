"""The Shopify sandbox's order records: orders and their lines, taxes, shipping, payments,
refunds; fulfilment orders, holds and fulfilments; cancel jobs and order edits in progress.

Plain dataclasses, kept in the ``World`` (``state.py``) and mutated by the resolvers and
the control API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "EditSession",
    "FOLine",
    "Fulfillment",
    "FulfillmentOrder",
    "Hold",
    "HoldRelease",
    "Job",
    "LineItem",
    "Order",
    "Refund",
    "ShippingLine",
    "StagedCustomItem",
    "TaxLine",
    "Tracking",
    "Transaction",
]


@dataclass
class TaxLine:
    title: str
    rate: Decimal | None
    price: Decimal
    channel_liable: bool | None


@dataclass
class LineItem:
    id: int
    title: str
    sku: str | None
    variant_id: int | None
    quantity: int
    price: Decimal
    current_quantity: int = 0
    tax_lines: list[TaxLine] = field(default_factory=list)
    requires_shipping: bool = True
    taxable: bool = True
    custom_attributes: list[tuple[str, str]] = field(default_factory=list)
    variant_title: str | None = None
    vendor: str | None = None
    discount: Decimal = Decimal("0")
    claimed: int = 0  # units whose stock this order holds
    unit_discount: Decimal = Decimal("0")  # a fixed discount per unit added by an order edit
    unit_discount_title: str | None = None
    added_by_edit: bool = False  # no share of the order's discount code


@dataclass
class ShippingLine:
    id: int
    title: str
    price: Decimal
    code: str | None = None
    source: str | None = None
    tax_lines: list[TaxLine] = field(default_factory=list)


@dataclass
class Hold:
    id: int
    app_id: int
    handle: str
    reason: str
    reason_notes: str | None
    external_id: str | None = None
    placed_at: datetime | None = None  # sandbox clock (measurements read it)


@dataclass(frozen=True)
class HoldRelease:
    """One hold released (the shop's own record, for checks that must not trust an app):
    when, whose hold, released by which app, and the fulfilment order's status after it."""

    at: datetime
    order_id: int
    fulfillment_order_id: int
    hold_id: int
    handle: str
    hold_app_id: int
    released_by_app_id: int
    status_after: str


@dataclass
class FOLine:
    id: int
    line_item_id: int
    total: int
    remaining: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    status: str
    created_at: datetime
    updated_at: datetime
    lines: list[FOLine] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    request_status: str = "UNSUBMITTED"


@dataclass
class Tracking:
    company: str | None
    number: str | None
    url: str | None


@dataclass
class Fulfillment:
    id: int
    order_id: int
    name: str
    status: str
    created_at: datetime
    updated_at: datetime
    location_id: int
    lines: list[tuple[int, int, int]]  # (fulfillment line id, line item id, quantity)
    fulfillment_order_ids: list[int]
    tracking: list[Tracking] = field(default_factory=list)


@dataclass
class Transaction:
    id: int
    kind: str
    status: str
    gateway: str
    amount: Decimal
    created_at: datetime
    processed_at: datetime
    manual: bool = False
    test: bool = False


@dataclass
class Refund:
    id: int
    order_id: int
    created_at: datetime
    note: str | None
    lines: list[tuple[int, int, int, str, Decimal]]  # (id, line item id, qty, restock type, subtotal)
    shipping: Decimal
    total: Decimal
    transaction_ids: list[int] = field(default_factory=list)


@dataclass
class Order:
    id: int
    shop: str
    app_id: int
    number: int
    name: str
    currency: str
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    line_items: list[LineItem] = field(default_factory=list)
    shipping_lines: list[ShippingLine] = field(default_factory=list)
    tax_lines: list[TaxLine] = field(default_factory=list)  # order-level (only when lines have none)
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_attributes: list[tuple[str, str]] = field(default_factory=list)
    metafields: list[dict[str, Any]] = field(default_factory=list)
    source_name: str | None = None
    source_identifier: str | None = None
    source_url: str | None = None
    financial_status: str | None = None  # as given at creation (OrderCreateFinancialStatus)
    discount_code: str | None = None
    discount_amount: Decimal = Decimal("0")
    free_shipping: bool = False
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    customer: dict[str, Any] | None = None
    buyer_accepts_marketing: bool = False
    taxes_included: bool = False
    test: bool = False
    transactions: list[Transaction] = field(default_factory=list)
    fulfillment_order_ids: list[int] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    cancel_pending: bool = False
    closed_at: datetime | None = None
    staff_notes: list[str] = field(default_factory=list)
    # (visible from, searchable snapshot): the search index sees the newest visible one
    index: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Job:
    id: int
    shop: str
    done: bool = False


@dataclass
class EditSession:
    id: int
    order_id: int
    quantities: dict[int, int]  # line item id -> new quantity
    restock: dict[int, bool]
    added: list[tuple[int, int, int]] = field(default_factory=list)  # (calc id, variant id, qty)
    committed: bool = False
    # calc id of an added line -> (fixed discount per unit, description)
    discounts: dict[int, tuple[Decimal, str]] = field(default_factory=dict)
    custom_items: list[StagedCustomItem] = field(default_factory=list)  # orderEditAddCustomItem


@dataclass
class StagedCustomItem:
    """A custom line (no variant) staged by ``orderEditAddCustomItem``."""

    calc_id: int
    title: str
    price: Decimal
    quantity: int
    taxable: bool = True  # Shopify's default
    requires_shipping: bool = False  # Shopify's default for a custom item
