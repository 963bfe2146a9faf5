"""A connection's policy: the settings ``decide()`` follows for every order of that connection.

Defaults are named ``DEFAULT_*`` constants; durations are named constants too. The policy is
frozen: the engine builds one per connection from its settings and passes it to ``decide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "AFTER_DELIVERY_WATCH",
    "DEFAULT_HOLD_HANDLE",
    "DEFAULT_TAGS",
    "REMORSE_WINDOW",
    "TRACKING_CORRECTION_WINDOW",
    "AutoApprovalExtra",
    "CreateAt",
    "CustomerNameMode",
    "Policy",
    "RouteTo",
    "SampleOrders",
    "ThreePL",
    "ThreePLReference",
    "TikTokShippedOrders",
]


class CreateAt(StrEnum):
    """When the Shopify order is created (lifecycle.md, policy ``create_at``)."""

    UNPAID = "unpaid"  # at first sight, even unpaid: reserves Shopify stock at once
    PAID = "paid"  # at ON_HOLD or later: no unpaid noise, still reserves in the remorse window
    RELEASED = "released"  # when the release rule allows: only shippable orders reach Shopify


class AutoApprovalExtra(StrEnum):
    """The shop's cancellation auto-approval window after AWAITING_SHIPMENT."""

    NONE = "none"  # no extra window (TikTok's default)
    ONE_HOUR = "1h"  # buyer cancellations auto-approved for 1 h after AWAITING_SHIPMENT
    THREE_HOURS = "3h"  # ... for 3 h
    FIVE_HOURS = "5h"  # ... for 5 h
    UNTIL_READY_TO_SHIP = "until_ready_to_ship"  # release at once; the desk handles requests


class TikTokShippedOrders(StrEnum):
    """What to do with orders TikTok ships (TikTok Shipping labels, Fulfilled by TikTok)."""

    SKIP = "skip"  # not ours to fulfil: skipped with an explanation
    IMPORT_FULFILLED = "import_fulfilled"  # mirrored as already fulfilled, for accounting


class SampleOrders(StrEnum):
    """What to do with free sample orders (``is_sample_order``)."""

    IMPORT = "import"  # a $0 order tagged tiktok-sample
    SKIP = "skip"  # not mirrored at all


class CustomerNameMode(StrEnum):
    """The name of the Shopify customer."""

    TIKTOK_ORDER = "tiktok_order"  # "TikTok Order" (the recipient's name is on the address)
    RECIPIENT = "recipient"  # the recipient's name, once TikTok unmasks it


class ThreePL(StrEnum):
    """A fulfilment partner whose API OrderBridge reads (and, with ``route_to``, writes)."""

    AMAZON_MCF = "amazon_mcf"  # Amazon Multi-Channel Fulfillment (SP-API Fulfillment Outbound)
    SHIPBOB = "shipbob"  # ShipBob


class ThreePLReference(StrEnum):
    """Which id the seller's Shopify->3PL app puts on the 3PL order as its reference."""

    SHOPIFY_ORDER_NAME = "shopify_order_name"  # "#1001" (also tried without the "#")
    SHOPIFY_ORDER_ID = "shopify_order_id"  # the numeric Shopify order id
    TIKTOK_ORDER_ID = "tiktok_order_id"  # the TikTok order id


class RouteTo(StrEnum):
    """Where a released order is sent by OrderBridge itself (sellers with no Shopify->3PL app)."""

    NONE = "none"  # the seller's own app (or warehouse) takes it from Shopify
    AMAZON_MCF = "amazon_mcf"  # create the Amazon MCF fulfilment order from the TikTok order
    SHIPBOB = "shipbob"  # create the ShipBob order from the TikTok order


