"""The executor's TikTok actions (see ``executor.py`` for the rules every action follows).

Module functions rather than ``ActionExecutor`` methods only to keep each module small; they take
the same ``ExecutionContext`` and return the same ``Outcome``. ``Refused`` (a local refusal,
mapped to REJECTED) and ``succeed`` are shared with ``executor.py``.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from orderbridge.adapters.tiktok import CancellationFilter, ReturnFilter
from orderbridge.adapters.tiktok.codes import (
    ALREADY_SHIPPED_CODES,
    UPDATE_REFUSED_CODES,
    TikTokCode,
)
from orderbridge.adapters.tiktok.translate import (
    to_domain_cancellation,
    to_domain_order,
    to_domain_return,
)
from orderbridge.domain import actions
from orderbridge.domain.observed import CancellationStatus
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.domain.returns import approve_decision
from orderbridge.errors import Rejected

if TYPE_CHECKING:
    from orderbridge.engine.executor.core import ExecutionContext

__all__ = [
    "Providers",
    "Refused",
    "approve_cancellation",
    "approve_return",
    "cancel_on_tiktok",
    "fetch_providers",
    "push_tracking",
    "seller_cancel_reason",
    "succeed",
    "update_tracking",
]

# TikTok's providers for one delivery option, as ``Observed.providers`` holds them.
Providers = tuple[tuple[str, str], ...]
_DONE_CANCEL_STATUSES = (CancellationStatus.SUCCESS, CancellationStatus.COMPLETE)


class Refused(Exception):
    """A local refusal (the action cannot be sent as it is): REJECTED, never retried blindly."""


def succeed(ctx: ExecutionContext, message: str = "", **ids: str) -> Outcome:
    """A SUCCESS at ``ctx.now()`` with the non-empty ``ids``."""
    clean = {k: v for k, v in ids.items() if v}
    return Outcome(status=OutcomeStatus.SUCCESS, at=ctx.now(), ids=clean, message=message)


def shipped_with(order: TikTokOrder, line_ids: tuple[str, ...], number: str) -> str | None:
    """The package id ("" if unknown) when every unit of ``line_ids`` carries ``number``."""
    items = {li.id: li for li in order.line_items}
    wanted = [items.get(i) for i in line_ids]
    if not line_ids or any(
        li is None or li.tracking_number.strip().upper() != number.strip().upper() for li in wanted
    ):
        return None
    return next((li.package_id for li in wanted if li is not None and li.package_id), "")


async def fetch_providers(
    action: actions.FetchShippingProviders,
    ctx: ExecutionContext,
    cache: MutableMapping[str, Providers],
) -> Outcome:
    """Fetch the delivery option's providers into ``cache`` (and the outcome, as JSON)."""
    providers = await ctx.tiktok.get_shipping_providers(action.delivery_option_id)
    pairs = tuple((p.id, p.name) for p in providers if p.id)
    cache[action.delivery_option_id] = pairs
    return succeed(
        ctx,
        f"{len(pairs)} provider(s)",
        delivery_option_id=action.delivery_option_id,
        providers=json.dumps([list(p) for p in pairs]),
    )


def _code_in(exc: Rejected, codes: frozenset[TikTokCode]) -> bool:
    """Whether TikTok's refusal carries one of ``codes`` (kept as sent: int or text)."""
    return str(exc.code) in {str(int(c)) for c in codes}


async def push_tracking(action: actions.PushTracking, ctx: ExecutionContext) -> Outcome:
    """Mark one package shipped with exactly ``action.line_ids``; TikTok's warning is the
    outcome's message. Units already carrying the number are a success (a lost answer)."""
    done = shipped_with(ctx.order, action.line_ids, action.tracking_number)
    if done is not None:
        return succeed(ctx, "already on TikTok", package_id=done)
    try:
        shipped = await ctx.tiktok.mark_package_shipped(
            action.tiktok_order_id,
            action.tracking_number,
            action.provider_id,
            list(action.line_ids),
        )
    except Rejected as exc:
        if not _code_in(exc, ALREADY_SHIPPED_CODES):
            raise
        # "Already shipped": ours if those units carry this number now (an answer was lost
        # after the order was fetched); someone else's number stays a rejection.
        fresh = await ctx.tiktok.get_order(action.tiktok_order_id)
        if fresh is not None:
            again = shipped_with(to_domain_order(fresh), action.line_ids, action.tracking_number)
            if again is not None:
                return succeed(ctx, "already on TikTok", package_id=again)
        raise
    return succeed(ctx, shipped.warning_message or "", package_id=shipped.package_id)


