"""The actions ``decide()`` can ask for: frozen values the engine executes.

Every action has a ``kind``, a ``priority`` (the Shopify budget order of lifecycle.md: create
and hold 0, cancellations 1, due releases 2, tracking 3, cosmetic 4), a ``target`` (which
remote it calls) and a ``key`` that names it across decisions (rejections are remembered by
key). The engine runs a decision's actions in the order given, checks remote state before
each write, stops at the first outcome that is not a success, and feeds every outcome to
``apply_outcome``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import ClassVar

from orderbridge.domain.address import ShippingAddress
from orderbridge.domain.money import MoneyPlan

__all__ = [
    "Action",
    "ActionKind",
    "AddTags",
    "ApproveCancellation",
    "CancelOnTikTok",
    "CancelShopifyOrder",
    "CancelThreePLOrder",
    "CreateLine",
    "CreateShopifyOrder",
    "CreateThreePLOrder",
    "FetchShippingProviders",
    "FindThreePLOrder",
    "FulfilFromThreePL",
    "HoldReason",
    "PlaceHold",
    "Priority",
    "PushTracking",
    "RecordNote",
    "RecordPayment",
    "RefundShopify",
    "ReleaseHold",
    "RemoveUnits",
    "RequestFulfillmentServiceCancel",
    "RestoreTax",
    "SearchExistingShopifyOrder",
    "ShopifyCancelReason",
    "SwapCustomLine",
    "Target",
    "UpdateShopifyAddress",
    "UpdateTracking",
]


class ActionKind(StrEnum):
    """What an action does (stored on the timeline)."""

    CREATE_SHOPIFY_ORDER = "create_shopify_order"  # orderCreate
    SEARCH_EXISTING_SHOPIFY_ORDER = "search_existing_shopify_order"  # after a lost create
    PLACE_HOLD = "place_hold"  # fulfillmentOrderHold with our handle
    UPDATE_SHOPIFY_ADDRESS = "update_shopify_address"  # orderUpdate shipping address
    RECORD_PAYMENT = "record_payment"  # orderMarkAsPaid / manual payment "TikTok Shop"
    RELEASE_HOLD = "release_hold"  # fulfillmentOrderReleaseHold by hold id
    CANCEL_SHOPIFY_ORDER = "cancel_shopify_order"  # orderCancel (a job)
    REQUEST_FULFILLMENT_SERVICE_CANCEL = "request_fulfillment_service_cancel"  # to a 3PL app
    CANCEL_THREEPL_ORDER = "cancel_threepl_order"  # cancel at the 3PL (MCF, ShipBob)
    FULFIL_FROM_THREEPL = "fulfil_from_threepl"  # fulfillmentCreate with a 3PL parcel's tracking
    CREATE_THREEPL_ORDER = "create_threepl_order"  # route_to: the 3PL order from the TikTok order
    FIND_THREEPL_ORDER = "find_threepl_order"  # fallback search of a 3PL order the polls missed
    REMOVE_UNITS = "remove_units"  # order edit: quantity down, restock
    SWAP_CUSTOM_LINE = "swap_custom_line"  # order edit: custom line -> variant
    RESTORE_TAX = "restore_tax"  # order edit: tax Shopify dropped, as a non-taxable item
    FETCH_SHIPPING_PROVIDERS = "fetch_shipping_providers"  # TikTok provider list (cached)
    PUSH_TRACKING = "push_tracking"  # TikTok mark package as shipped
    UPDATE_TRACKING = "update_tracking"  # TikTok shipping_info/update (one correction)
    APPROVE_CANCELLATION = "approve_cancellation"  # TikTok approve a buyer request
    APPROVE_RETURN = "approve_return"  # TikTok Approve Return (policy: small refund-only)
    CANCEL_ON_TIKTOK = "cancel_on_tiktok"  # TikTok seller cancel (a person chose it)
    REFUND_SHOPIFY = "refund_shopify"  # refundCreate mirroring a TikTok refund
    ADD_TAGS = "add_tags"  # tagsAdd (cosmetic)
    RECORD_NOTE = "record_note"  # a note on the Shopify order's timeline


class Priority(IntEnum):
    """Who goes first when a store's Shopify budget is short: lower first.

    One scale for everything: the order of a decision's actions, the priority each action's
    Shopify calls are sent at, and the reads that feed a decision (the Shopify client's
    throttle queues by it).
    """

    CREATE_AND_HOLD = 0  # creating an order and putting it on hold (overselling risk)
    CANCELLATION = 1  # cancellations (stock must come back, TikTok deadlines run)
    RELEASE = 2  # due releases: address, payment, hold release
    READ = 3  # reads that feed a decision (order snapshots, searches)
    TRACKING = 4  # fulfilments and tracking-related writes
    COSMETIC = 5  # tags, notes and other updates nobody waits for
    RECHECK = 6  # a look at an order nothing waits on (held, TikTok has not cleared it to ship)


class Target(StrEnum):
    """Which remote an action calls."""

    SHOPIFY = "shopify"  # the Shopify Admin API
    TIKTOK = "tiktok"  # the TikTok Shop API
    THREEPL = "threepl"  # the 3PL's API


class HoldReason(StrEnum):
    """Shopify's fulfilment hold reasons we use."""

    AWAITING_PAYMENT = "AWAITING_PAYMENT"  # the TikTok order is unpaid
    OTHER = "OTHER"  # the remorse / auto-approval window, or a blocking exception


