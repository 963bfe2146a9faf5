"""TikTok response codes and their mapping onto ``orderbridge.errors``.

Mapping (first match wins):

=====================================================  =====================================
HTTP 429 or code 36009002                              RateLimited (carries Retry-After)
105002 access token expired                            TokenExpired (an AuthError); the client
                                                       refreshes once and retries
105005, 106001, 101000, 106013, 36009004, 36009033     AuthError (36009004 is a catch-all:
                                                       TikTok's message is kept)
36009004 naming the version ("Invalid version")       Rejected (a wrong path, not a credential)
36009003, 36009007, the fulfilment endpoints'          UpstreamUnavailable
"system process error / timeout" codes, HTTP 5xx
21008111 (order is not the seller's)                   NotFound
HTTP 401/403/404 without a code                        AuthError / NotFound
any other code                                         Rejected, with the code kept
=====================================================  =====================================

Timeouts and connection errors become ``RemoteTimeout`` in the client.

Each code of Mark Package As Shipped and Update (Package) Shipping Info that TikTok
documents is named below (reference pages: https://partner.tiktokshop.com/docv2/page/
6503c95456e2bb0289ee4e81, 650ab7c40fcef602bf346f3a, 650aa666c16ffe02b8f1203c) and belongs
to one group the engine acts on: ``ALREADY_SHIPPED_CODES`` (a lost answer is checked against
a fresh read), ``UPDATE_REFUSED_CODES`` (the one correction is spent or too late),
``TRACKING_MISMATCH_CODES``, ``NOT_SHIPPABLE_NOW_CODES`` (status allows no shipping yet),
``UPSTREAM_CODES`` (TikTok's own failures: retry); any other code is a ``Rejected``.
"""

from __future__ import annotations

from enum import IntEnum
from http import HTTPStatus

from orderbridge.errors import (
    AuthError,
    NotFound,
    PermanentError,
    RateLimited,
    Rejected,
    RemoteError,
    RetryableError,
    UpstreamUnavailable,
)

__all__ = [
    "ALREADY_SHIPPED_CODES",
    "API_NAME",
    "AUTH_CODES",
    "NOT_SHIPPABLE_NOW_CODES",
    "TRACKING_MISMATCH_CODES",
    "UPDATE_REFUSED_CODES",
    "UPSTREAM_CODES",
    "InvalidResponse",
    "StaleTimestamp",
    "TikTokCode",
    "TokenExpired",
    "error_for",
]

API_NAME = "tiktok"


