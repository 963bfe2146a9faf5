"""Vocabularies, error codes, default credentials and durations of the TikTok Shop sandbox.

Everything here is written from ``shared/docs/api/tiktok-shop.md`` (never from the client
adapter). Values the documentation leaves open are marked "sandbox choice".
"""

from __future__ import annotations

from datetime import timedelta
from enum import IntEnum, StrEnum

# --- default world -----------------------------------------------------------------
DEFAULT_APP_KEY = "sbx_app_key_6a1c9e"
DEFAULT_APP_SECRET = "sbx_app_secret_4f2b7d9e0c1a"
DEFAULT_SERVICE_ID = "7301000000000000001"
DEFAULT_APP_NAME = "OrderBridge Sandbox App"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/oauth/tiktok/callback"
DEFAULT_SHOP_NAMES = ("Matcha Shop", "Second Shop")
DEFAULT_REGION = "US"
DEFAULT_CURRENCY = "USD"

# --- durations -----------------------------------------------------------------------
TIMESTAMP_PAST_TOLERANCE = timedelta(minutes=5)  # doc: timestamp >= now - 5 min
TIMESTAMP_FUTURE_TOLERANCE = timedelta(seconds=30)  # doc: timestamp <= now + 30 s
AUTH_CODE_LIFETIME = timedelta(minutes=30)  # doc: single-use, 30 minutes
ACCESS_TOKEN_LIFETIME = timedelta(days=7)  # doc: access token default 7 days
REFRESH_TOKEN_LIFETIME = timedelta(days=60)  # sandbox choice: the doc leaves it unconfirmed
ON_HOLD_DURATION = timedelta(hours=1)  # doc: 1-hour remorse window after payment
UNPAID_TIMEOUT = timedelta(hours=24)  # sandbox choice: the 24 h window is unconfirmed
BUYER_CANCEL_RESPONSE_WINDOW = timedelta(hours=48)  # doc: seller must respond within 48 h
TRACKING_UPDATE_WINDOW = timedelta(hours=72)  # doc: one correction within 72 h of shipment
REFUND_SETTLE_DELAY = timedelta(minutes=1)  # sandbox choice: SUCCESS -> COMPLETE of a cancel
WEBHOOK_RETRY_SCHEDULE = (
    timedelta(minutes=2),
    timedelta(minutes=30),
    timedelta(hours=3),
    timedelta(hours=12),
)  # doc: 4 retries after 2 min, 30 min, 3 h, 12 h
WEBHOOK_TIMEOUT_SECONDS = 3.0  # doc: answer within 3 s
RTS_SLA_BUSINESS_DAYS = 2  # doc: dispatch within 2 business days
SHIPPING_DUE_BUSINESS_DAYS = 7  # doc: auto-cancel after 7 business days
DELIVERY_DUE_EXTRA_DAYS = 10  # sandbox choice: delivery auto-cancel deadline after the SLA
MASK_AFTER_COMPLETED = timedelta(days=30)  # doc: masked from 30 days after COMPLETED

# --- limits ----------------------------------------------------------------------------
RATE_LIMIT_PER_SECOND = 50  # doc: 50 QPS per API per app+shop
MAX_ORDER_PAGE_SIZE = 100
MAX_CANCEL_PAGE_SIZE = 50
MAX_PRODUCT_PAGE_SIZE = 100
MAX_PRODUCT_SEARCH_RESULTS = 10_000  # doc: Search Products reaches at most 10,000 results
MAX_DETAIL_IDS = 50
MAX_COMBINED_ORDERS = 20  # doc: one tracking number covers at most 20 orders
MAX_WEBHOOK_ADDRESS = 255
MAX_IDEMPOTENCY_KEY = 255
DEFAULT_STOCK = 500
MAX_SKU_STOCK = 999_999  # Update Inventory refuses more (12019024)


