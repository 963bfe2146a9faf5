"""TikTok response codes and their mapping onto ``orderbridge.errors``.

Mapping (first match wins):

=====================================================  =====================================
HTTP 429 or code 36009002                              RateLimited (carries Retry-After)
105002 access token expired                            TokenExpired (an AuthError); the client
                                                       refreshes once and retries
105005, 106001, 101000, 106013, 36009004, 36009033     AuthError (36009004 is a catch-all:
                                                       TikTok's message is kept)
36009003, 36009007, HTTP 5xx                           UpstreamUnavailable
21008111 (order is not the seller's)                   NotFound
HTTP 401/403/404 without a code                        AuthError / NotFound
any other code                                         Rejected, with the code kept
=====================================================  =====================================

Timeouts and connection errors become ``RemoteTimeout`` in the client.
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
    "API_NAME",
    "AUTH_CODES",
    "TRACKING_MISMATCH_CODES",
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
    INVALID_VERSION = 36009014  # unknown API version in the path
    IP_NOT_ALLOWED = 36009033  # caller IP not on the app's allow-list
    TRACKING_PROVIDER_MISMATCH = 11028006  # tracking number does not fit the provider
    TRACKING_INVALID = 21004015  # tracking number does not fit the provider
    PLATFORM_FULFILLED = 21008025  # TikTok fulfils this order; the seller cannot ship it
    ALREADY_SHIPPED = 21008099  # the order (or those lines) already shipped
    NOT_SELLERS_ORDER = 21008111  # the order does not exist for this seller
    TIKTOK_SHIPPING_OPTION = 21008117  # delivery option is TikTok-shipped: no provider list
    PENDING_AFTER_SALE = 21011007  # a cancellation/return request is pending
    TRACKING_FORMAT_MISMATCH = 21011022  # tracking number does not fit the provider
    DUPLICATE_TRACKING = 21011025  # the same tracking number was already used
    ORDER_ON_HOLD = 21011044  # ON_HOLD remorse window: no fulfilment yet
    UPDATE_WINDOW_PASSED = 21011049  # tracking can be corrected only within 72 h
    ALREADY_UPDATED = 21011051  # tracking can be corrected only once
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
UPSTREAM_CODES = frozenset({TikTokCode.INTERNAL_ERROR, TikTokCode.GATEWAY_TIMEOUT})
TRACKING_MISMATCH_CODES = frozenset(
    {
        TikTokCode.TRACKING_INVALID,
        TikTokCode.TRACKING_FORMAT_MISMATCH,
        TikTokCode.TRACKING_PROVIDER_MISMATCH,
    }
)


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