class TikTokCode(IntEnum):
    """TikTok codes the program reacts to (numbers on the wire, hence IntEnum)."""

    OK = 0  # success
    INVALID_TOKEN = 101000  # bad access token, or token and shop do not match
    ACCESS_TOKEN_EXPIRED = 105002  # refresh the token and retry
    MISSING_SCOPE = 105005  # the app lacks the scope for this API
    INVALID_SIGN = 106001  # the sign parameter is wrong
    SHOP_CIPHER_MISSING = 106013  # shop_cipher required but absent
    RATE_LIMITED = 36009002  # over 50 QPS for this API and shop
    INTERNAL_ERROR = 36009003  # TikTok internal error; retry
    GATEWAY_REJECTED = 36009004  # catch-all: sign, token, app_key, timestamp, cipher, version
    GATEWAY_TIMEOUT = 36009007  # TikTok timed out
    INVALID_PATH = 36009009  # no such path
    INVALID_METHOD = 36009010  # wrong HTTP method for the path
    INVALID_VERSION = 36009014  # unknown API version in the path (older docs; now 36009004)
    IP_NOT_ALLOWED = 36009033  # caller IP not on the app's allow-list
    SHIP_CANNOT_UPDATE_IN_STATUS = 10007002  # update shipping info: not in the order's current status
    SYSTEM_TIMEOUT = 11001027  # system timeout; retry
    SYSTEM_PROCESS_ERROR = 11001031  # system process error; retry
    WAREHOUSE_NOT_FOUND = 11005004  # warehouse does not exist
    LEAD_TIME_ERROR = 11005010  # lead time lookup failed
    SYSTEM_PROCESS_ERROR_2 = 11006005  # system process error; retry
    SYSTEM_PROCESS_ERROR_3 = 11006026  # system process error; retry
    NO_SHIPPING_SERVICE = 11021009  # no shipping service for this request
    TRACKING_PROVIDER_MISMATCH = 11028006  # tracking number matches no carrier
    INVALID_PARAM = 11050001  # invalid param
    INVALID_PARAMETERS = 21001001  # invalid parameters
    SYSTEM_PROCESS_ERROR_4 = 21001008  # system process error; retry
    SYSTEM_PROCESS_ERROR_5 = 21001011  # system process error; retry
    LOGISTICS_RPC_FAILED = 21001029  # TikTok's logistics service call failed; retry
    SYSTEM_PROCESS_ERROR_6 = 21001043  # system process error; retry
    SYSTEM_PROCESS_ERROR_7 = 21001055  # system process error; retry
    TRACKING_SPECIAL_CHARACTERS = 21004012  # tracking number has special characters
    TRACKING_INVALID = 21004015  # tracking number does not fit the provider
    TRACKING_NO_SERVICE = 21004016  # tracking number fits no available service or provider
    INVOICE_REQUIRED = 21004019  # invoices must be uploaded before shipping
    INVOICE_NOT_READY = 21004020  # invoice status is not success
    PLATFORM_FULFILLED = 21008025  # TikTok fulfils this order; the seller cannot ship it
    LABEL_ALREADY_PRINTED = 21008042  # the seller already printed a shipping label
    IN_REVERSE = 21008044  # units under an after-sale (reverse) flow
    ALREADY_SHIPPED = 21008099  # "Package has been shipped": those lines already shipped
    REGION_NOT_SUPPORTED = 21008106  # this interface is not available in the region
    SYSTEM_PROCESS_ERROR_8 = 21008300  # system process error; retry
    NOT_SELLERS_ORDER = 21008111  # the order does not exist for this seller
    TIKTOK_SHIPPING_OPTION = 21008117  # delivery option is TikTok-shipped: no provider list
    FULFILL_ACTION_NOT_ALLOWED = 21011003  # the order's status allows no shipping (e.g. ON_HOLD)
    NOT_SELLER_SHIPPED = 21011004  # not a seller-shipped package
    ORDERS_ALREADY_SHIPPED = 21011006  # "These orders are already shipped"
    PENDING_AFTER_SALE = 21011007  # a cancellation/return request is pending
    TRADE_RULE = 21011012  # does not match a trade rule
    LOGISTICS_RULE = 21011013  # does not match a logistics rule
    ORDERS_ALREADY_SHIPPED_2 = 21011020  # "These orders are already shipped"
    TRACKING_FORMAT_MISMATCH = 21011022  # invalid tracking number or provider id
    DUPLICATE_TRACKING = 21011025  # the same tracking number was already used
    TRACKING_USED_TOO_OFTEN = 21011026  # the tracking number is used over the limit
    PACKAGE_NOT_THE_SHOPS = 21011028  # the package does not belong to the shop
    ORDER_NOT_IN_UNIT = 21011029  # the order does not belong to the fulfil unit
    ALREADY_DELIVERED = 21011030  # delivered: tracking can no longer change
    ORDER_COMBINED = 21011033  # the order is already combined
    SPLIT_SAME_SKU = 21011036  # one SKU split across packages is not allowed
    ORDER_CANCELLED = 21011041  # the order is cancelled
    ORDER_CANCELLED_2 = 21011042  # the order is cancelled
    NOT_SHIPPED_YET = 21011043  # the package has not shipped yet
    ORDER_ON_HOLD = 21011044  # ON_HOLD remorse window (other fulfilment endpoints)
    COMBINED_NO_SPLIT = 21011046  # a combined order cannot be split
    SPECIFY_LINES = 21011048  # several packages could ship: name the lines
    UPDATE_PLATFORM_RULE = 21011049  # the platform's rules refuse the tracking update
    UPDATE_WINDOW_PASSED = 21011050  # tracking can be updated only within some hours (72 h US)
    ALREADY_UPDATED = 21011051  # tracking can be updated only once
    UPDATE_LIMIT_REACHED = 21011052  # tracking can be updated only a limited number of times
    CANNOT_SHIP_ADDRESS = 21021010  # failed to ship: the buyer's address cannot be served
    LABEL_ALREADY_PURCHASED = 21022025  # a shipping label was already purchased
    LABEL_PURCHASE_FAILED = 21022026  # a label could not be purchased; retry later
    SPLIT_FAILED = 21022028  # the package split failed
    SYSTEM_PROCESS_ERROR_9 = 21022029  # system process error; retry
    SYSTEM_PROCESS_ERROR_10 = 21022030  # system process error; retry
    PACKAGE_ATTRIBUTES_LOCKED = 21032001  # the unit's status allows no package change
    ROUTE_ERROR = 21034006  # a routing decision failed; retry
    TRACKING_ALREADY_USED = 21034012  # the tracking number has been used
    ORDERS_ALREADY_SHIPPED_3 = 21042056  # "These orders are already shipped"
    NOT_AWAITING_SHIPMENT = 21042057  # the orders are not awaiting shipment
    RETURN_DONE_OR_CANCELLED = 25001010  # a return completed, or the order was cancelled
    CANCEL_REASON_NOT_ALLOWED = 25001021  # reason does not fit the order status


