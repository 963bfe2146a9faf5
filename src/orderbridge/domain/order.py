"""The TikTok Shop order as the domain sees it: plain, typed, frozen values.

The TikTok adapter turns vendor JSON into these types (nothing here parses JSON). Amounts are
``Decimal``, times are aware UTC ``datetime``s (or ``None`` when TikTok gave none), and every
vocabulary TikTok may extend is kept as its raw string next to anything we interpret, so an
unknown value never crashes anything.

A TikTok line item is one *unit* (there is no quantity field): ``group_units`` turns units
into Shopify lines, a group per SKU and price, with the TikTok line ids it stands for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CombinedListingSku",
    "LineItem",
    "OrderKind",
    "Payment",
    "Recipient",
    "ShippingKind",
    "TikTokOrder",
    "TikTokStatus",
    "UnitGroup",
    "classify",
    "group_units",
    "is_at_least",
    "is_masked",
    "parse_status",
]

ZERO = Decimal("0")

# TikTok's vocabularies as sent on the wire (compared case-insensitively).
SHIPPING_TYPE_SELLER = "SELLER"
SHIPPING_TYPE_TIKTOK = "TIKTOK"
FULFILLMENT_BY_SELLER = "FULFILLMENT_BY_SELLER"
FULFILLMENT_BY_TIKTOK = "FULFILLMENT_BY_TIKTOK"
MASK_CHARACTER = "*"


class TikTokStatus(StrEnum):
    """A TikTok Shop order status (US)."""

    UNPAID = "UNPAID"  # placed, payment pending or declined; stock reserved; may auto-cancel
    ON_HOLD = "ON_HOLD"  # paid; one-hour remorse window, the seller must not ship yet
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"  # the seller must ship
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"  # split shipment: some units have tracking
    AWAITING_COLLECTION = "AWAITING_COLLECTION"  # every unit has tracking, no carrier scan yet
    IN_TRANSIT = "IN_TRANSIT"  # the carrier has scanned every package
    DELIVERED = "DELIVERED"  # delivered; the return window is open
    COMPLETED = "COMPLETED"  # the return window closed, or the order was fully refunded
    CANCELLED = "CANCELLED"  # every unit cancelled (the webhook spells it CANCEL)
    UNKNOWN = "UNKNOWN"  # a status this version does not know; the raw text is kept


# Spellings TikTok uses for the same status in other places.
_STATUS_ALIASES = {"CANCEL": TikTokStatus.CANCELLED}

# The happy path, in order. CANCELLED and UNKNOWN are not on it.
_HAPPY_PATH = (
    TikTokStatus.UNPAID,
    TikTokStatus.ON_HOLD,
    TikTokStatus.AWAITING_SHIPMENT,
    TikTokStatus.PARTIALLY_SHIPPING,
    TikTokStatus.AWAITING_COLLECTION,
    TikTokStatus.IN_TRANSIT,
    TikTokStatus.DELIVERED,
    TikTokStatus.COMPLETED,
)


def parse_status(raw: str) -> TikTokStatus:
    """Map TikTok's status text to a ``TikTokStatus``; anything unrecognised is ``UNKNOWN``.

    Case and surrounding spaces are ignored, and the webhook spelling ``CANCEL`` is
    ``CANCELLED``. Keep ``raw`` next to the result (``TikTokOrder.raw_status``).
    """
    text = raw.strip().upper()
    alias = _STATUS_ALIASES.get(text)
    if alias is not None:
        return alias
    try:
        return TikTokStatus(text)
    except ValueError:
        return TikTokStatus.UNKNOWN


def is_at_least(status: TikTokStatus, other: TikTokStatus) -> bool:
    """Whether ``status`` is ``other`` or beyond it along the happy path.

    ``UNPAID < ON_HOLD < AWAITING_SHIPMENT < PARTIALLY_SHIPPING < AWAITING_COLLECTION <
    IN_TRANSIT < DELIVERED < COMPLETED``. ``CANCELLED`` is off the path: it is "at least"
    only itself. ``UNKNOWN`` is never at least anything (we do not know where it is).
    """
    if status in _HAPPY_PATH and other in _HAPPY_PATH:
        return _HAPPY_PATH.index(status) >= _HAPPY_PATH.index(other)
    return status == other == TikTokStatus.CANCELLED


def is_masked(text: str) -> bool:
    """Whether TikTok masked this text with asterisks. For display only: never classify by it."""
    return MASK_CHARACTER in text


@dataclass(frozen=True, slots=True, kw_only=True)
class CombinedListingSku:
    """One component SKU of a virtual bundle (TikTok ``combined_listing_skus[]``)."""

    sku_id: str
    product_id: str = ""
    seller_sku: str = ""
    sku_count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class LineItem:
    """One unit of an order (TikTok ``line_items[]``).

    ``tax`` is the sum of the unit's ``item_tax[].tax_amount``; ``tax_rate`` is TikTok's rate
    when it gives exactly one (``None`` otherwise). Status and cancellation fields are TikTok's
    raw vocabulary.
    """

    id: str
    sku_id: str
    product_id: str = ""
    product_name: str = ""
    sku_name: str = ""
    seller_sku: str = ""
    original_price: Decimal = ZERO
    sale_price: Decimal = ZERO
    seller_discount: Decimal = ZERO
    platform_discount: Decimal = ZERO
    tax: Decimal = ZERO
    tax_rate: Decimal | None = None
    display_status: str = ""
    package_status: str = ""
    package_id: str = ""
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    cancel_user: str = ""
    cancel_reason: str = ""
    is_gift: bool = False
    combined_listing_skus: tuple[CombinedListingSku, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """The order's money as TikTok reports it (``payment``); a missing amount is 0."""

    currency: str = "USD"
    original_total_product_price: Decimal = ZERO
    seller_discount: Decimal = ZERO
    platform_discount: Decimal = ZERO
    sub_total: Decimal = ZERO
    original_shipping_fee: Decimal = ZERO
    shipping_fee_seller_discount: Decimal = ZERO
    shipping_fee_platform_discount: Decimal = ZERO
    shipping_fee_cofunded_discount: Decimal = ZERO
    shipping_fee: Decimal = ZERO
    product_tax: Decimal = ZERO
    shipping_fee_tax: Decimal = ZERO
    tax: Decimal = ZERO
    retail_delivery_fee: Decimal = ZERO
    item_insurance_fee: Decimal = ZERO
    item_insurance_tax: Decimal = ZERO
    handling_fee: Decimal = ZERO
    total_amount: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """The recipient address (``recipient_address``); ``city`` is district L3, ``state`` L1.

    ``masked`` is set by the adapter when TikTok masked the address (UNPAID, ON_HOLD,
    CANCELLED, long after completion, FBT).
    """

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_line3: str = ""
    address_line4: str = ""
    city: str = ""
    state: str = ""
    county: str = ""
    postal_code: str = ""
    region_code: str = ""
    full_address: str = ""
    masked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TikTokOrder:
    """A TikTok Shop order. Every ``datetime`` is aware (UTC) or ``None``."""

    id: str
    status: TikTokStatus
    raw_status: str = ""
    user_id: str = ""
    buyer_email: str = ""
    buyer_message: str = ""
    seller_note: str = ""
    create_time: datetime | None = None
    paid_time: datetime | None = None
    update_time: datetime | None = None
    rts_time: datetime | None = None
    collection_time: datetime | None = None
    delivery_time: datetime | None = None
    cancel_time: datetime | None = None
    request_cancel_time: datetime | None = None
    rts_sla_time: datetime | None = None
    tts_sla_time: datetime | None = None
    delivery_sla_time: datetime | None = None
    shipping_due_time: datetime | None = None
    collection_due_time: datetime | None = None
    delivery_due_time: datetime | None = None
    is_on_hold_order: bool = False
    is_sample_order: bool = False
    is_replacement_order: bool = False
    replaced_order_id: str = ""
    is_exchange_order: bool = False
    is_buyer_request_cancel: bool = False
    is_cod: bool = False
    has_updated_recipient_address: bool = False
    fulfillment_type: str = ""
    shipping_type: str = ""
    delivery_type: str = ""
    delivery_option_id: str = ""
    delivery_option_name: str = ""
    warehouse_id: str = ""
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    order_type: str = ""
    payment: Payment = Payment()
    recipient: Recipient | None = None
    line_items: tuple[LineItem, ...] = ()
    packages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A naive time here is a bug at the adapter boundary: refuse it where it happens.
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, datetime) and value.utcoffset() != timedelta(0):
                raise ValueError(f"TikTokOrder.{field.name} must be an aware UTC datetime")


