"""The actions on the Shopify order: create (or find) it, hold and release it, correct its
address and payment, edit its lines, cancel and refund it, tag it and note on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from orderbridge.domain.actions.kinds import (
    ActionKind,
    HoldReason,
    Priority,
    ShopifyCancelReason,
    Target,
)
from orderbridge.domain.address import ShippingAddress
from orderbridge.domain.money import MoneyPlan

__all__ = [
    "AddTags",
    "CancelShopifyOrder",
    "CreateLine",
    "CreateShopifyOrder",
    "PlaceHold",
    "RecordNote",
    "RecordPayment",
    "RefundShopify",
    "ReleaseHold",
    "RemoveUnits",
    "RequestFulfillmentServiceCancel",
    "RestoreTax",
    "SearchExistingShopifyOrder",
    "SwapCustomLine",
    "UpdateShopifyAddress",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateLine:
    """One Shopify line: a variant, or a custom line when ``variant_id`` is ``None``."""

    tiktok_sku_id: str
    line_ids: tuple[str, ...]
    quantity: int
    variant_id: str | None
    title: str
    sku: str
    unit_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateShopifyOrder:
    """orderCreate: the whole order. Custom attributes are (key, value) pairs."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_SHOPIFY_ORDER
    priority: ClassVar[Priority] = Priority.CREATE_AND_HOLD
    target: ClassVar[Target] = Target.SHOPIFY
    tiktok_order_id: str
    lines: tuple[CreateLine, ...]
    money: MoneyPlan
    shipping_title: str
    tags: tuple[str, ...]
    custom_attributes: tuple[tuple[str, str], ...]
    source_identifier: str
    source_name: str | None
    note: str
    customer_name: str
    email: str
    processed_at: datetime | None
    financial_status: str = "PENDING"
    claim_inventory: bool = True  # DECREMENT_IGNORING_POLICY; False for FBT imports
    fulfilled: bool = False  # import_fulfilled: mirrored as already fulfilled
    tracking_number: str = ""  # fulfilled imports: TikTok's tracking, when known
    tracking_company: str = ""  # its carrier's name, when known
    shipping_address: ShippingAddress | None = None
    send_receipt: bool = False
    buyer_accepts_marketing: bool = False

    @property
    def key(self) -> str:
        return f"create:{self.tiktok_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchExistingShopifyOrder:
    """Search Shopify by source identifier *and* by the unique tag (both must be empty)."""

    kind: ClassVar[ActionKind] = ActionKind.SEARCH_EXISTING_SHOPIFY_ORDER
    priority: ClassVar[Priority] = Priority.CREATE_AND_HOLD
    target: ClassVar[Target] = Target.SHOPIFY
    source_identifier: str
    tag: str

    @property
    def key(self) -> str:
        return f"search:{self.source_identifier}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceHold:
    """Hold these fulfilment orders under our handle."""

    kind: ClassVar[ActionKind] = ActionKind.PLACE_HOLD
    priority: ClassVar[Priority] = Priority.CREATE_AND_HOLD
    target: ClassVar[Target] = Target.SHOPIFY
    fulfillment_order_ids: tuple[str, ...]
    handle: str
    reason: HoldReason
    notes: str

    @property
    def key(self) -> str:
        return "hold:" + ",".join(self.fulfillment_order_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateShopifyAddress:
    """Write the recipient (shipping = billing) onto the Shopify order."""

    kind: ClassVar[ActionKind] = ActionKind.UPDATE_SHOPIFY_ADDRESS
    priority: ClassVar[Priority] = Priority.RELEASE
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    address: ShippingAddress
    fingerprint: str

    @property
    def key(self) -> str:
        return f"address:{self.shopify_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPayment:
    """A manual payment for the outstanding amount."""

    kind: ClassVar[ActionKind] = ActionKind.RECORD_PAYMENT
    priority: ClassVar[Priority] = Priority.RELEASE
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    amount: Decimal
    currency: str = "USD"
    method: str = "TikTok Shop"

    @property
    def key(self) -> str:
        return f"payment:{self.shopify_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseHold:
    """Release our holds (by id: never another app's) on one fulfilment order."""

    kind: ClassVar[ActionKind] = ActionKind.RELEASE_HOLD
    priority: ClassVar[Priority] = Priority.RELEASE
    target: ClassVar[Target] = Target.SHOPIFY
    fulfillment_order_id: str
    hold_ids: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"release:{self.fulfillment_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelShopifyOrder:
    """orderCancel with restock, no refund to a real payment, no notification."""

    kind: ClassVar[ActionKind] = ActionKind.CANCEL_SHOPIFY_ORDER
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    reason: ShopifyCancelReason
    staff_note: str
    restock: bool = True
    notify_customer: bool = False
    refund: bool = False

    @property
    def key(self) -> str:
        return f"cancel:{self.shopify_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFulfillmentServiceCancel:
    """Ask the fulfilment service holding this fulfilment order to cancel it."""

    kind: ClassVar[ActionKind] = ActionKind.REQUEST_FULFILLMENT_SERVICE_CANCEL
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.SHOPIFY
    fulfillment_order_id: str
    message: str

    @property
    def key(self) -> str:
        return f"fs-cancel:{self.fulfillment_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveUnits:
    """Order edit: take ``quantity`` units off a line, restocking them."""

    kind: ClassVar[ActionKind] = ActionKind.REMOVE_UNITS
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    line_item_id: str
    quantity: int
    tiktok_line_ids: tuple[str, ...]
    restock: bool = True

    @property
    def key(self) -> str:
        return f"remove:{self.line_item_id}:" + ",".join(self.tiktok_line_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapCustomLine:
    """Order edit: replace a custom line by the now-linked variant (claiming stock).

    ``channel_tax`` is the sales tax TikTok collected (and remits) on the swapped units: the
    custom line's channel-liable tax lines, which leave with it and which an edit cannot add
    back, so the edit carries it as a non-taxable custom item to keep the order's total.
    """

    kind: ClassVar[ActionKind] = ActionKind.SWAP_CUSTOM_LINE
    priority: ClassVar[Priority] = Priority.RELEASE  # it gates the release, as the address and payment do
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    custom_line_item_id: str
    variant_id: str
    quantity: int
    tiktok_sku_id: str
    channel_tax: Decimal = Decimal("0")

    @property
    def key(self) -> str:
        return f"swap:{self.custom_line_item_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RestoreTax:
    """Order edit: add back the tax TikTok collected that Shopify's recalculation dropped.

    Shopify recalculates an unfulfilled order's taxes when its shipping address changes
    (``domain/totals.py``); when its total fell by no more than the tax it no longer charges, one
    edit adds ``amount`` as a non-taxable, non-shipping custom item, committed only when the
    staged total equals ``planned_total``.
    """

    kind: ClassVar[ActionKind] = ActionKind.RESTORE_TAX
    priority: ClassVar[Priority] = Priority.RELEASE  # it gates the payment and the release
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    amount: Decimal
    planned_total: Decimal
    currency: str = "USD"

    @property
    def key(self) -> str:
        return f"restore_tax:{self.planned_total}:{self.amount}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundShopify:
    """refundCreate mirroring a completed TikTok refund (Shopify idempotency key)."""

    kind: ClassVar[ActionKind] = ActionKind.REFUND_SHOPIFY
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    return_id: str
    line_items: tuple[tuple[str, int], ...]  # (Shopify line item id, quantity)
    shipping: Decimal
    restock: bool
    idempotency_key: str
    amount: Decimal = Decimal("0")  # what TikTok refunded the buyer: a refund transaction
    # Shopify's restockType per line (RETURN / CANCEL / NO_RESTOCK); empty: from ``restock``.
    restock_types: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"refund:{self.return_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AddTags:
    """tagsAdd (cosmetic)."""

    kind: ClassVar[ActionKind] = ActionKind.ADD_TAGS
    priority: ClassVar[Priority] = Priority.COSMETIC
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    tags: tuple[str, ...]

    @property
    def key(self) -> str:
        return "tags:" + ",".join(self.tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordNote:
    """A note on the Shopify order's timeline (written once per ``note_id``)."""

    kind: ClassVar[ActionKind] = ActionKind.RECORD_NOTE
    priority: ClassVar[Priority] = Priority.COSMETIC
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    note_id: str
    text: str

    @property
    def key(self) -> str:
        return f"note:{self.note_id}"
