"""Recording what happened to an action: ``apply_outcome(memory, action, outcome)``.

Pure, so the executor stays dumb: it runs an action, reports success (with the ids the
remote returned), a rejection (with the remote's message) or an unknown outcome (timeout,
lost response), and stores the memory this function returns.

ids the executor reports on success: ``shopify_order_id`` (CreateShopifyOrder, and
SearchExistingShopifyOrder when it found the order; absent when both searches found
nothing) and ``package_id`` (PushTracking, when TikTok returns one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from orderbridge.domain.actions import (
    Action,
    ApproveCancellation,
    ApproveReturn,
    CancelOnTikTok,
    CancelShopifyOrder,
    CancelThreePLOrder,
    CreateShopifyOrder,
    CreateThreePLOrder,
    FindThreePLOrder,
    PlaceHold,
    PushTracking,
    RecordNote,
    RecordPayment,
    RefundShopify,
    ReleaseHold,
    RemoveUnits,
    RequestFulfillmentServiceCancel,
    SearchExistingShopifyOrder,
    SwapCustomLine,
    UpdateShopifyAddress,
    UpdateTracking,
)
from orderbridge.domain.decide.common import fingerprint
from orderbridge.domain.link import LinkMemory, LinkState, PushedPackage, Rejection, add_unique

__all__ = ["Outcome", "OutcomeStatus", "apply_outcome"]


class OutcomeStatus(StrEnum):
    """How an action ended."""

    SUCCESS = "success"  # done (or found already done by the remote-state check)
    REJECTED = "rejected"  # the remote said no (a business rule): remembered, raised
    UNKNOWN = "unknown"  # no answer (timeout, crash): the next decision checks remote state


def _no_ids() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The result of one action at time ``at``."""

    status: OutcomeStatus
    at: datetime
    ids: Mapping[str, str] = field(default_factory=_no_ids)
    message: str = ""


