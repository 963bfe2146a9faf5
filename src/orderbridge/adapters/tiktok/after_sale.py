"""Typed views of cancellations and returns (``/return_refund/202309``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, BeforeValidator, Field, field_validator

from orderbridge.adapters.tiktok._base import Flag, Money, Text, TikTokModel, UnixTime, none_as_list

__all__ = [
    "CancelLineItem",
    "CancelStatus",
    "CancelType",
    "Cancellation",
    "CancellationPage",
    "NextAction",
    "PartialRefund",
    "RefundAmount",
    "RejectReason",
    "RejectReasons",
    "ReturnLineItem",
    "ReturnPage",
    "ReturnRequest",
    "ReturnType",
    "SellerCancelResult",
]


class CancelStatus(StrEnum):
    """Cancellation request statuses."""

    PENDING = "CANCELLATION_REQUEST_PENDING"  # waiting for the seller (48 h, then auto-approved)
    SUCCESS = "CANCELLATION_REQUEST_SUCCESS"  # approved; the units are cancelled
    CANCEL = "CANCELLATION_REQUEST_CANCEL"  # withdrawn or rejected (docs also say _CANCELLED)
    COMPLETE = "CANCELLATION_REQUEST_COMPLETE"  # closed, refund done


class CancelType(StrEnum):
    """Who started a cancellation."""

    CANCEL = "CANCEL"  # by the seller or the system (or auto-accepted in the buyer window)
    BUYER_CANCEL = "BUYER_CANCEL"  # by the buyer, needs the seller's review


class ReturnType(StrEnum):
    """Kinds of after-sale request."""

    REFUND = "REFUND"  # refund only
    RETURN_AND_REFUND = "RETURN_AND_REFUND"  # goods come back, then refund
    REPLACEMENT = "REPLACEMENT"  # a new unit is sent


class RefundAmount(TikTokModel):
    currency: Text = ""
    refund_total: Money = None
    refund_subtotal: Money = None
    refund_shipping_fee: Money = None
    refund_tax: Money = None


class CancelLineItem(TikTokModel):
    order_line_item_id: Text = ""
    sku_id: Text = ""
    seller_sku: Text = ""


class NextAction(TikTokModel):
    """What the seller must do, by when (e.g. SELLER_RESPOND_CANCEL)."""

    action: Text = ""
    deadline: UnixTime = None


class Cancellation(TikTokModel):
    cancel_id: Text = ""
    order_id: Text = ""
    cancel_type: Text = ""
    cancel_status: Text = ""
    role: Text = ""  # BUYER | SELLER | SYSTEM
    cancel_reason: Text = ""  # a key such as seller_cancel_reason_out_of_stock
    cancel_reason_text: Text = ""
    create_time: UnixTime = None
    update_time: UnixTime = None
    refund_amount: RefundAmount | None = None
    cancel_line_items: Annotated[list[CancelLineItem], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    seller_next_action_response: Annotated[list[NextAction], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )

    @field_validator("cancel_status")
    @classmethod
    def _status(cls, value: str) -> str:
        return CancelStatus.CANCEL.value if value == "CANCELLATION_REQUEST_CANCELLED" else value


class CancellationPage(TikTokModel):
    cancellations: Annotated[list[Cancellation], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    next_page_token: Text = ""
    total_count: int | None = None


class SellerCancelResult(TikTokModel):
    cancel_id: Text = ""
    cancel_status: Text = ""


class ReturnLineItem(TikTokModel):
    order_line_item_id: Text = ""
    sku_id: Text = ""
    seller_sku: Text = ""


class PartialRefund(TikTokModel):
    currency: Text = ""
    amount: Money = None


class ReturnRequest(TikTokModel):
    """One return/refund/replacement request (Search Returns, API reference 202309)."""

    return_id: Text = ""
    order_id: Text = ""
    return_type: Text = ""
    return_status: Text = ""
    arbitration_status: Text = ""
    role: Text = ""
    return_reason: Text = ""
    return_reason_text: Text = ""
    return_tracking_number: Text = ""
    pre_return_id: Text = ""
    next_return_id: Text = ""
    can_buyer_keep_item: Flag = False
    seller_proposed_return_type: Text = ""
    partial_refund: PartialRefund | None = None
    create_time: UnixTime = None
    update_time: UnixTime = None
    refund_amount: RefundAmount | None = None
    return_line_items: Annotated[list[ReturnLineItem], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    seller_next_action_response: Annotated[list[NextAction], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )


class RejectReason(TikTokModel):
    name: Text = ""
    text: Text = ""


class RejectReasons(TikTokModel):
    reasons: Annotated[list[RejectReason], BeforeValidator(none_as_list)] = Field(default_factory=list)


class ReturnPage(TikTokModel):
    returns: Annotated[list[ReturnRequest], BeforeValidator(none_as_list)] = Field(
        default_factory=list, validation_alias=AliasChoices("return_orders", "returns")
    )
    next_page_token: Text = ""
    total_count: int | None = None