class ErrorCode(IntEnum):
    """TikTok response codes used by the sandbox (``0`` = success)."""

    OK = 0  # success
    TOKEN_OR_SHOP_MISMATCH = 101000  # bad token, or token not authorized for the shop
    TOKEN_EXPIRED = 105002  # access token expired: refresh it
    MISSING_SCOPE = 105005  # token lacks the scope
    BAD_SIGN = 106001  # sign does not match
    SHOP_CIPHER_MISSING = 106013  # shop_cipher required but missing
    RATE_LIMITED = 36009002  # over 50 QPS
    INTERNAL_ERROR = 36009003  # internal error; retry
    INVALID_REQUEST = 36009004  # catch-all: params, app_key, timestamp, unexpected cipher
    TIMEOUT = 36009007  # gateway timeout
    BAD_PATH = 36009009  # unknown path
    BAD_METHOD = 36009010  # wrong HTTP method
    TRACKING_PROVIDER_MISMATCH = 21004015  # Mark Package As Shipped: tracking number does not fit the provider
    PLATFORM_FULFILLED = 21008025  # TikTok ships this order
    ALREADY_SHIPPED = 21008099  # Mark Package As Shipped: the line items (package) already shipped
    ORDER_ALREADY_SHIPPED = 21011006  # Mark Package As Shipped: "These orders are already shipped"
    FULFILL_ACTION_NOT_ALLOWED = 21011003  # Mark Package As Shipped: status allows no shipping (ON_HOLD, UNPAID, CANCELLED)
    SHIP_INVALID_PARAMETERS = 21001001  # Mark Package As Shipped: invalid parameters
    INVALID_TRACKING_OR_PROVIDER = 21011022  # Update (Package) Shipping Info: bad tracking number or provider
    UPDATE_PLATFORM_RULE = 21011049  # Update Shipping Info (order): the platform's rules refuse the update
    UPDATE_WINDOW_PASSED = 21011050  # Update Package Shipping Info: more than 72 h since shipment
    UPDATE_ONLY_ONCE = 21011051  # Update Package Shipping Info: the one update was used
    ORDER_NOT_OURS = 21008111  # the order does not belong to the shop
    TIKTOK_DELIVERY_OPTION = 21008117  # delivery option is TikTok-fulfilled
    DUPLICATE_TRACKING = 21011025  # Mark Package As Shipped: tracking number reused
    CANCEL_NOT_FOUND = 25001001  # sandbox choice: unknown cancel id
    CANCEL_NOT_PENDING = 25001002  # sandbox choice: cancellation is not pending
    REJECT_RETIRED_US = 25001040  # sandbox choice: Reject API retired for US sellers
    CANCEL_REASON_MISMATCH = 25001021  # reason does not fit the order status
    ORDER_NOT_CANCELLABLE = 25001022  # sandbox choice: status does not allow cancelling
    PRODUCT_NOT_FOUND = 12019001  # sandbox choice: unknown product
    SKU_NOT_FOUND = 12019002  # sandbox choice: unknown sku in inventory update
    WAREHOUSE_NOT_FOUND = 12019003  # sandbox choice: not a warehouse of the shop
    STOCK_OUT_OF_RANGE = 12019024  # "The SKU stock must be between [0,999999]"
    RETURN_NOT_FOUND = 25002001  # sandbox choice: unknown return id
    RETURN_DECISION_NOT_ALLOWED = 25002002  # sandbox choice: the return's status allows no such decision
    REJECT_REASON_INVALID = 25002003  # sandbox choice: reject_reason not in Get Reject Reasons
    PROMOTION_STOCK_LOCKED = 12052393  # per-SKU: stock locked by a promotion (Update Inventory)
    SHARED_STOCK = 12052394  # sandbox choice: per-SKU, stock shared with other listings


class OrderStatus(StrEnum):
    """Order statuses (US flow)."""

    UNPAID = "UNPAID"  # created, payment pending or failed
    ON_HOLD = "ON_HOLD"  # paid, 1 h remorse window
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"  # seller must ship
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"  # some units shipped (split)
    AWAITING_COLLECTION = "AWAITING_COLLECTION"  # every unit has tracking
    IN_TRANSIT = "IN_TRANSIT"  # carrier scans for all packages
    DELIVERED = "DELIVERED"  # delivered, return window open
    COMPLETED = "COMPLETED"  # return window closed or fully refunded
    CANCELLED = "CANCELLED"  # every unit cancelled


class PackageStatus(StrEnum):
    """Line-item package statuses."""

    TO_FULFILL = "TO_FULFILL"  # not shipped
    PROCESSING = "PROCESSING"  # tracking uploaded, awaiting collection
    FULFILLING = "FULFILLING"  # in transit
    COMPLETED = "COMPLETED"  # delivered
    CANCELLED = "CANCELLED"  # line cancelled


class ShippingType(StrEnum):
    """Who ships."""

    SELLER = "SELLER"  # seller's own carrier
    TIKTOK = "TIKTOK"  # TikTok shipping


