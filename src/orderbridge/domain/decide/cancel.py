"""Cancellations: TikTok's, the merchant's in Shopify, partial ones, and the buyer's desk.

Never approve a buyer's request on TikTok before the goods are stopped: no Shopify
fulfilment, the 3PL order (if any) cancelled, and the Shopify order cancelled (job done).
"""

from __future__ import annotations

from orderbridge.domain.actions import (
    ApproveCancellation,
    CancelOnTikTok,
    CancelShopifyOrder,
    CancelThreePLOrder,
    RemoveUnits,
    RequestFulfillmentServiceCancel,
    ShopifyCancelReason,
)
from orderbridge.domain.cancel_desk import DeskState, Stoppability, desk_state, stoppability
from orderbridge.domain.decide.common import Ctx, order_lines
from orderbridge.domain.decide.imported import imported_cancellations
from orderbridge.domain.exceptions import ExceptionCode, IssueAction
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    ShopifyOrderView,
    ThreePLView,
)
from orderbridge.domain.order import OrderKind, classify

__all__ = ["linked_cancellations"]

_FS_IN_PROGRESS = "IN_PROGRESS"


def linked_cancellations(ctx: Ctx, view: ShopifyOrderView) -> bool:
    """Handle cancellations of a linked order; True when nothing else should happen now."""
    if view.cancelled_at is not None:
        _shopify_cancelled(ctx, view)
        return True
    if classify(ctx.order) is not OrderKind.SELLER_SHIPPED:
        return imported_cancellations(ctx)  # TikTok ships it: no desk, no Shopify cancel
    if ctx.all_units_cancelled():
        _tiktok_cancelled(ctx, view)
        return True
    _partial(ctx, view)
    return _desk(ctx, view)


def _tiktok_record(ctx: Ctx) -> Cancellation | None:
    return next(
        (
            c
            for c in ctx.observed.cancellations
            if c.status in (CancellationStatus.SUCCESS, CancellationStatus.COMPLETE)
        ),
        None,
    )


def _reason(ctx: Ctx) -> tuple[ShopifyCancelReason, str]:
    """buyer -> CUSTOMER, unpaid -> DECLINED, fraud -> FRAUD, other -> OTHER; and TikTok's words."""
    record = _tiktok_record(ctx)
    order = ctx.order
    role = (record.role if record else order.cancellation_initiator).strip().upper()
    text = f"{record.reason} {record.reason_text}" if record else order.cancel_reason
    words = text.strip() or "no reason given"
    lowered = text.lower()
    if "fraud" in lowered or "risk" in lowered:
        reason = ShopifyCancelReason.FRAUD
    elif role == "BUYER" or (record is not None and record.type is CancellationType.BUYER_CANCEL):
        reason = ShopifyCancelReason.CUSTOMER
    elif order.paid_time is None or "unpaid" in lowered or "payment" in lowered:
        reason = ShopifyCancelReason.DECLINED
    else:
        reason = ShopifyCancelReason.OTHER
    return reason, f"Cancelled on TikTok ({role or 'unknown'}): {words}"


def _send_cancel(ctx: Ctx, view: ShopifyOrderView, reason: ShopifyCancelReason, note: str) -> None:
    """Cancel in Shopify once: fulfilment services first, then the (asynchronous) job."""
    m, policy, now = ctx.memory, ctx.policy, ctx.now
    if view.cancel_job_pending:
        ctx.update(state=LinkState.CANCELLING)
        ctx.due(now + policy.retry_soon)
        return
    services = [
        fo
        for fo in view.fulfillment_orders
        if fo.fulfillment_service and fo.status.upper() == _FS_IN_PROGRESS
    ]
    if services:
        if m.fs_cancel_requested_at is None:
            for fo in services:
                ctx.act(RequestFulfillmentServiceCancel(fulfillment_order_id=fo.id, message=note))
            ctx.due(now + policy.retry_soon)
            return
        if now < m.fs_cancel_requested_at + policy.fulfillment_service_wait:
            ctx.due(
                min(
                    now + policy.search_interval,
                    m.fs_cancel_requested_at + policy.fulfillment_service_wait,
                )
            )
            return
    if m.cancel_sent_at is not None and now < m.cancel_sent_at + policy.search_interval:
        ctx.due(m.cancel_sent_at + policy.search_interval)
        return
    ctx.act(CancelShopifyOrder(shopify_order_id=view.id, reason=reason, staff_note=note))
    ctx.due(now + policy.retry_soon)


def _tiktok_cancelled(ctx: Ctx, view: ShopifyOrderView) -> None:
    shipped = view.shipped
    if shipped:
        ctx.flag(
            ExceptionCode.FULFILLED_BUT_CANCELLED,
            "TikTok cancelled the order but Shopify already has a fulfilment: stop the "
            "parcel if you can, then cancel or refund the Shopify order by hand.",
            {"fulfillment_ids": ",".join(f.id for f in shipped)},
        )
        return
    reason, note = _reason(ctx)
    _send_cancel(ctx, view, reason, note)


def _goods_stopped(ctx: Ctx, view: ShopifyOrderView, request: Cancellation) -> bool:
    """After the Shopify cancel: nothing shipped and the 3PL order cancelled too."""
    threepl = ctx.observed.threepl
    stop = stoppability(view, threepl)
    if not stop.stoppable:
        _blocked(ctx, request, stop)
        return False
    _stopping(ctx, request, stop)
    if threepl is not None and not threepl.cancelled:
        ctx.act(CancelThreePLOrder(threepl_order_id=threepl.order_id))
        ctx.due(ctx.now + ctx.policy.retry_soon)
        return False
    return True


