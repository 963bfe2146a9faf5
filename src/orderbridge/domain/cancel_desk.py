"""The cancellation desk's rules: can a buyer's request still be granted without the parcel
leaving, what stopping it takes, and where each pending request stands.

lifecycle.md ("Buyer cancellation request"): a request can be granted only when the goods
can still be stopped: the Shopify order has no fulfilment and the 3PL order, if any, is
still cancellable. The 3PLs say so differently (docs: Fulfillment Outbound 2020-07-01 and
ShipBob's status reference, summarised in ``docs/operations.md``):

- Amazon MCF cancels only while ``Received`` or ``Planning`` (any case; Amazon's own
  examples write ``RECEIVED``) *and* with no shipment that is not itself cancelled;
- ShipBob cancels while no shipment is picked (picked, packed, labelled, shipped) and the
  order is not already fulfilled.

Pure: the engine reads the 3PL and Shopify, the adapters turn their JSON into
``ThreePLView`` / ``ShopifyOrderView``, and these functions decide.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from orderbridge.domain.observed import ShopifyOrderView, ThreePLView

__all__ = [
    "ALERTED_STATES",
    "AMAZON_MCF",
    "CANCEL_ALERT_HOURS",
    "MCF_CANCELLABLE_STATUSES",
    "SHIPBOB",
    "SHIPBOB_DONE_STATUSES",
    "CancelAlertPlan",
    "DeskState",
    "Stoppability",
    "cancel_alert_plan",
    "desk_state",
    "stoppability",
    "threepl_stoppable",
]

AMAZON_MCF: Final = "amazon_mcf"
SHIPBOB: Final = "shipbob"
# Amazon: fulfillmentOrderStatus values in which cancelFulfillmentOrder is accepted (folded).
MCF_CANCELLABLE_STATUSES: Final = frozenset({"received", "planning"})
# ShipBob order statuses after which nothing can be stopped (folded, no spaces).
SHIPBOB_DONE_STATUSES: Final = frozenset({"fulfilled", "partiallyfulfilled", "completed"})
_FS_IN_PROGRESS: Final = "IN_PROGRESS"
_NAMES: Final = {AMAZON_MCF: "Amazon MCF", SHIPBOB: "ShipBob"}


def _fold(status: str) -> str:
    return status.replace("_", "").replace(" ", "").strip().lower()


def threepl_stoppable(view: ThreePLView) -> tuple[bool, str]:
    """Whether the 3PL can still cancel its order, and why not (empty when it can)."""
    name = _NAMES.get(view.provider, "the 3PL")
    status = view.status or "in progress"
    if view.cancelled:
        return True, ""
    if view.provider == AMAZON_MCF:
        if _fold(view.status) not in MCF_CANCELLABLE_STATUSES:
            return False, f"{name} order {view.order_id} is already {status} (cancellable only while Received or Planning)"
        if view.live_shipments:
            return False, f"{name} order {view.order_id} already has {view.live_shipments} shipment(s)"
        return True, ""
    if view.provider == SHIPBOB:
        if view.picked or _fold(view.status) in SHIPBOB_DONE_STATUSES:
            return False, f"{name} order {view.order_id} is already picked ({status})"
        return True, ""
    if view.cancellable:
        return True, ""
    return False, f"the 3PL order is already {status}"


@dataclass(frozen=True, slots=True)
class Stoppability:
    """Whether a request's goods can still be stopped; ``reason`` says why not, ``steps``
    what stopping them takes, in order (the last is always the approval on TikTok)."""

    stoppable: bool
    reason: str = ""
    steps: tuple[str, ...] = ()


def stoppability(view: ShopifyOrderView | None, threepl: ThreePLView | None) -> Stoppability:
    """Can the goods still be stopped, given the Shopify order and the 3PL order (if any)?"""
    if view is not None and view.shipped:
        return Stoppability(False, "Shopify already has a fulfilment for it")
    steps: list[str] = []
    if threepl is not None:
        ok, why = threepl_stoppable(threepl)
        if not ok:
            return Stoppability(False, why)
        if not threepl.cancelled:
            steps.append(f"cancel at {_NAMES.get(threepl.provider, 'the 3PL')} ({threepl.order_id})")
    if view is not None and view.cancelled_at is None:
        if any(fo.fulfillment_service and fo.status.upper() == _FS_IN_PROGRESS for fo in view.fulfillment_orders):
            steps.append("ask the fulfilment service to cancel (Shopify cancellation request)")
        steps.append("cancel in Shopify (restocked)")
    steps.append("approve on TikTok")
    return Stoppability(True, "", tuple(steps))


class DeskState(StrEnum):
    """Where a pending buyer request stands (stored in the desk's exception data)."""

    AWAITING_PERSON = "awaiting_person"  # stoppable; a person approves (auto-approve off)
    STOPPING = "stopping"  # OrderBridge is stopping the goods, then approves
    BLOCKED = "blocked"  # cannot be stopped: ship it before TikTok's deadline


def desk_state(stop: Stoppability, *, auto_approve: bool, person_approved: bool) -> DeskState:
    """The request's state on the desk."""
    if not stop.stoppable:
        return DeskState.BLOCKED
    if auto_approve or person_approved:
        return DeskState.STOPPING
    return DeskState.AWAITING_PERSON


# Hours before TikTok's deadline at which a person is alerted (TikTok gives 48 h; past the
# deadline TikTok decides by itself, so there is no "breached" alert to send).
CANCEL_ALERT_HOURS: Final = (12, 4, 1)
# Requests a person must act on before the deadline: approve, or ship (the desk alone waits).
ALERTED_STATES: Final = frozenset({DeskState.AWAITING_PERSON, DeskState.BLOCKED})


@dataclass(frozen=True, slots=True)
class CancelAlertPlan:
    """Thresholds newly crossed (all recorded) and the one to send (the most urgent)."""

    record: tuple[str, ...]
    send: str


def cancel_alert_plan(state: DeskState, deadline: datetime | None, now: datetime,
                      already: Collection[str]) -> CancelAlertPlan | None:
    """The alert due for a pending request, once per threshold (``cancel_12h`` ...); ``None``:
    none (no deadline, not a person's to act on, nothing new, or the deadline has passed)."""
    if deadline is None or state not in ALERTED_STATES or now >= deadline:
        return None
    crossed = tuple(f"cancel_{h}h" for h in CANCEL_ALERT_HOURS if now >= deadline - timedelta(hours=h))
    new = tuple(t for t in crossed if t not in already)
    if not new:
        return None
    return CancelAlertPlan(record=new, send=new[-1])