DEFAULT_HOLD_HANDLE = "orderbridge"
DEFAULT_TAGS: tuple[str, ...] = ("TikTok", "tiktok-shop")
DEFAULT_CUSTOMER_NAME = "TikTok Order"
DEFAULT_PAYMENT_METHOD = "TikTok Shop"
# TikTok's fixed remorse window after payment (ON_HOLD).
REMORSE_WINDOW = timedelta(hours=1)
# TikTok accepts one tracking correction within this time of the first upload.
TRACKING_CORRECTION_WINDOW = timedelta(hours=72)
# Buyer Protection claims come up to 90 days after delivery: re-check slowly until then.
AFTER_DELIVERY_WATCH = timedelta(days=90)
# A masked SELLER order past its window is retried this long before it becomes an exception.
DEFAULT_MASKED_RETRY_PERIOD = timedelta(hours=2)
# Shopify's search index lags: an unknown create is searched for at least this long.
DEFAULT_CREATE_SETTLE_PERIOD = timedelta(minutes=2)
# How often an unknown create is searched for while it settles.
DEFAULT_SEARCH_INTERVAL = timedelta(seconds=30)
# "No fulfilment orders yet" and other transient waits retry this soon.
DEFAULT_RETRY_SOON = timedelta(seconds=2)
# A masked recipient is looked at again this often while it is retried.
DEFAULT_MASKED_RECHECK = timedelta(minutes=5)
# A rejected action is not repeated for this long (a person may fix the cause sooner).
DEFAULT_REJECTED_RETRY = timedelta(minutes=30)
# A fulfilment service is given this long to accept a cancellation request.
DEFAULT_FULFILLMENT_SERVICE_WAIT = timedelta(hours=1)
# A released order with no 3PL order found is searched for after this (the seller's app and
# the poll have had their chance), then at most this often, and raised after this long.
DEFAULT_THREEPL_SEARCH_AFTER = timedelta(minutes=15)
DEFAULT_THREEPL_SEARCH_INTERVAL = timedelta(hours=1)
DEFAULT_THREEPL_MISSING_AFTER = timedelta(hours=4)
# Periodic re-checks: open orders, and after delivery until AFTER_DELIVERY_WATCH.
DEFAULT_OPEN_RECHECK = timedelta(minutes=15)
DEFAULT_SLOW_RECHECK = timedelta(days=1)

_EXTRA_DELAYS = MappingProxyType(
    {
        AutoApprovalExtra.NONE: timedelta(0),
        AutoApprovalExtra.ONE_HOUR: timedelta(hours=1),
        AutoApprovalExtra.THREE_HOURS: timedelta(hours=3),
        AutoApprovalExtra.FIVE_HOURS: timedelta(hours=5),
        AutoApprovalExtra.UNTIL_READY_TO_SHIP: timedelta(0),
    }
)


def _empty_titles() -> Mapping[str, str]:
    return MappingProxyType({})


def _empty_locations() -> Mapping[str, ThreePL]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Everything ``decide`` needs to know about the connection's choices.

    ``shipping_titles`` maps TikTok's delivery option name (or id) to the Shopify shipping
    line title; ``mcf_warehouse_ids`` are TikTok warehouse ids fulfilled by Amazon MCF.
    ``threepl_locations`` maps a Shopify location id (numeric or gid) to the 3PL that
    fulfils what is assigned there; ``threepl_reference`` is the id the seller's
    Shopify->3PL app uses as the 3PL order's reference (the others are tried after it).
    ``route_to`` has OrderBridge create the 3PL order itself once an order is released
    (under the TikTok order id as its reference).
    """

    create_at: CreateAt = CreateAt.UNPAID
    hold_handle: str = DEFAULT_HOLD_HANDLE
    auto_approval_extra: AutoApprovalExtra = AutoApprovalExtra.NONE
    auto_approve_cancellations: bool = True
    # Approve pending refund-only requests of at most this much at once (None: never).
    auto_approve_refunds_under: Decimal | None = None
    tiktok_shipped_orders: TikTokShippedOrders = TikTokShippedOrders.SKIP
    samples: SampleOrders = SampleOrders.IMPORT
    customer_name_mode: CustomerNameMode = CustomerNameMode.TIKTOK_ORDER
    source_name: str | None = None
    tiktok_shop_id: str = ""
    extra_tags: tuple[str, ...] = ()
    status_tags: bool = False
    shipping_titles: Mapping[str, str] = field(default_factory=_empty_titles)
    mcf_warehouse_ids: frozenset[str] = frozenset()
    threepl_locations: Mapping[str, ThreePL] = field(default_factory=_empty_locations)
    threepl_reference: ThreePLReference = ThreePLReference.SHOPIFY_ORDER_NAME
    route_to: RouteTo = RouteTo.NONE
    masked_retry_period: timedelta = DEFAULT_MASKED_RETRY_PERIOD
    create_settle_period: timedelta = DEFAULT_CREATE_SETTLE_PERIOD
    search_interval: timedelta = DEFAULT_SEARCH_INTERVAL
    retry_soon: timedelta = DEFAULT_RETRY_SOON
    masked_recheck: timedelta = DEFAULT_MASKED_RECHECK
    rejected_retry: timedelta = DEFAULT_REJECTED_RETRY
    fulfillment_service_wait: timedelta = DEFAULT_FULFILLMENT_SERVICE_WAIT
    threepl_search_after: timedelta = DEFAULT_THREEPL_SEARCH_AFTER
    threepl_search_interval: timedelta = DEFAULT_THREEPL_SEARCH_INTERVAL
    threepl_missing_after: timedelta = DEFAULT_THREEPL_MISSING_AFTER
    open_recheck: timedelta = DEFAULT_OPEN_RECHECK
    slow_recheck: timedelta = DEFAULT_SLOW_RECHECK

    @property
    def auto_approval_delay(self) -> timedelta:
        """The extra time the release waits for the shop's auto-approval window."""
        return _EXTRA_DELAYS[self.auto_approval_extra]