class FulfillmentType(StrEnum):
    """Who fulfils."""

    SELLER = "FULFILLMENT_BY_SELLER"  # seller's warehouse
    TIKTOK = "FULFILLMENT_BY_TIKTOK"  # FBT warehouse


class DeliveryOption(StrEnum):
    """Display names of the delivery options."""

    ECONOMY = "Economy Shipping"  # 11 business days end to end
    STANDARD = "Standard Shipping"  # 7 business days
    EXPRESS = "Express Shipping"  # 4 business days


DELIVERY_DAYS = {DeliveryOption.ECONOMY: 11, DeliveryOption.STANDARD: 7, DeliveryOption.EXPRESS: 4}


class PaymentState(StrEnum):
    """Buyer payment state (sandbox-internal)."""

    PAID = "paid"  # paid at checkout
    PENDING = "pending"  # payment pending: order is UNPAID
    FAILED = "failed"  # payment declined: UNPAID, the buyer may retry


class CancelType(StrEnum):
    """Cancellation record types."""

    CANCEL = "CANCEL"  # by seller, system, or auto-accepted buyer cancel
    BUYER_CANCEL = "BUYER_CANCEL"  # buyer request needing review


class CancelStatus(StrEnum):
    """Cancellation record statuses."""

    PENDING = "CANCELLATION_REQUEST_PENDING"  # waiting for the seller
    SUCCESS = "CANCELLATION_REQUEST_SUCCESS"  # approved, refund under way
    CANCEL = "CANCELLATION_REQUEST_CANCEL"  # withdrawn or rejected (e.g. by shipping)
    COMPLETE = "CANCELLATION_REQUEST_COMPLETE"  # done, refunded


class Role(StrEnum):
    """Who initiated a cancellation or return."""

    BUYER = "BUYER"  # the buyer
    SELLER = "SELLER"  # the seller
    SYSTEM = "SYSTEM"  # TikTok itself


class ReturnType(StrEnum):
    """Return record types."""

    REFUND = "REFUND"  # refund only
    RETURN_AND_REFUND = "RETURN_AND_REFUND"  # goods come back, then refund
    REPLACEMENT = "REPLACEMENT"  # a replacement is sent


class ReturnStatus(StrEnum):
    """Return record statuses (doc list)."""

    REQUEST_PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"  # buyer asked
    REQUEST_REJECT = "RETURN_OR_REFUND_REQUEST_REJECT"  # seller rejected (API reference spelling; the webhook page says REFUND_OR_RETURN_REQUEST_REJECT)
    AWAITING_BUYER_SHIP = "AWAITING_BUYER_SHIP"  # approved, buyer must ship back
    BUYER_SHIPPED_ITEM = "BUYER_SHIPPED_ITEM"  # on its way back
    REJECT_RECEIVE_PACKAGE = "REJECT_RECEIVE_PACKAGE"  # seller refused the parcel
    REQUEST_SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS"  # refund approved
    REQUEST_CANCEL = "RETURN_OR_REFUND_REQUEST_CANCEL"  # buyer withdrew
    REQUEST_COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"  # refunded, closed
    AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"  # seller asked the buyer
    REPLACEMENT_PENDING = "REPLACEMENT_REQUEST_PENDING"  # replacement asked
    REPLACEMENT_REJECT = "REPLACEMENT_REQUEST_REJECT"  # replacement rejected
    REPLACEMENT_REFUND_SUCCESS = "REPLACEMENT_REQUEST_REFUND_SUCCESS"  # refunded instead
    REPLACEMENT_CANCEL = "REPLACEMENT_REQUEST_CANCEL"  # withdrawn
    REPLACEMENT_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE"  # replacement done


class AutoApproveWindow(StrEnum):
    """Per-shop buyer-cancel auto-approval after AWAITING_SHIPMENT (US Seller Center)."""

    NONE = "none"  # only the ON_HOLD window
    ONE_HOUR = "1h"  # 1 h after AWAITING_SHIPMENT
    THREE_HOURS = "3h"  # 3 h
    FIVE_HOURS = "5h"  # 5 h
    UNTIL_READY_TO_SHIP = "until_rts"  # any time before the package ships