class OrderKind(StrEnum):
    """Who ships an order; decides whether it is ours to fulfil."""

    SELLER_SHIPPED = "seller_shipped"  # the seller ships with their own carrier: ours
    TIKTOK_SHIPPED = "tiktok_shipped"  # the seller fulfils, TikTok Shipping buys the label
    FBT = "fbt"  # Fulfilled by TikTok: TikTok's warehouse holds the stock and ships
    UNKNOWN = "unknown"  # shipping/fulfilment type missing or new: never guess, raise it


# The brief's other name for the same vocabulary.
ShippingKind = OrderKind


def classify(order: TikTokOrder) -> OrderKind:
    """Classify by ``fulfillment_type`` and ``shipping_type`` (never by masked text).

    FULFILLMENT_BY_TIKTOK -> FBT; else shipping type TIKTOK -> TIKTOK_SHIPPED; SELLER ->
    SELLER_SHIPPED; anything else (including empty) -> UNKNOWN.
    """
    fulfillment = order.fulfillment_type.strip().upper()
    shipping = order.shipping_type.strip().upper()
    if fulfillment == FULFILLMENT_BY_TIKTOK:
        return OrderKind.FBT
    if shipping == SHIPPING_TYPE_TIKTOK:
        return OrderKind.TIKTOK_SHIPPED
    if shipping == SHIPPING_TYPE_SELLER:
        return OrderKind.SELLER_SHIPPED
    return OrderKind.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitGroup:
    """One Shopify line: the TikTok units of one SKU at one price.

    ``unit_price`` is the price before discounts (TikTok ``original_price``); discounts and
    tax are totals over the group's units. ``line_ids`` keep TikTok's order.
    """

    sku_id: str
    product_id: str
    seller_sku: str
    title: str
    variant_title: str
    unit_price: Decimal
    sale_price: Decimal
    quantity: int
    line_ids: tuple[str, ...]
    seller_discount: Decimal
    platform_discount: Decimal
    tax: Decimal
    tax_rate: Decimal | None

    @property
    def discount(self) -> Decimal:
        """Seller plus platform discount over the group's units."""
        return self.seller_discount + self.platform_discount