async def update_tracking(action: actions.UpdateTracking, ctx: ExecutionContext) -> Outcome:
    """TikTok's one correction (by package when its id is known); a success without a call
    when the units already carry the number, in this decision's order or a fresh one after
    TikTok says it was already updated (our answer was lost)."""
    package = ctx.memory.package_of(action.source_fulfillment_id)
    lines = package.line_ids if package is not None else ()
    if shipped_with(ctx.order, lines, action.tracking_number) is not None:
        return succeed(ctx, "TikTok already has this tracking", package_id=action.package_id)
    try:
        await ctx.tiktok.update_shipping_info(
            action.tiktok_order_id,
            action.tracking_number,
            action.provider_id,
            package_id=action.package_id or None,
        )
    except Rejected as exc:
        if not _code_in(exc, UPDATE_REFUSED_CODES) or not lines:
            raise
        fresh = await ctx.tiktok.get_order(action.tiktok_order_id)
        if fresh is not None and shipped_with(to_domain_order(fresh), lines, action.tracking_number):
            return succeed(ctx, "TikTok already has this tracking", package_id=action.package_id)
        raise
    return succeed(ctx, "tracking corrected", package_id=action.package_id)


async def approve_cancellation(action: actions.ApproveCancellation, ctx: ExecutionContext) -> Outcome:
    """Approve (idempotency key = the cancel id) unless TikTok shows it approved already."""
    page = await ctx.tiktok.search_cancellations(CancellationFilter(cancel_ids=[action.cancel_id]))
    record = next((c for c in page.cancellations if c.cancel_id == action.cancel_id), None)
    if record is not None:
        status = to_domain_cancellation(record).status
        if status in _DONE_CANCEL_STATUSES:
            return succeed(ctx, "already approved", cancel_id=action.cancel_id)
        if status is CancellationStatus.WITHDRAWN:
            raise Refused(f"cancellation {action.cancel_id} was withdrawn or rejected")
    await ctx.tiktok.approve_cancellation(
        action.cancel_id, action.idempotency_key or action.cancel_id
    )
    return succeed(ctx, "approved", cancel_id=action.cancel_id)


async def approve_return(action: actions.ApproveReturn, ctx: ExecutionContext) -> Outcome:
    """Approve Return (policy), unless TikTok shows the request no longer pending."""
    found = [r async for r in ctx.tiktok.iter_returns(ReturnFilter(return_ids=[action.return_id]))]
    if found and not approve_decision(to_domain_return(found[0])):
        return succeed(ctx, f"no longer pending ({found[0].return_status})", return_id=action.return_id)
    await ctx.tiktok.approve_return(action.return_id, action.decision, action.idempotency_key)
    return succeed(ctx, f"approved ({action.decision})", return_id=action.return_id)


# TikTok's seller-cancel reasons are keys that must fit the order status (25001021 when not).
# A person's free text (the dashboard's default says why in words) maps to the generic
# out-of-stock key, the one TikTok offers in every cancellable status.
SELLER_REASON_PREFIX = "seller_cancel_"
UNPAID_FALLBACK_REASON = "seller_cancel_unpaid_reason_out_of_stock"
PAID_FALLBACK_REASON = "seller_cancel_reason_out_of_stock"


def seller_cancel_reason(reason: str, status: TikTokStatus) -> str:
    """``reason`` if it is already a TikTok key, else the out-of-stock key for ``status``."""
    key = reason.strip()
    if key.startswith(SELLER_REASON_PREFIX) and " " not in key:
        return key
    return UNPAID_FALLBACK_REASON if status is TikTokStatus.UNPAID else PAID_FALLBACK_REASON


async def cancel_on_tiktok(action: actions.CancelOnTikTok, ctx: ExecutionContext) -> Outcome:
    """Seller cancel (a person chose it); nothing to do when TikTok shows it cancelled, in
    this decision's order or a fresh one after TikTok refuses (our answer was lost)."""
    if ctx.order.status is TikTokStatus.CANCELLED:
        return succeed(ctx, "already cancelled on TikTok")
    reason = seller_cancel_reason(action.reason, ctx.order.status)
    try:
        result = await ctx.tiktok.seller_cancel(action.tiktok_order_id, reason)
    except Rejected:
        fresh = await ctx.tiktok.get_order(action.tiktok_order_id)
        if fresh is not None and to_domain_order(fresh).status is TikTokStatus.CANCELLED:
            return succeed(ctx, "already cancelled on TikTok")
        raise
    note = f"{result.cancel_status} ({reason})"
    return succeed(ctx, note, cancel_id=result.cancel_id, cancel_reason=reason)
