"""The actions on the TikTok order: shipping providers, tracking (push and one correction),
the answers to a buyer's cancellation or return, and a seller cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from orderbridge.domain.actions.kinds import ActionKind, Priority, Target

__all__ = [
    "ApproveCancellation",
    "ApproveReturn",
    "CancelOnTikTok",
    "FetchShippingProviders",
    "PushTracking",
    "UpdateTracking",
]


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