class ShopifyCancelReason(StrEnum):
    """Shopify ``OrderCancelReason`` values we map TikTok's reasons to."""

    CUSTOMER = "CUSTOMER"  # the buyer cancelled
    DECLINED = "DECLINED"  # payment declined / unpaid timeout
    FRAUD = "FRAUD"  # TikTok's risk control
    INVENTORY = "INVENTORY"  # out of stock (seller cancel)
    OTHER = "OTHER"  # anything else


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
class CancelThreePLOrder:
    """Cancel the 3PL order (the desk confirms it is cancelled before going on)."""

    kind: ClassVar[ActionKind] = ActionKind.CANCEL_THREEPL_ORDER
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.THREEPL
    threepl_order_id: str

    @property
    def key(self) -> str:
        return f"3pl-cancel:{self.threepl_order_id}"


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
class CreateThreePLOrder:
    """Policy ``route_to``: create the 3PL order of a released order, under ``reference``
    (looked up first: a repeat finds it and creates nothing)."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_THREEPL_ORDER
    priority: ClassVar[Priority] = Priority.RELEASE
    target: ClassVar[Target] = Target.THREEPL
    threepl: str  # ThreePL value
    reference: str
    order_date: datetime | None
    speed: str  # ShippingSpeed value (domain/decide/threepl_route.py)
    address: ShippingAddress
    items: tuple[tuple[str, int], ...]  # (seller SKU, units)

    @property
    def key(self) -> str:
        return f"3pl-create:{self.reference}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FindThreePLOrder:
    """Look for the order's 3PL order under each of ``references`` (and, at Amazon, in the
    orders listed since ``since``); what is found is stored like a poll's find."""

    kind: ClassVar[ActionKind] = ActionKind.FIND_THREEPL_ORDER
    priority: ClassVar[Priority] = Priority.READ
    target: ClassVar[Target] = Target.THREEPL
    threepl: str  # ThreePL value
    tiktok_order_id: str
    references: tuple[str, ...]
    since: datetime

    @property
    def key(self) -> str:
        return f"3pl-find:{self.tiktok_order_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FulfilFromThreePL:
    """Write a parcel the 3PL shipped to Shopify: one fulfilment of these fulfilment orders
    (what they have left) carrying its tracking. The tracking path then pushes it to TikTok."""

    kind: ClassVar[ActionKind] = ActionKind.FULFIL_FROM_THREEPL
    priority: ClassVar[Priority] = Priority.TRACKING
    target: ClassVar[Target] = Target.SHOPIFY
    shopify_order_id: str
    fulfillment_order_ids: tuple[str, ...]
    tracking_number: str
    tracking_company: str
    threepl: str  # ThreePL value
    threepl_order_id: str

    @property
    def key(self) -> str:
        return f"3pl-fulfil:{self.tracking_number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchShippingProviders:
    """Fetch (and cache) TikTok's providers for a delivery option."""

    kind: ClassVar[ActionKind] = ActionKind.FETCH_SHIPPING_PROVIDERS
    priority: ClassVar[Priority] = Priority.TRACKING
    target: ClassVar[Target] = Target.TIKTOK
    delivery_option_id: str

    @property
    def key(self) -> str:
        return f"providers:{self.delivery_option_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PushTracking:
    """Mark one package shipped on TikTok with exactly these line ids."""

    kind: ClassVar[ActionKind] = ActionKind.PUSH_TRACKING
    priority: ClassVar[Priority] = Priority.TRACKING
    target: ClassVar[Target] = Target.TIKTOK
    tiktok_order_id: str
    tracking_number: str
    provider_id: str
    line_ids: tuple[str, ...]
    source_fulfillment_id: str
    push_anyway: bool = False  # a person overrode INVALID_TRACKING (counted)

    @property
    def key(self) -> str:
        return f"push:{self.source_fulfillment_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateTracking:
    """TikTok's one correction: by package id, or for the order when none is known."""

    kind: ClassVar[ActionKind] = ActionKind.UPDATE_TRACKING
    priority: ClassVar[Priority] = Priority.TRACKING
    target: ClassVar[Target] = Target.TIKTOK
    tiktok_order_id: str
    package_id: str
    tracking_number: str
    provider_id: str
    source_fulfillment_id: str

    @property
    def key(self) -> str:
        return f"update-tracking:{self.source_fulfillment_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveCancellation:
    """Approve a buyer's cancellation request (only once the goods are stopped)."""

    kind: ClassVar[ActionKind] = ActionKind.APPROVE_CANCELLATION
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.TIKTOK
    cancel_id: str
    idempotency_key: str

    @property
    def key(self) -> str:
        return f"approve:{self.cancel_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveReturn:
    """Approve a buyer's return request with ``decision`` (policy ``auto_approve_refunds_under``)."""

    kind: ClassVar[ActionKind] = ActionKind.APPROVE_RETURN
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.TIKTOK
    return_id: str
    decision: str
    idempotency_key: str

    @property
    def key(self) -> str:
        return f"approve-return:{self.return_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOnTikTok:
    """Seller cancel on TikTok: only ever because a person chose it."""

    kind: ClassVar[ActionKind] = ActionKind.CANCEL_ON_TIKTOK
    priority: ClassVar[Priority] = Priority.CANCELLATION
    target: ClassVar[Target] = Target.TIKTOK
    tiktok_order_id: str
    reason: str

    @property
    def key(self) -> str:
        return f"tiktok-cancel:{self.tiktok_order_id}"


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


Action = (
    CreateShopifyOrder
    | SearchExistingShopifyOrder
    | PlaceHold
    | UpdateShopifyAddress
    | RecordPayment
    | ReleaseHold
    | CancelShopifyOrder
    | RequestFulfillmentServiceCancel
    | CancelThreePLOrder
    | CreateThreePLOrder
    | FindThreePLOrder
    | FulfilFromThreePL
    | RemoveUnits
    | SwapCustomLine
    | RestoreTax
    | FetchShippingProviders
    | PushTracking
    | UpdateTracking
    | ApproveCancellation
    | ApproveReturn
    | CancelOnTikTok
    | RefundShopify
    | AddTags
    | RecordNote
)
