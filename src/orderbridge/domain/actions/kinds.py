"""What every action declares: its kind, its priority on the Shopify budget, the remote it
calls; and the Shopify reasons the actions carry."""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "ActionKind",
    "HoldReason",
    "Priority",
    "ShopifyCancelReason",
    "Target",
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
