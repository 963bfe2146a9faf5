"""The cancellation desk: every pending buyer cancellation request, where it stands, and a
person's approval; plus where the engine finds an order's 3PL order.

The desk is read from the ``CANCEL_REQUEST_*`` exceptions ``decide()`` keeps on each order
with a pending request (``adapters/db/cancel_desk.py``): TikTok's deadline to answer (the
request's ``seller_next_action_response.deadline``, never computed), the desk state
(``awaiting_person``, ``stopping``, ``blocked``), why it cannot be stopped, and the steps
stopping it takes. Used by ``orderbridge cancellations`` and ``/api/cancellations``.

A person's approval is the override ``LinkMemory.approve_cancellation``: the desk then
stops the goods (3PL, Shopify) and approves on TikTok, never the other way round.
``approve`` without ``cancel_downstream`` refuses when stopping needs a write outside
Shopify (a 3PL order, or a fulfilment service asked through Shopify): the person says so
explicitly with ``cancel_downstream``. A request that cannot be stopped is refused either
way (ship it: the tracking rejects it; TikTok's Reject is retired for US sellers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from orderbridge.adapters.db.cancel_desk import DbConnection, DeskRecord, desk_records
from orderbridge.adapters.threepl_lookup import ThreePLClient, ThreePLHandle, find_threepl_order
from orderbridge.domain.cancel_desk import DeskState
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    ShopifyOrderView,
    ThreePLView,
)
from orderbridge.domain.order import TikTokOrder

__all__ = [
    "DESK_CODES",
    "ApprovalRefused",
    "DeskItem",
    "OneThreePL",
    "ReferenceKind",
    "ThreePLLocator",
    "ThreePLUnreadable",
    "check_approval",
    "desk_json",
    "look_up_threepl",
    "read_cancel_desk",
    "reference_of",
    "stored_view",
    "wants_threepl",
]

DESK_CODES: Final = (ExceptionCode.CANCEL_REQUEST_PENDING, ExceptionCode.CANCEL_REQUEST_BLOCKED,
                     ExceptionCode.CANCEL_REQUEST_STOPPING)
_STATE_BY_CODE: Final = {
    ExceptionCode.CANCEL_REQUEST_PENDING.value: DeskState.AWAITING_PERSON,
    ExceptionCode.CANCEL_REQUEST_BLOCKED.value: DeskState.BLOCKED,
    ExceptionCode.CANCEL_REQUEST_STOPPING.value: DeskState.STOPPING,
}
_SHOPIFY_GID: Final = "gid://shopify/Order/"
_SERVICE_STEP: Final = "fulfilment service"


class ReferenceKind(StrEnum):
    """What the seller's Shopify->3PL app uses as the 3PL order's reference."""

    SHOPIFY_ORDER_NAME = "shopify_order_name"  # "#1001"
    SHOPIFY_ORDER_ID = "shopify_order_id"  # the numeric id of the Shopify order
    TIKTOK_ORDER_ID = "tiktok_order_id"


def reference_of(kind: ReferenceKind, order: TikTokOrder, shopify: ShopifyOrderView | None) -> str | None:
    """The reference of this order, or ``None`` while it is not known (no Shopify order)."""
    if kind is ReferenceKind.TIKTOK_ORDER_ID:
        return order.id
    if shopify is None:
        return None
    if kind is ReferenceKind.SHOPIFY_ORDER_NAME:
        return shopify.name or None
    return shopify.id.removeprefix(_SHOPIFY_GID) or None


class ThreePLLocator(Protocol):
    """Which 3PL holds an order and by which reference (``None``: no 3PL for it)."""

    def __call__(self, connection_id: int, order: TikTokOrder,
                 shopify: ShopifyOrderView | None) -> ThreePLHandle | None: ...


@dataclass(frozen=True, slots=True)
class OneThreePL:
    """Every order of the connections given (all when ``None``) is at one 3PL, found by one
    reference kind: the simplest locator (a per-location mapping can replace it). Build the
    client on a ``Runtime`` whose recorder is a ``RoutingRecorder``: its calls then go on the
    timeline of the order being worked on, like TikTok's and Shopify's."""

    client: ThreePLClient
    reference: ReferenceKind = ReferenceKind.SHOPIFY_ORDER_NAME
    connection_ids: frozenset[int] | None = None

    def __call__(self, connection_id: int, order: TikTokOrder,
                 shopify: ShopifyOrderView | None) -> ThreePLHandle | None:
        if self.connection_ids is not None and connection_id not in self.connection_ids:
            return None
        ref = reference_of(self.reference, order, shopify)
        return None if ref is None else ThreePLHandle(self.client, ref)


def wants_threepl(cancellations: Sequence[Cancellation], approved: Sequence[str]) -> bool:
    """Read the 3PL only for an order with a buyer request still pending (the desk needs it)."""
    return any(c.type is CancellationType.BUYER_CANCEL and c.status is CancellationStatus.PENDING
               and c.cancel_id not in approved for c in cancellations)


@dataclass(frozen=True, slots=True)
class DeskItem:
    """One pending buyer cancellation request on the desk."""

    record: DeskRecord
    state: DeskState
    cancel_id: str
    deadline: datetime | None
    reason: str
    stoppable: bool
    why: str
    steps: tuple[str, ...]
    threepl: str
    threepl_order_id: str
    threepl_status: str


def _deadline(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _item(record: DeskRecord) -> DeskItem:
    d = record.data
    steps = tuple(s for s in str(d.get("steps") or "").split("; ") if s)
    return DeskItem(
        record=record, state=_STATE_BY_CODE[record.code], cancel_id=str(d.get("cancel_id") or ""),
        deadline=_deadline(d.get("deadline")), reason=str(d.get("reason_text") or d.get("reason") or ""),
        stoppable=d.get("stoppable", "true") != "false" and record.code != ExceptionCode.CANCEL_REQUEST_BLOCKED,
        why=str(d.get("why") or ""), steps=steps, threepl=str(d.get("threepl") or ""),
        threepl_order_id=str(d.get("threepl_order_id") or ""), threepl_status=str(d.get("threepl_status") or ""),
    )


def read_cancel_desk(conn: DbConnection, *, connection_id: int | None = None,
                     tiktok_order_id: str | None = None) -> list[DeskItem]:
    """Every pending request, the nearest TikTok deadline first (none given last)."""
    items = [_item(r) for r in desk_records(conn, [c.value for c in DESK_CODES], connection_id=connection_id,
                                            tiktok_order_id=tiktok_order_id)]
    return sorted(items, key=lambda i: (i.deadline is None, i.deadline.timestamp() if i.deadline else 0.0,
                                        i.record.link_id))


def desk_json(item: DeskItem, now: datetime) -> dict[str, Any]:
    """The JSON the CLI (``--json``) and the API answer for one request."""
    r = item.record
    left = None if item.deadline is None else int((item.deadline - now).total_seconds())
    return {
        "tiktok_order_id": r.tiktok_order_id, "connection": r.connection, "connection_id": r.connection_id,
        "shopify_order_id": r.shopify_order_id, "shopify_order_name": r.shopify_order_name,
        "cancel_id": item.cancel_id, "state": item.state.value, "stoppable": item.stoppable,
        "why_not": item.why or None, "steps": list(item.steps),
        "deadline": item.deadline.isoformat() if item.deadline else None, "seconds_left": left,
        "reason": item.reason, "threepl": item.threepl or None,
        "threepl_order_id": item.threepl_order_id or None, "threepl_status": item.threepl_status or None,
        "exception_id": r.exception_id, "since": r.opened_at.isoformat(),
        "actions": _actions(item),
    }


def _actions(item: DeskItem) -> list[str]:
    """What a person may do now (never "reject": retired for US sellers; shipping rejects)."""
    if item.state is DeskState.STOPPING:
        return []
    if not item.stoppable:
        return ["ship_now"]
    downstream = any(s.startswith("cancel at") or _SERVICE_STEP in s for s in item.steps)
    return ["approve_cancel_downstream" if downstream else "approve", "ship_now"]


class ApprovalRefused(ValueError):
    """The approval does not apply to this request (HTTP 409)."""


def check_approval(item: DeskItem, *, cancel_downstream: bool) -> None:
    """Raise ``ApprovalRefused`` unless a person may approve ``item`` this way."""
    if not item.stoppable:
        deadline = item.deadline.isoformat() if item.deadline else "no deadline given"
        raise ApprovalRefused(
            f"the goods of {item.record.tiktok_order_id} cannot be stopped ({item.why}); ship it before "
            f"{deadline}: the tracking rejects the request (TikTok's Reject is retired for US sellers)")
    if item.state is DeskState.STOPPING:
        raise ApprovalRefused(
            f"{item.record.tiktok_order_id} is already being stopped and approved by OrderBridge")
    downstream = [s for s in item.steps if s.startswith("cancel at") or _SERVICE_STEP in s]
    if downstream and not cancel_downstream:
        raise ApprovalRefused(
            f"approving {item.record.tiktok_order_id} first needs: {'; '.join(downstream)}; "
            "approve with cancel_downstream (CLI: --cancel-downstream) to let OrderBridge do it")


class ThreePLUnreadable(RuntimeError):
    """The 3PL order of an order with a pending request could not be read: the desk must
    not decide without it (it could approve while the 3PL ships)."""


async def look_up_threepl(locator: ThreePLLocator | None, connection_id: int, order: TikTokOrder,
                          shopify: ShopifyOrderView | None,
                          cancellations: Sequence[Cancellation], approved: Sequence[str],
                          ) -> tuple[ThreePLHandle | None, ThreePLView | None]:
    """The 3PL order of an order with a pending buyer request: ``(handle, view)``, both
    ``None`` when no request is pending or no 3PL holds it; ``view`` ``None`` when the 3PL
    has no such order. Raises ``ThreePLUnreadable`` when the 3PL cannot be asked now."""
    if locator is None or not wants_threepl(cancellations, approved):
        return None, None
    handle = locator(connection_id, order, shopify)
    if handle is None:
        return None, None
    # Every reference the seller's app may have used, in the policy's order: a request must
    # never count as stoppable only because the first reference found nothing.
    for reference in (handle.reference, *handle.alternatives):
        try:
            view = await find_threepl_order(handle.client, reference)
        except Exception as exc:  # any failure (auth included) is this order's, never the connection's
            raise ThreePLUnreadable(f"the 3PL order {reference} could not be read: "
                                    f"{type(exc).__name__}: {exc}") from exc
        if view is not None:
            return replace(handle, reference=reference, alternatives=()), view
    return handle, None


def stored_view(shopify_order_id: str | None, name: str | None) -> ShopifyOrderView | None:
    """The Shopify order as far as the link knows it without a read (id and name)."""
    return None if not shopify_order_id else ShopifyOrderView(id=shopify_order_id, name=name or "")