AUTH_CODES = frozenset(
    {
        TikTokCode.INVALID_TOKEN,
        TikTokCode.MISSING_SCOPE,
        TikTokCode.INVALID_SIGN,
        TikTokCode.SHOP_CIPHER_MISSING,
        TikTokCode.GATEWAY_REJECTED,
        TikTokCode.IP_NOT_ALLOWED,
    }
)
# TikTok's own failures ("system process error, please try again later", timeouts, its
# internal calls): retried like a 5xx.
UPSTREAM_CODES = frozenset({
    TikTokCode.INTERNAL_ERROR, TikTokCode.GATEWAY_TIMEOUT, TikTokCode.SYSTEM_TIMEOUT,
    TikTokCode.SYSTEM_PROCESS_ERROR, TikTokCode.SYSTEM_PROCESS_ERROR_2, TikTokCode.SYSTEM_PROCESS_ERROR_3,
    TikTokCode.SYSTEM_PROCESS_ERROR_4, TikTokCode.SYSTEM_PROCESS_ERROR_5, TikTokCode.LOGISTICS_RPC_FAILED,
    TikTokCode.SYSTEM_PROCESS_ERROR_6, TikTokCode.SYSTEM_PROCESS_ERROR_7, TikTokCode.SYSTEM_PROCESS_ERROR_8,
    TikTokCode.SYSTEM_PROCESS_ERROR_9, TikTokCode.SYSTEM_PROCESS_ERROR_10, TikTokCode.ROUTE_ERROR,
    TikTokCode.LABEL_PURCHASE_FAILED,
})
TRACKING_MISMATCH_CODES = frozenset(
    {
        TikTokCode.TRACKING_INVALID,
        TikTokCode.TRACKING_FORMAT_MISMATCH,
        TikTokCode.TRACKING_PROVIDER_MISMATCH,
        TikTokCode.TRACKING_SPECIAL_CHARACTERS,
        TikTokCode.TRACKING_NO_SERVICE,
    }
)
# "Already shipped", in each spelling Mark Package As Shipped documents.
ALREADY_SHIPPED_CODES = frozenset({
    TikTokCode.ALREADY_SHIPPED, TikTokCode.ORDERS_ALREADY_SHIPPED, TikTokCode.ORDERS_ALREADY_SHIPPED_2,
    TikTokCode.ORDERS_ALREADY_SHIPPED_3,
})
# The tracking correction is spent (once, a limited number of times) or too late.
UPDATE_REFUSED_CODES = frozenset({
    TikTokCode.UPDATE_PLATFORM_RULE, TikTokCode.UPDATE_WINDOW_PASSED, TikTokCode.ALREADY_UPDATED,
    TikTokCode.UPDATE_LIMIT_REACHED,
})
# The order's status allows no shipping yet (ON_HOLD, not yet awaiting shipment).
NOT_SHIPPABLE_NOW_CODES = frozenset({
    TikTokCode.FULFILL_ACTION_NOT_ALLOWED, TikTokCode.ORDER_ON_HOLD, TikTokCode.NOT_AWAITING_SHIPMENT,
})


class TokenExpired(AuthError):
    """TikTok said the access token has expired (105002)."""


class StaleTimestamp(RetryableError):
    """TikTok's gateway refused the request's timestamp (36009004, "timestamp").

    The request was not executed, so it is safe to sign again with a fresh timestamp, even
    for a write. Repeated, it means this machine's clock is off by more than TikTok's window
    (-5 min / +30 s): check NTP.
    """


class InvalidResponse(PermanentError):
    """TikTok answered success with a payload we cannot read."""


def error_for(
    *,
    operation: str,
    code: int | None,
    message: str,
    status: int | None,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> RemoteError:
    """The typed error for a failed TikTok response (``code`` None when there was none)."""
    label = f"code {code}" if code is not None else f"HTTP {status}"
    text = f"TikTok {operation}: {message or 'no message'} ({label})"

    def make(kind: type[RemoteError]) -> RemoteError:
        return kind(
            text, api=API_NAME, operation=operation, code=code, request_id=request_id, status=status
        )

    if status == HTTPStatus.TOO_MANY_REQUESTS or code == TikTokCode.RATE_LIMITED:
        return RateLimited(
            text,
            retry_after=retry_after,
            api=API_NAME,
            operation=operation,
            code=code,
            request_id=request_id,
            status=status,
        )
    if code == TikTokCode.ACCESS_TOKEN_EXPIRED:
        return make(TokenExpired)
    if code == TikTokCode.GATEWAY_REJECTED and "timestamp" in (message or "").lower():
        return StaleTimestamp(
            f"{text}; signed again with a fresh timestamp (if this repeats, check this "
            "machine's clock: TikTok allows -5 min / +30 s)",
            api=API_NAME, operation=operation, code=code, request_id=request_id, status=status,
        )
    if code == TikTokCode.GATEWAY_REJECTED and "version" in (message or "").lower():
        return make(Rejected)  # a path this client should not use; no credential is wrong
    if code in AUTH_CODES:
        return make(AuthError)
    if code in UPSTREAM_CODES or (
        status is not None and status >= HTTPStatus.INTERNAL_SERVER_ERROR
    ):
        return make(UpstreamUnavailable)
    if code == TikTokCode.NOT_SELLERS_ORDER:
        return make(NotFound)
    if code is None and status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return make(AuthError)
    if code is None and status == HTTPStatus.NOT_FOUND:
        return make(NotFound)
    return make(Rejected)