AUTO_APPROVE_DURATION = {
    AutoApproveWindow.NONE: timedelta(0),
    AutoApproveWindow.ONE_HOUR: timedelta(hours=1),
    AutoApproveWindow.THREE_HOURS: timedelta(hours=3),
    AutoApproveWindow.FIVE_HOURS: timedelta(hours=5),
}


class EventType(IntEnum):
    """Webhook type codes (doc table)."""

    ORDER_STATUS_CHANGE = 1  # order status
    RECIPIENT_ADDRESS_UPDATE = 3  # address changed
    PACKAGE_UPDATE = 4  # packages split / combined
    PRODUCT_STATUS_CHANGE = 5  # product status
    SELLER_DEAUTHORIZATION = 6  # seller removed the app
    UPCOMING_AUTHORIZATION_EXPIRATION = 7  # authorization expires soon
    CANCELLATION_STATUS_CHANGE = 11  # cancellation record changed
    RETURN_STATUS_CHANGE = 12  # return record changed


class OptionalFields(StrEnum):
    """Which optional webhook fields a shop's notifications leave out (a shop setting)."""

    AS_DOCUMENTED = "as_documented"  # what TikTok's examples leave out (type 3: no notification id)
    ALL_PRESENT = "all_present"  # every optional field, every time
    RANDOM = "random"  # each optional field left out half the time (seeded)
    ALL_OMITTED = "all_omitted"  # none of them, ever


# Fields a notification may lack (doc examples). The envelope's notification id is absent
# from the documented address-change example; the data fields listed are the ones the
# examples show but a reader must not require.
OPTIONAL_ENVELOPE_FIELDS = ("tts_notification_id",)
OPTIONAL_DATA_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.ORDER_STATUS_CHANGE: ("is_on_hold_order", "update_time"),
    EventType.RECIPIENT_ADDRESS_UPDATE: ("update_time",),
    EventType.PACKAGE_UPDATE: ("role_type", "update_time"),
    EventType.PRODUCT_STATUS_CHANGE: ("suspended_reason", "update_time"),
    EventType.SELLER_DEAUTHORIZATION: ("message",),
    EventType.UPCOMING_AUTHORIZATION_EXPIRATION: ("message",),
    EventType.CANCELLATION_STATUS_CHANGE: ("cancellations_role", "create_time"),
    EventType.RETURN_STATUS_CHANGE: ("return_role", "return_type", "create_time", "update_time"),
}
# What the documented examples leave out, per type (AS_DOCUMENTED).
DOCUMENTED_OMISSIONS: dict[EventType, tuple[str, ...]] = {
    EventType.RECIPIENT_ADDRESS_UPDATE: ("tts_notification_id",),
}


# Reason keys (doc: return-and-refund/cancel-reasons.json, US).
SELLER_PAID_REASONS = frozenset({
    "seller_cancel_reason_out_of_stock",
    "seller_cancel_reason_wrong_price",
    "seller_cancel_paid_reason_address_not_deliver",
    "seller_cancel_paid_reason_buyer_requested_cancellation",
})
SELLER_UNPAID_REASON_PREFIX = "seller_cancel_unpaid_reason_"
OUT_OF_STOCK_REASON = "seller_cancel_reason_out_of_stock"
BUYER_DEFAULT_REASON = "ecom_order_to_ship_canceled_reason_change_of_mind"
SYSTEM_UNPAID_REASON = "system_cancel_unpaid_time_out"
SYSTEM_SHIPPING_TIMEOUT_REASON = "system_cancel_order_reason_shipping_timeout"
SYSTEM_FRAUD_REASON = "system_cancel_order_reason_risk_control"  # sandbox choice
SYSTEM_PAYMENT_FAILED_REASON = "system_cancel_payment_failed"  # sandbox choice

REASON_TEXT = {
    "seller_cancel_reason_out_of_stock": "Out of stock",
    "seller_cancel_reason_wrong_price": "Pricing error",
    "seller_cancel_paid_reason_address_not_deliver": "Unable to deliver to buyer address",
    "seller_cancel_paid_reason_buyer_requested_cancellation": "Buyer requested cancellation",
    "ecom_order_to_ship_canceled_reason_change_of_mind": "No longer needed",
    SYSTEM_UNPAID_REASON: "Payment not completed in time",
    SYSTEM_SHIPPING_TIMEOUT_REASON: "Package not shipped in time",
    SYSTEM_FRAUD_REASON: "Order cancelled by TikTok Shop (risk control)",
    "seller_center_cancel": "Cancelled by seller in Seller Center",
}
