"""orderCancel (an asynchronous job), the cancellation itself, and the ``job`` query."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from orderbridge.sandbox.shopify.context import Ctx, ctx_of, require_scope
from orderbridge.sandbox.shopify.inputs import user_error
from orderbridge.sandbox.shopify.order_records import Job, Order, Transaction
from orderbridge.sandbox.shopify.resolvers_orders import order_or_none
from orderbridge.sandbox.shopify.state import gid, parse_gid
from orderbridge.sandbox.shopify.world import restock_line, totals, touch

__all__ = ["MUTATIONS", "QUERIES", "cancel_blocker", "cancel_order_now"]

# Fulfilment request states in which a fulfilment service is working on the order.
SERVICE_BUSY = ("SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED")


def cancel_order_now(ctx: Ctx, order: Order, reason: str, restock: bool, staff_note: str | None,
                     refund: bool) -> None:
    """Complete a cancellation (the job's work, or the merchant's admin action)."""
    if order.cancelled_at is not None:
        return
    order.cancel_pending = False
    order.cancelled_at = order.closed_at = ctx.now
    order.cancel_reason = reason
    if staff_note:
        order.staff_notes.append(staff_note)
    if restock:
        for li in order.line_items:
            restock_line(ctx.world, order, li.id, li.claimed)
    for fo_id in order.fulfillment_order_ids:
        fo = ctx.world.fulfillment_orders[fo_id]
        if fo.status not in ("CLOSED", "CANCELLED"):
            fo.status, fo.updated_at = "CLOSED", ctx.now
    received = totals(order, current=True)["received"]
    if refund and received > 0:
        from orderbridge.sandbox.shopify.order_records import Refund  # local: only used here

        tx = Transaction(ctx.world.new_id("transaction"), "REFUND", "SUCCESS", "manual", received,
                         ctx.now, ctx.now, manual=True)
        order.transactions.append(tx)
        order.refunds.append(Refund(ctx.world.new_id("refund"), order.id, ctx.now, staff_note, [],
                                    Decimal("0"), received, [tx.id]))
    touch(ctx.world, order, ctx.now)
    ctx.runtime.order_event(order, "orders/cancelled")
    ctx.runtime.order_event(order, "orders/updated")


def cancel_blocker(ctx: Ctx, order: Order) -> str | None:
    """Why an order cannot be cancelled now, or None."""
    if order.cancelled_at is not None:
        return "Order has already been cancelled."
    if order.cancel_pending:
        return "Order is already being cancelled."
    if any(f.status == "SUCCESS" for f in order.fulfillments):
        return "Cannot cancel an order that has fulfillments. Cancel the fulfillments first."
    for fo_id in order.fulfillment_order_ids:
        fo = ctx.world.fulfillment_orders[fo_id]
        if ctx.world.locations[fo.location_id].service_app_id and fo.request_status in SERVICE_BUSY:
            return ("A fulfillment service is fulfilling this order. Request cancellation from the "
                    "fulfillment service first.")
    return None


def order_cancel(_root: Any, info: GraphQLResolveInfo[Any], orderId: str, reason: str, restock: bool,
                 refund: bool | None = None, refundMethod: dict[str, Any] | None = None,
                 notifyCustomer: bool = False, staffNote: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders", "write_marketplace_orders")
    order = order_or_none(ctx, orderId)
    if order is None:
        err = user_error(["orderId"], "Order does not exist.", "NOT_FOUND")
        return {"job": None, "orderCancelUserErrors": [err], "userErrors": [err]}
    if staffNote is not None and len(staffNote) > 255:
        err = user_error(["staffNote"], "Staff note is too long (maximum is 255 characters).", "INVALID")
        return {"job": None, "orderCancelUserErrors": [err], "userErrors": [err]}
    blocker = cancel_blocker(ctx, order)
    if blocker is not None:
        err = user_error(["orderId"], blocker, "INVALID")
        return {"job": None, "orderCancelUserErrors": [err], "userErrors": [err]}
    ctx.world.count(ctx.shop.domain, "orderCancel", order.id)
    job = Job(ctx.world.new_id("job"), ctx.shop.domain)
    ctx.world.jobs[job.id] = job
    order.cancel_pending = True
    wants_refund = bool(refund) or bool((refundMethod or {}).get("originalPaymentMethodsRefund"))

    def finish() -> None:
        later = Ctx(ctx.world, ctx.shop, ctx.token, ctx.app, ctx.runtime.now(), ctx.runtime, ctx.request_id)
        cancel_order_now(later, order, reason, restock, staffNote, wants_refund)
        job.done = True

    ctx.runtime.schedule(ctx.world.timing.cancel_job_delay, finish, f"shopify cancel {order.name}")
    return {"job": {"id": gid("Job", job.id), "done": False}, "orderCancelUserErrors": [], "userErrors": []}


def q_job(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any] | None:
    ctx = ctx_of(info)
    job = ctx.world.jobs.get(parse_gid(id, "Job") or -1)
    if job is None or job.shop != ctx.shop.domain:
        return None
    return {"id": gid("Job", job.id), "done": job.done}


QUERIES = {"job": q_job}
MUTATIONS = {"orderCancel": order_cancel}
