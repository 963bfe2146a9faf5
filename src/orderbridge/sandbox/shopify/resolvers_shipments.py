"""Fulfilments (shipments) made from fulfilment orders: fulfillmentCreate, their tracking
(fulfillmentTrackingInfoUpdate) and fulfillmentCancel."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from orderbridge.sandbox.shopify.context import Ctx, require_scope
from orderbridge.sandbox.shopify.inputs import user_error
from orderbridge.sandbox.shopify.nodes import fulfillment_node
from orderbridge.sandbox.shopify.order_records import Fulfillment, FulfillmentOrder, Order, Tracking
from orderbridge.sandbox.shopify.resolvers_fulfillment import (
    FO_WRITE_SCOPES,
    UNFULFILLABLE,
    reopen_status,
)
from orderbridge.sandbox.shopify.state import gid, parse_gid
from orderbridge.sandbox.shopify.world import touch

__all__ = ["MUTATIONS", "cancel_fulfillment", "fulfil", "set_tracking"]


def _tracking(data: dict[str, Any] | None) -> tuple[list[Tracking], str | None]:
    if not data:
        return [], None
    if data.get("number") and data.get("numbers"):
        return [], "Specify either number or numbers, not both."
    if data.get("url") and data.get("urls"):
        return [], "Specify either url or urls, not both."
    if data.get("url") and not data.get("number"):
        return [], "A tracking url requires a tracking number."
    numbers = data.get("numbers") or ([data["number"]] if data.get("number") else [])
    urls = data.get("urls") or ([data["url"]] if data.get("url") else [])
    if not numbers:
        return [Tracking(data.get("company"), None, None)] if data.get("company") else [], None
    return [Tracking(data.get("company"), n, urls[i] if i < len(urls) else None)
            for i, n in enumerate(numbers)], None


def fulfil(ctx: Ctx, order: Order, requests: list[tuple[FulfillmentOrder, dict[int, int] | None]],
           tracking: list[Tracking]) -> Fulfillment | str:
    """Create a fulfilment (or return why not): ``None`` quantities = everything remaining."""
    for fo, wanted in requests:
        if fo.status in UNFULFILLABLE:
            return f"Fulfillment order {gid('FulfillmentOrder', fo.id)} has an unfulfillable status= {fo.status.lower()}."
        for line_id, qty in (wanted or {}).items():
            ln = next((x for x in fo.lines if x.id == line_id), None)
            if ln is None or qty <= 0 or qty > ln.remaining:
                return "Invalid fulfillment order line item quantity requested."
    if len({fo.location_id for fo, _ in requests}) > 1:
        return "All fulfillment orders in one fulfillment must be assigned to the same location."
    rows = []
    for fo, wanted in requests:
        for ln in fo.lines:
            qty = ln.remaining if wanted is None else wanted.get(ln.id, 0)
            if qty > 0:
                ln.remaining -= qty
                rows.append((ctx.world.new_id("fline"), ln.line_item_id, qty))
        fo.status, fo.updated_at = reopen_status(fo), ctx.now
    if not rows:
        return "There are no line items to fulfill."
    number = len(order.fulfillments) + 1
    f = Fulfillment(ctx.world.new_id("fulfillment"), order.id, f"{order.name}.{number}", "SUCCESS", ctx.now,
                    ctx.now, requests[0][0].location_id, rows, [fo.id for fo, _ in requests], tracking)
    order.fulfillments.append(f)
    touch(ctx.world, order, ctx.now)
    ctx.runtime.fulfillment_event(order, f, "fulfillments/create")
    ctx.runtime.order_event(order, "orders/updated")
    return f


def fulfillment_create(_root: Any, info: GraphQLResolveInfo[Any], fulfillment: dict[str, Any],
                       message: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    tracking, problem = _tracking(fulfillment.get("trackingInfo"))
    if problem:
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment", "trackingInfo"], problem)]}
    requests: list[tuple[FulfillmentOrder, dict[int, int] | None]] = []
    for index, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
        fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder"))
        if fo is None:
            return {"fulfillment": None, "userErrors": [user_error(
                ["fulfillment", "lineItemsByFulfillmentOrder", str(index), "fulfillmentOrderId"],
                "Fulfillment order does not exist.")]}
        lines = group.get("fulfillmentOrderLineItems")
        wanted = {parse_gid(x["id"], "FulfillmentOrderLineItem") or -1: x["quantity"] for x in lines} if lines else None
        requests.append((fo, wanted))
    if not requests:
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment"], "No fulfillment orders given.")]}
    order = ctx.world.orders[requests[0][0].order_id]
    result = fulfil(ctx, order, requests, tracking)
    if isinstance(result, str):
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment"], result)]}
    ctx.world.count(ctx.shop.domain, "fulfillmentCreate", order.id)
    return {"fulfillment": fulfillment_node(ctx, order, result), "userErrors": []}


def tracking_update(_root: Any, info: GraphQLResolveInfo[Any], fulfillmentId: str,
                    trackingInfoInput: dict[str, Any], notifyCustomer: bool | None = None) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES, "write_fulfillments")
    f = ctx.world.find_fulfillment(ctx.shop.domain, parse_gid(fulfillmentId, "Fulfillment"))
    if f is None:
        return {"fulfillment": None, "userErrors": [user_error(["fulfillmentId"], "Fulfillment does not exist.")]}
    tracking, problem = _tracking(trackingInfoInput)
    if problem:
        return {"fulfillment": None, "userErrors": [user_error(["trackingInfoInput"], problem)]}
    order = ctx.world.orders[f.order_id]
    set_tracking(ctx, order, f, tracking)
    ctx.world.count(ctx.shop.domain, "fulfillmentTrackingInfoUpdate", order.id)
    return {"fulfillment": fulfillment_node(ctx, order, f), "userErrors": []}


def set_tracking(ctx: Ctx, order: Order, f: Fulfillment, tracking: list[Tracking]) -> None:
    f.tracking, f.updated_at = tracking, ctx.now
    touch(ctx.world, order, ctx.now)
    ctx.runtime.fulfillment_event(order, f, "fulfillments/update")


def cancel_fulfillment(ctx: Ctx, order: Order, f: Fulfillment) -> str | None:
    if f.status == "CANCELLED":
        return "Fulfillment is already cancelled."
    f.status, f.updated_at = "CANCELLED", ctx.now
    for fo_id in f.fulfillment_order_ids:
        fo = ctx.world.fulfillment_orders[fo_id]
        for _, line_item_id, qty in f.lines:
            ln = next((x for x in fo.lines if x.line_item_id == line_item_id), None)
            if ln is not None:
                ln.remaining = min(ln.total, ln.remaining + qty)
        if fo.status != "CANCELLED":
            fo.status, fo.updated_at = reopen_status(fo), ctx.now
    touch(ctx.world, order, ctx.now)
    ctx.runtime.fulfillment_event(order, f, "fulfillments/update")
    ctx.runtime.order_event(order, "orders/updated")
    return None


def fulfillment_cancel(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES, "write_fulfillments")
    f = ctx.world.find_fulfillment(ctx.shop.domain, parse_gid(id, "Fulfillment"))
    if f is None:
        return {"fulfillment": None, "userErrors": [user_error(["id"], "Fulfillment does not exist.")]}
    order = ctx.world.orders[f.order_id]
    problem = cancel_fulfillment(ctx, order, f)
    if problem:
        return {"fulfillment": fulfillment_node(ctx, order, f), "userErrors": [user_error(["id"], problem)]}
    ctx.world.count(ctx.shop.domain, "fulfillmentCancel", order.id)
    return {"fulfillment": fulfillment_node(ctx, order, f), "userErrors": []}


MUTATIONS = {
    "fulfillmentCreate": fulfillment_create, "fulfillmentTrackingInfoUpdate": tracking_update,
    "fulfillmentCancel": fulfillment_cancel,
}
