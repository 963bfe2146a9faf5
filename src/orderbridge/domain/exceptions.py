"""Exceptions on an order link: problems a person must act on (lifecycle.md "Exceptions").

Not Python exceptions: an ``Issue`` is a value ``decide`` raises on one link, with a code, a
plain sentence, the data that explains it and the actions that fix it. An issue blocks only
its own order; fixing the cause resolves it by itself (``decide`` stops raising it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = ["ENGINE_CODES", "ExceptionCode", "Issue", "IssueAction", "Severity", "severity_of"]


class ExceptionCode(StrEnum):
    """Every exception code. Values are stored: never rename one."""

    UNMAPPED_SKU = "UNMAPPED_SKU"  # a TikTok SKU links to no variant: custom line, hold kept
    AMBIGUOUS_SKU = "AMBIGUOUS_SKU"  # several variants share the SKU: never pick one
    TIKTOK_SHIPPED = "TIKTOK_SHIPPED"  # TikTok ships it (TikTok Shipping / FBT): not ours
    UNKNOWN_SHIPPING_TYPE = "UNKNOWN_SHIPPING_TYPE"  # shipping/fulfilment type missing or new
    MASKED_RECIPIENT = "MASKED_RECIPIENT"  # a SELLER order still masked after its window
    UNSUPPORTED_DESTINATION = "UNSUPPORTED_DESTINATION"  # territory, APO/FPO or abroad
    INVALID_ADDRESS = "INVALID_ADDRESS"  # the unmasked address lacks a required part
    INVALID_PHONE = "INVALID_PHONE"  # the phone is not a US number: dropped (warning)
    UNSUPPORTED_CARRIER = "UNSUPPORTED_CARRIER"  # the carrier is not on TikTok's list
    INVALID_TRACKING = "INVALID_TRACKING"  # the number does not fit the carrier's formats
    NO_TRACKING = "NO_TRACKING"  # a Shopify fulfilment without a tracking number
    MULTI_TRACKING_SPLIT = "MULTI_TRACKING_SPLIT"  # several numbers on a multi-unit fulfilment
    DUPLICATE_TRACKING = "DUPLICATE_TRACKING"  # the same number on two fulfilments of one order
    NON_MCF_TRACKING = "NON_MCF_TRACKING"  # an MCF warehouse order with non-Amazon tracking
    THREEPL_EXTRA_PACKAGE = "THREEPL_EXTRA_PACKAGE"  # a 3PL parcel Shopify has no units left for
    THREEPL_ORDER_MISSING = "THREEPL_ORDER_MISSING"  # released long ago, no 3PL order found
    TRACKING_LOCKED = "TRACKING_LOCKED"  # a tracking change TikTok no longer accepts
    TRACKING_CHANGED_AFTER_PUSH = "TRACKING_CHANGED_AFTER_PUSH"  # changed, correction pending
    FULFILMENT_CANCELLED_AFTER_PUSH = "FULFILMENT_CANCELLED_AFTER_PUSH"  # TikTok has it still
    TOTALS_MISMATCH = "TOTALS_MISMATCH"  # the Shopify total differs from TikTok's (warning)
    CUSTOM_LINE_KEPT = "CUSTOM_LINE_KEPT"  # linked SKU not swapped in: its variant is cheaper
    SHOPIFY_REJECTED = "SHOPIFY_REJECTED"  # Shopify refused a mutation
    TIKTOK_REJECTED = "TIKTOK_REJECTED"  # TikTok refused a call
    AUTH_EXPIRED = "AUTH_EXPIRED"  # a token expired or was revoked (raised by the engine)
    MISSING_SCOPES = "MISSING_SCOPES"  # the Shopify app lacks scopes (raised by the engine)
    FULFILLED_BUT_CANCELLED = "FULFILLED_BUT_CANCELLED"  # TikTok cancelled, Shopify shipped
    SHOPIFY_CANCELLED = "SHOPIFY_CANCELLED"  # the merchant cancelled in Shopify only
    SHOPIFY_ORDER_GONE = "SHOPIFY_ORDER_GONE"  # the merchant deleted the Shopify order
    HOLD_RELEASED_BY_HAND = "HOLD_RELEASED_BY_HAND"  # someone released our hold early (warning)
    CANCEL_REQUEST_PENDING = "CANCEL_REQUEST_PENDING"  # a buyer request awaits a person
    CANCEL_REQUEST_BLOCKED = "CANCEL_REQUEST_BLOCKED"  # a buyer request the goods cannot stop
    CANCEL_REQUEST_STOPPING = "CANCEL_REQUEST_STOPPING"  # the desk is stopping the goods (info)
    ADDRESS_CHANGED_AFTER_SHIP = "ADDRESS_CHANGED_AFTER_SHIP"  # the buyer moved after shipping
    UNKNOWN_STATUS = "UNKNOWN_STATUS"  # a TikTok status this version does not know
    SLA_ALERT_UNDELIVERED = "SLA_ALERT_UNDELIVERED"  # an SLA alert channel failed: retrying


class Severity(StrEnum):
    """How loud an issue is."""

    ERROR = "error"  # the order is blocked until a person acts
    WARNING = "warning"  # worth a look; the order carries on
    INFO = "info"  # an explanation (e.g. why an order was skipped)


class IssueAction(StrEnum):
    """What a person may do about an issue (buttons on the dashboard)."""

    LINK_SKU = "link_sku"  # link the TikTok SKU to a variant
    RETRY = "retry"  # try the refused call again
    APPROVE = "approve"  # approve a buyer's cancellation request
    SHIP_NOW = "ship_now"  # ship: tracking rejects a buyer's request (US)
    PUSH_ANYWAY = "push_anyway"  # upload tracking that failed validation (counted)
    DISMISS = "dismiss"  # acknowledged: stop raising it
    CANCEL_ON_TIKTOK = "cancel_on_tiktok"  # cancel the TikTok order too (seller cancel)
    RECONNECT = "reconnect"  # re-authorise the connection


_WARNINGS = frozenset(
    {
        ExceptionCode.TOTALS_MISMATCH,
        ExceptionCode.CUSTOM_LINE_KEPT,
        ExceptionCode.HOLD_RELEASED_BY_HAND,
        ExceptionCode.INVALID_PHONE,
        ExceptionCode.CANCEL_REQUEST_PENDING,
        ExceptionCode.TRACKING_CHANGED_AFTER_PUSH,
        ExceptionCode.SLA_ALERT_UNDELIVERED,
        ExceptionCode.THREEPL_EXTRA_PACKAGE,
        ExceptionCode.THREEPL_ORDER_MISSING,
    }
)
_INFOS = frozenset({ExceptionCode.TIKTOK_SHIPPED, ExceptionCode.CANCEL_REQUEST_STOPPING})

# Raised and resolved by the engine (per connection; the SLA alerter per order), never by
# ``decide``: a decision neither raises nor resolves them.
ENGINE_CODES = frozenset(
    {
        ExceptionCode.AUTH_EXPIRED,
        ExceptionCode.MISSING_SCOPES,
        ExceptionCode.SLA_ALERT_UNDELIVERED,
    }
)


def severity_of(code: ExceptionCode) -> Severity:
    """The severity of a code: warnings never block; TIKTOK_SHIPPED only explains a skip."""
    if code in _WARNINGS:
        return Severity.WARNING
    if code in _INFOS:
        return Severity.INFO
    return Severity.ERROR


def _no_data() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One exception on a link: ``message`` is a plain sentence for the merchant."""

    code: ExceptionCode
    message: str
    data: Mapping[str, str] = field(default_factory=_no_data)
    actions: tuple[IssueAction, ...] = (IssueAction.DISMISS,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    @property
    def severity(self) -> Severity:
        """Error, warning or info, by code."""
        return severity_of(self.code)