def _success(memory: LinkMemory, action: Action, outcome: Outcome) -> LinkMemory:
    m = memory
    at = outcome.at
    if isinstance(action, CreateShopifyOrder | SearchExistingShopifyOrder):
        found = outcome.ids.get("shopify_order_id")
        if found:
            done = isinstance(action, CreateShopifyOrder) and (
                action.fulfilled or action.shipping_address is not None
            )
            return replace(
                m,
                shopify_order_id=found,
                state=LinkState.RELEASED if done else LinkState.CREATED_HELD,
                released_at=at if done else m.released_at,
                address_fingerprint=(
                    fingerprint(action.shipping_address)
                    if isinstance(action, CreateShopifyOrder) and action.shipping_address
                    else m.address_fingerprint
                ),
                search_started_at=None,
                empty_searches=0,
                last_empty_search_at=None,
            )
        if isinstance(action, SearchExistingShopifyOrder):
            return replace(m, empty_searches=m.empty_searches + 1, last_empty_search_at=at)
        return replace(m, state=LinkState.CREATE_UNKNOWN, search_started_at=at)
    if isinstance(action, PlaceHold):
        held = m.held_fulfillment_order_ids
        for fo in action.fulfillment_order_ids:
            held = add_unique(held, fo)
        return replace(m, held_fulfillment_order_ids=held)
    if isinstance(action, UpdateShopifyAddress):
        return replace(m, address_fingerprint=action.fingerprint)
    if isinstance(action, RecordPayment):
        return replace(m, payment_recorded=True)
    if isinstance(action, ReleaseHold):
        return replace(
            m,
            state=LinkState.RELEASED if m.state is LinkState.CREATED_HELD else m.state,
            released_at=m.released_at or at,
            released_fulfillment_order_ids=add_unique(
                m.released_fulfillment_order_ids, action.fulfillment_order_id
            ),
        )
    if isinstance(action, CancelShopifyOrder):
        job_id = outcome.ids.get("job_id") or m.cancel_job_id
        return replace(m, state=LinkState.CANCELLING, cancel_sent_at=at, cancel_job_id=job_id)
    if isinstance(action, RequestFulfillmentServiceCancel):
        return replace(m, fs_cancel_requested_at=m.fs_cancel_requested_at or at)
    if isinstance(action, CancelThreePLOrder):
        return replace(m, threepl_cancel_requested=True)
    if isinstance(action, CreateThreePLOrder):
        return replace(m, threepl_routed=action.reference)
    if isinstance(action, FindThreePLOrder):
        return replace(m, threepl_searched_at=at)
    if isinstance(action, RemoveUnits):
        removed = m.removed_line_ids
        for line_id in action.tiktok_line_ids:
            removed = add_unique(removed, line_id)
        return replace(m, removed_line_ids=removed)
    if isinstance(action, PushTracking):
        package = PushedPackage(
            fulfillment_id=action.source_fulfillment_id,
            tracking_number=action.tracking_number,
            provider_id=action.provider_id,
            line_ids=action.line_ids,
            pushed_at=at,
            package_id=outcome.ids.get("package_id", ""),
        )
        others = tuple(p for p in m.packages if p.fulfillment_id != action.source_fulfillment_id)
        used = m.push_anyway_used + (1 if action.push_anyway else 0)
        return replace(m, packages=(*others, package), push_anyway_used=used)
    if isinstance(action, UpdateTracking):
        packages = tuple(
            replace(
                p,
                tracking_number=action.tracking_number,
                provider_id=action.provider_id,
                corrections=p.corrections + 1,
            )
            if p.fulfillment_id == action.source_fulfillment_id
            else p
            for p in m.packages
        )
        return replace(m, packages=packages)
    if isinstance(action, ApproveCancellation):
        return replace(m, cancels_approved=add_unique(m.cancels_approved, action.cancel_id))
    if isinstance(action, ApproveReturn):
        return replace(m, returns_approved=add_unique(m.returns_approved, action.return_id))
    if isinstance(action, CancelOnTikTok):
        return replace(m, tiktok_cancel_done=True)
    if isinstance(action, RefundShopify):
        return replace(m, refunds_done=add_unique(m.refunds_done, action.return_id))
    if isinstance(action, RecordNote):
        return replace(m, notes_written=add_unique(m.notes_written, action.note_id))
    if isinstance(action, SwapCustomLine) and outcome.ids.get("kept_custom_line"):
        # Not swapped on purpose (the variant is cheaper than the price paid): keep it.
        return replace(m, custom_lines_kept=add_unique(m.custom_lines_kept, action.custom_line_item_id))
    # SwapCustomLine, FetchShippingProviders, AddTags: the next fetch shows the result.
    return m


def apply_outcome(memory: LinkMemory, action: Action, outcome: Outcome) -> LinkMemory:
    """The memory after ``action`` ended with ``outcome``.

    A success clears any remembered rejection of the same action. A rejection is remembered
    (``decide`` raises SHOPIFY_REJECTED / TIKTOK_REJECTED and waits before repeating it); a
    rejected create goes back to NEW. An unknown outcome records nothing except where the
    next decision could not tell by itself: a create (search before any re-create), a
    release (our hold gone is then ours, not a person's) and a cancel (wait for the job).
    """
    cleared = tuple(r for r in memory.rejections if r.key != action.key)
    if outcome.status is OutcomeStatus.SUCCESS:
        return _success(replace(memory, rejections=cleared), action, outcome)
    if outcome.status is OutcomeStatus.REJECTED:
        rejection = Rejection(action.key, action.target.value, outcome.message, outcome.at)
        m = replace(memory, rejections=(*cleared, rejection))
        if isinstance(action, CreateShopifyOrder):
            m = replace(m, state=LinkState.NEW)
        return m
    if isinstance(action, CreateShopifyOrder):
        return replace(
            memory,
            state=LinkState.CREATE_UNKNOWN,
            search_started_at=outcome.at,
            empty_searches=0,
            last_empty_search_at=None,
        )
    if isinstance(action, ReleaseHold):
        return replace(
            memory,
            released_fulfillment_order_ids=add_unique(
                memory.released_fulfillment_order_ids, action.fulfillment_order_id
            ),
        )
    if isinstance(action, CancelShopifyOrder):
        return replace(memory, state=LinkState.CANCELLING, cancel_sent_at=outcome.at)
    return memory
