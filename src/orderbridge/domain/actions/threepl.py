"""The actions on the order's 3PL order: create it, find it, cancel it, and write the parcels
it shipped to Shopify as fulfilments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from orderbridge.domain.actions.kinds import ActionKind, Priority, Target
from orderbridge.domain.address import ShippingAddress

__all__ = [
    "CancelThreePLOrder",
    "CreateThreePLOrder",
    "FindThreePLOrder",
    "FulfilFromThreePL",
]


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