def _key(value: Decimal | None) -> Decimal | str | None:
    # Finite decimals compare by value (24.99 == 24.990); NaNs cannot, so use their text.
    if value is None or value.is_finite():
        return value
    return str(value)


def group_units(line_items: Iterable[LineItem]) -> tuple[UnitGroup, ...]:
    """Group units into Shopify lines: same ``sku_id``, same original and sale price.

    Groups come in the order of their first unit; ids within a group keep TikTok's order.
    The title is the product name (falling back to the seller SKU, then the SKU id); the
    tax rate is kept only when every unit of the group has the same one. Amounts are summed
    as given (``plan_money`` sanitises them first).
    """
    buckets: dict[tuple[str, Decimal | str | None, Decimal | str | None], list[LineItem]] = {}
    for item in line_items:
        key = (item.sku_id, _key(item.original_price), _key(item.sale_price))
        buckets.setdefault(key, []).append(item)
    groups = []
    for units in buckets.values():
        first = units[0]
        rates = {_key(unit.tax_rate) for unit in units}
        groups.append(
            UnitGroup(
                sku_id=first.sku_id,
                product_id=first.product_id,
                seller_sku=first.seller_sku,
                title=first.product_name or first.seller_sku or first.sku_id,
                variant_title=first.sku_name,
                unit_price=first.original_price,
                sale_price=first.sale_price,
                quantity=len(units),
                line_ids=tuple(unit.id for unit in units),
                seller_discount=sum((unit.seller_discount for unit in units), ZERO),
                platform_discount=sum((unit.platform_discount for unit in units), ZERO),
                tax=sum((unit.tax for unit in units), ZERO),
                tax_rate=first.tax_rate if len(rates) == 1 else None,
            )
        )
    return tuple(groups)
