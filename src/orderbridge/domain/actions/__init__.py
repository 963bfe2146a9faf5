"""The actions ``decide()`` can ask for: frozen values the engine executes.

Every action has a ``kind``, a ``priority`` (the Shopify budget order of lifecycle.md: create
and hold 0, cancellations 1, due releases 2, tracking 3, cosmetic 4), a ``target`` (which
remote it calls) and a ``key`` that names it across decisions (rejections are remembered by
key). The engine runs a decision's actions in the order given, checks remote state before
each write, stops at the first outcome that is not a success, and feeds every outcome to
``apply_outcome``.

The actions live by the remote they act on: ``shopify.py``, ``tiktok.py``, ``threepl.py``
(what they all declare: ``kinds.py``); every one is importable from here, with ``Action``.
"""

from __future__ import annotations

from orderbridge.domain.actions.kinds import (
    ActionKind,
    HoldReason,
    Priority,
    ShopifyCancelReason,
    Target,
)
from orderbridge.domain.actions.shopify import (
    AddTags,
    CancelShopifyOrder,
    CreateLine,
    CreateShopifyOrder,
    PlaceHold,
    RecordNote,
    RecordPayment,
    RefundShopify,
    ReleaseHold,
    RemoveUnits,
    RequestFulfillmentServiceCancel,
    RestoreTax,
    SearchExistingShopifyOrder,
    SwapCustomLine,
    UpdateShopifyAddress,
)
from orderbridge.domain.actions.threepl import (
    CancelThreePLOrder,
    CreateThreePLOrder,
    FindThreePLOrder,
    FulfilFromThreePL,
)
from orderbridge.domain.actions.tiktok import (
    ApproveCancellation,
    ApproveReturn,
    CancelOnTikTok,
    FetchShippingProviders,
    PushTracking,
    UpdateTracking,
)

__all__ = [
    "Action",
    "ActionKind",
    "AddTags",
    "ApproveCancellation",
    "ApproveReturn",
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

# Everything decide() may ask for.
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
