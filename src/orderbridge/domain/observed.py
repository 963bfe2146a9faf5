"""What ``decide()`` is given besides the link's memory: the current truth, as domain values.

The adapters build these from fresh reads (TikTok order detail, cancellations, returns, the
Shopify order with its fulfilment orders and fulfilments, the SKU links, the cached provider
list, the 3PL order). ``decide`` never fetches anything itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from orderbridge.domain.order import TikTokOrder

__all__ = [
    "CLOSED_FULFILLMENT_ORDER_STATUSES",
    "Cancellation",
    "CancellationStatus",
    "CancellationType",
    "FulfillmentStatus",
    "Observed",
    "ReturnRecord",
    "ShippingProviders",
    "ShopifyFulfillment",
    "ShopifyFulfillmentLine",
    "ShopifyFulfillmentOrder",
    "ShopifyHold",
    "ShopifyLineItem",
    "ShopifyOrderView",
    "SkuResolution",
    "SkuState",
    "ThreePLPackage",
    "ThreePLView",
    "parse_cancellation_status",
]

# Shopify fulfilment order statuses on which a hold can no longer be placed.
CLOSED_FULFILLMENT_ORDER_STATUSES = frozenset({"CLOSED", "CANCELLED", "INCOMPLETE"})
# A fulfilment order a fulfilment service (3PL app) has accepted and is working on.
IN_PROGRESS = "IN_PROGRESS"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyHold:
    """A fulfilment hold: ``handle`` tells whose it is (ours is the policy's hold handle)."""

    id: str
    handle: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyFulfillmentOrder:
    """A Shopify fulfilment order; ``status`` is Shopify's (OPEN, ON_HOLD, IN_PROGRESS, ...)."""

    id: str
    status: str = "OPEN"
    fulfillment_service: bool = False  # assigned to a fulfilment service (a 3PL app)
    location_id: str = ""  # the assigned location (gid), when it was read
    holds: tuple[ShopifyHold, ...] = ()

    @property
    def is_open(self) -> bool:
        """Whether it can still be held or released (not closed, cancelled, incomplete)."""
        return self.status.upper() not in CLOSED_FULFILLMENT_ORDER_STATUSES

    def holds_with(self, handle: str) -> tuple[ShopifyHold, ...]:
        """The holds placed under ``handle``."""
        return tuple(h for h in self.holds if h.handle == handle)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyLineItem:
    """A Shopify line; ``variant_id`` is ``None`` for a custom line (an unmapped SKU).

    ``tiktok_sku_id`` is the custom attribute we put on every line we create.
    """

    id: str
    sku: str = ""
    variant_id: str | None = None
    quantity: int = 1
    current_quantity: int = 1
    tiktok_sku_id: str = ""


class FulfillmentStatus(StrEnum):
    """A Shopify fulfilment's status, as far as tracking is concerned."""

    SUCCESS = "success"  # the goods left (with or without tracking)
    CANCELLED = "cancelled"  # the fulfilment was cancelled in Shopify
    OTHER = "other"  # pending, open, error, failure: not a shipment (yet)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyFulfillmentLine:
    """``quantity`` units of Shopify line ``line_item_id`` in one fulfilment."""

    line_item_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyFulfillment:
    """A Shopify fulfilment with its tracking (company as the merchant named it)."""

    id: str
    status: FulfillmentStatus = FulfillmentStatus.SUCCESS
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tracking_company: str = ""
    tracking_numbers: tuple[str, ...] = ()
    line_items: tuple[ShopifyFulfillmentLine, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyOrderView:
    """The Shopify order as fetched now. ``exists`` is false when it was deleted."""

    id: str
    exists: bool = True
    name: str = ""
    cancelled_at: datetime | None = None
    cancel_job_pending: bool = False
    financial_status: str = "PENDING"  # displayFinancialStatus
    total_outstanding: Decimal = Decimal("0")
    # currentTotalPriceSet / currentTotalTaxSet; None when the read did not ask for them.
    current_total: Decimal | None = None
    current_tax: Decimal | None = None
    tags: tuple[str, ...] = ()
    line_items: tuple[ShopifyLineItem, ...] = ()
    fulfillment_orders: tuple[ShopifyFulfillmentOrder, ...] = ()
    fulfillments: tuple[ShopifyFulfillment, ...] = ()
    has_shipping_address: bool = False

    @property
    def shipped(self) -> tuple[ShopifyFulfillment, ...]:
        """The successful (not cancelled) fulfilments."""
        return tuple(f for f in self.fulfillments if f.status is FulfillmentStatus.SUCCESS)


class CancellationType(StrEnum):
    """TikTok ``cancel_type``."""

    CANCEL = "CANCEL"  # by the seller or the system: already decided
    BUYER_CANCEL = "BUYER_CANCEL"  # the buyer's: a request the seller reviews


class CancellationStatus(StrEnum):
    """TikTok ``cancel_status``, normalised (``_CANCEL`` and ``_CANCELLED`` are one)."""

    PENDING = "PENDING"  # CANCELLATION_REQUEST_PENDING: awaiting the seller
    SUCCESS = "SUCCESS"  # CANCELLATION_REQUEST_SUCCESS: approved, refund under way
    WITHDRAWN = "WITHDRAWN"  # CANCELLATION_REQUEST_CANCEL(LED): withdrawn or rejected
    COMPLETE = "COMPLETE"  # CANCELLATION_REQUEST_COMPLETE: done
    UNKNOWN = "UNKNOWN"  # anything else (raw kept)


def parse_cancellation_status(raw: str) -> CancellationStatus:
    """Normalise TikTok's cancellation status text (both ``_CANCEL`` spellings)."""
    text = raw.strip().upper().removeprefix("CANCELLATION_REQUEST_")
    if text in ("CANCEL", "CANCELLED", "CANCELED"):
        return CancellationStatus.WITHDRAWN
    try:
        return CancellationStatus(text)
    except ValueError:
        return CancellationStatus.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """A TikTok cancellation record (whole order or some line items)."""

    cancel_id: str
    type: CancellationType
    status: CancellationStatus
    raw_status: str = ""
    role: str = ""  # BUYER, SELLER or SYSTEM
    reason: str = ""  # reason key
    reason_text: str = ""
    line_item_ids: tuple[str, ...] = ()
    deadline: datetime | None = None  # seller_next_action_response.deadline


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRecord:
    """A TikTok return or refund; ``refunded`` is set when the buyer has been refunded."""

    return_id: str
    type: str = "REFUND"  # REFUND, RETURN_AND_REFUND, REPLACEMENT
    status: str = ""
    refunded: bool = False
    refund_total: Decimal = Decimal("0")
    refund_shipping: Decimal = Decimal("0")
    refund_tax: Decimal = Decimal("0")
    line_item_ids: tuple[str, ...] = ()
    received: bool = False  # the returned goods reached the seller
    arbitration_status: str = ""  # TikTok's arbitration (IN_PROGRESS, SUPPORT_BUYER, ...)
    buyer_keeps_item: bool = False  # a partial refund the buyer accepted: no goods come back
    deadline: datetime | None = None  # the seller's next action is due (48 h), else TikTok's
    order_id: str = ""


class SkuState(StrEnum):
    """How a TikTok SKU resolves to a Shopify variant."""

    MAPPED = "mapped"  # one variant (explicit link or equal SKU)
    AMBIGUOUS = "ambiguous"  # several variants share the SKU: never pick
    UNMAPPED = "unmapped"  # no variant


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuResolution:
    """The resolution of one TikTok ``sku_id``."""

    state: SkuState
    variant_id: str | None = None
    candidates: tuple[str, ...] = ()


# Delivery option id -> TikTok's providers as (id, name).
ShippingProviders = Mapping[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreePLPackage:
    """One parcel that left the 3PL's warehouse, with the carrier as the 3PL named it."""

    tracking_number: str
    carrier: str = ""
    shipped_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreePLView:
    """The 3PL order as last looked up (``engine/threepl``: polls, webhooks, searches; the
    cancellation desk's own look-up): the facts its API gives (``domain/cancel_desk.py``
    decides from them whether it can still be stopped).

    ``order_id`` is the id the 3PL's own calls take (Amazon: the seller fulfilment order id;
    ShipBob: its numeric order id); ``reference`` the seller's reference it was found by.
    ``provider`` is ``amazon_mcf`` or ``shipbob`` (a ``ThreePL`` value; empty: a 3PL this
    module does not know, whose ``cancellable`` the adapter states); ``live_shipments``
    counts shipments not cancelled (Amazon); ``picked`` says the warehouse has the goods in
    hand (ShipBob); ``packages`` are the parcels that left with tracking.
    """

    order_id: str
    provider: str = ""  # a ThreePL value
    reference: str = ""
    status: str = ""
    cancellable: bool = True  # only read when ``provider`` is empty
    cancelled: bool = False
    shipped_without_tracking: bool = False
    live_shipments: int = 0
    picked: bool = False
    packages: tuple[ThreePLPackage, ...] = ()
    updated_at: datetime | None = None


def _empty_skus() -> Mapping[str, SkuResolution]:
    return MappingProxyType({})


def _empty_providers() -> ShippingProviders:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """Everything fetched for one decision.

    ``tiktok`` is ``None`` when the fetch failed; ``shopify`` is ``None`` when there is no
    Shopify order id yet or it was not fetched. A SKU missing from ``skus`` is unmapped; a
    delivery option missing from ``providers`` has not been fetched yet.
    """

    tiktok: TikTokOrder | None
    cancellations: tuple[Cancellation, ...] = ()
    returns: tuple[ReturnRecord, ...] = ()
    shopify: ShopifyOrderView | None = None
    skus: Mapping[str, SkuResolution] = field(default_factory=_empty_skus)
    providers: ShippingProviders = field(default_factory=_empty_providers)
    threepl: ThreePLView | None = None