def _shopify_cancelled(ctx: Ctx, view: ShopifyOrderView) -> None:
    m = ctx.memory
    if m.state is not LinkState.CANCELLED:
        ctx.update(state=LinkState.CANCELLED)
        ctx.note("The Shopify order is cancelled.")
    pending = ctx.pending_requests()
    if pending:
        # Our desk's cancel, or the merchant's: either way it approves the buyer's request.
        for request in pending:
            if _goods_stopped(ctx, view, request):
                ctx.act(
                    ApproveCancellation(
                        cancel_id=request.cancel_id, idempotency_key=request.cancel_id
                    )
                )
        return
    ours = m.cancel_sent_at is not None or bool(m.cancels_approved)
    if ours or ctx.all_units_cancelled() or _tiktok_record(ctx) is not None:
        ctx.finished = True
        return
    if m.tiktok_cancel_done:
        ctx.finished = True
        return
    if m.tiktok_cancel_reason:
        ctx.act(CancelOnTikTok(tiktok_order_id=ctx.order.id, reason=m.tiktok_cancel_reason))
        return
    ctx.flag(
        ExceptionCode.SHOPIFY_CANCELLED,
        "The order was cancelled in Shopify but not on TikTok, where the buyer still expects "
        "it. Cancel it on TikTok too, or dismiss.",
        {"cancelled_at": view.cancelled_at.isoformat() if view.cancelled_at else ""},
        (IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS),
    )


def _partial(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Units TikTok cancelled (the order not): take them off the Shopify order, restocked."""
    cancelled = ctx.cancelled_line_ids()
    if not cancelled:
        return
    allocated = ctx.memory.allocated()
    for group, line in order_lines(ctx, view):
        removed = ctx.memory.removed_line_ids
        new = tuple(
            i for i in group.line_ids if i in cancelled and i not in removed and i not in allocated
        )
        if not new:
            continue
        before = sum(1 for i in group.line_ids if i in removed)
        if line.current_quantity <= group.quantity - before - len(new):
            ctx.update(removed_line_ids=removed + new)  # already done (remote state shows it)
            continue
        ctx.act(
            RemoveUnits(
                shopify_order_id=view.id,
                line_item_id=line.id,
                quantity=len(new),
                tiktok_line_ids=new,
            )
        )


def _desk_data(request: Cancellation, stop: Stoppability, state: DeskState,
               threepl: ThreePLView | None) -> dict[str, str]:
    """What the desk shows of a request (stored with its exception, read by the desk)."""
    return {
        "cancel_id": request.cancel_id,
        "deadline": request.deadline.isoformat() if request.deadline else "none given",
        "reason": request.reason,
        "reason_text": request.reason_text,
        "desk_state": state.value,
        "stoppable": "true" if stop.stoppable else "false",
        "why": stop.reason,
        "steps": "; ".join(stop.steps),
        "threepl": threepl.provider if threepl is not None else "",
        "threepl_order_id": threepl.order_id if threepl is not None else "",
        "threepl_status": threepl.status if threepl is not None else "",
    }


def _blocked(ctx: Ctx, request: Cancellation, stop: Stoppability) -> None:
    deadline = request.deadline.isoformat() if request.deadline else "none given"
    ctx.flag(
        ExceptionCode.CANCEL_REQUEST_BLOCKED,
        f"The buyer asked to cancel ({request.reason_text or request.reason or 'no reason'}) "
        f"but the goods cannot be stopped: {stop.reason}. Ship it now (tracking rejects the request) "
        f"before {deadline}.",
        _desk_data(request, stop, DeskState.BLOCKED, ctx.observed.threepl),
        (IssueAction.SHIP_NOW, IssueAction.DISMISS),
    )


def _stopping(ctx: Ctx, request: Cancellation, stop: Stoppability) -> None:
    ctx.flag(
        ExceptionCode.CANCEL_REQUEST_STOPPING,
        f"The buyer asked to cancel ({request.reason_text or request.reason or 'no reason'}); "
        f"OrderBridge is stopping the goods: {'; then '.join(stop.steps)}.",
        _desk_data(request, stop, DeskState.STOPPING, ctx.observed.threepl),
        (),
    )


def _desk(ctx: Ctx, view: ShopifyOrderView) -> bool:
    """Buyer requests after the windows. True while we are stopping the goods."""
    stopping = False
    cancel_shopify = False
    threepl = ctx.observed.threepl
    for request in ctx.pending_requests():
        if request.deadline is not None and request.deadline > ctx.now:
            ctx.due(request.deadline)
        stop = stoppability(view, threepl)
        state = desk_state(
            stop,
            auto_approve=ctx.policy.auto_approve_cancellations,
            person_approved=request.cancel_id in ctx.memory.cancels_person_approved,
        )
        if state is DeskState.BLOCKED:
            _blocked(ctx, request, stop)
            continue
        if state is DeskState.AWAITING_PERSON:
            deadline = request.deadline.isoformat() if request.deadline else "none given"
            why = request.reason_text or request.reason or "no reason"
            ctx.flag(
                ExceptionCode.CANCEL_REQUEST_PENDING,
                f"The buyer asked to cancel ({why}); approve it (OrderBridge stops the goods "
                f"first) or ship it before {deadline}.",
                _desk_data(request, stop, state, threepl),
                (IssueAction.APPROVE, IssueAction.SHIP_NOW),
            )
            continue
        stopping = True
        _stopping(ctx, request, stop)
        if threepl is not None and not threepl.cancelled:
            ctx.act(CancelThreePLOrder(threepl_order_id=threepl.order_id))
            ctx.due(ctx.now + ctx.policy.retry_soon)
            continue
        cancel_shopify = True
    if cancel_shopify:
        note = "Buyer cancellation request on TikTok: the goods are stopped before approval."
        _send_cancel(ctx, view, ShopifyCancelReason.CUSTOMER, note)
    return stopping
