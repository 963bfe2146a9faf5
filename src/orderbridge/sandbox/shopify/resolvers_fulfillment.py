"""Fulfilment orders and their holds, splits, moves and cancellation requests (the
fulfilments made from them, with tracking: ``resolvers_shipments``)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from orderbridge.sandbox.shopify.context import Ctx, ctx_of, require_scope
from orderbridge.sandbox.shopify.inputs import user_error
from orderbridge.sandbox.shopify.nodes import FO_READ_SCOPES, fo_node, hold_node
from orderbridge.sandbox.shopify.order_records import FulfillmentOrder, Hold, HoldRelease
from orderbridge.sandbox.shopify.state import MAX_HOLDS_PER_APP, gid, parse_gid
from orderbridge.sandbox.shopify.world import touch

__all__ = [
    "FO_WRITE_SCOPES", "MUTATIONS", "QUERIES", "UNFULFILLABLE", "do_split", "move", "release_holds",
    "reopen_status", "split", "split_event",
]

FO_WRITE_SCOPES = ("write_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders",
                   "write_assigned_fulfillment_orders", "write_marketplace_fulfillment_orders")
UNFULFILLABLE = ("ON_HOLD", "CLOSED", "CANCELLED", "SCHEDULED", "INCOMPLETE")
NOT_MOVABLE = ("CLOSED", "CANCELLED", "INCOMPLETE")
# Request statuses that mean a fulfilment service has the order (a move must wait).
SERVICE_REQUESTS = ("SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED")
MAX_HANDLE_LENGTH = 64


def reopen_status(fo: FulfillmentOrder) -> str:
    """The status a fulfilment order has when nothing else decides it."""
    if fo.holds:
        return "ON_HOLD"
    if all(ln.remaining == 0 for ln in fo.lines):
        return "CLOSED"
    return "IN_PROGRESS" if any(ln.remaining < ln.total for ln in fo.lines) else "OPEN"


def hold_webhook_json(hold: Hold) -> dict[str, Any]:
    """A hold as fulfillment_orders/placed_on_hold names it (Shopify's sample payload:
    https://shopify.dev/docs/api/webhooks/2026-10?reference=toml#list-of-topics-fulfillment_orders/placed_on_hold).
    ``held_by_requesting_app`` is set per receiving app when the delivery goes out."""
    return {"id": gid("FulfillmentHold", hold.id), "reason": hold.reason.lower(), "reason_notes": hold.reason_notes,
            "held_by_requesting_app": False, "handle": hold.handle, "held_by_app": {"id": gid("App", hold.app_id)}}


def _placed_on_hold(ctx: Ctx, fo: FulfillmentOrder, new: Hold, remaining: FulfillmentOrder | None) -> None:
    """fulfillment_orders/placed_on_hold with the four keys Shopify sends: the fulfilment order
    (gid, status, its holds), the remaining fulfilment order of a partial hold (or null), the
    held fulfilment order line items and the hold just created."""
    ctx.runtime.emit(ctx.world.orders[fo.order_id].shop, "fulfillment_orders/placed_on_hold", {
        "fulfillment_order": {"id": gid("FulfillmentOrder", fo.id), "status": fo.status.lower(),
                              "fulfillment_holds": [hold_webhook_json(h) for h in fo.holds]},
        "remaining_fulfillment_order": ({"id": gid("FulfillmentOrder", remaining.id),
                                         "status": remaining.status.lower()} if remaining else None),
        "held_fulfillment_order_line_items": [{"id": gid("FulfillmentOrderLineItem", ln.id),
                                               "quantity": ln.remaining} for ln in fo.lines],
        "created_fulfillment_hold": hold_webhook_json(new)})


def release_holds(ctx: Ctx, fo: FulfillmentOrder, hold_ids: list[int] | None) -> None:
    """Release the given holds (all of them when ``hold_ids`` is None).

    ``fulfillment_orders/hold_released`` goes out as Shopify documents it: once, when the
    last hold goes and the fulfilment order leaves ON_HOLD (not while another hold stays),
    naming only the fulfilment order (``id`` as a gid, the new ``status``; no order id)."""
    released = [h for h in fo.holds if hold_ids is None or h.id in hold_ids]
    fo.holds = [h for h in fo.holds if h not in released]
    left_hold = fo.status == "ON_HOLD" and not fo.holds
    if left_hold:
        fo.status = reopen_status(fo)
    fo.updated_at = ctx.now
    ctx.world.hold_releases.extend(
        HoldRelease(ctx.now, fo.order_id, fo.id, h.id, h.handle, h.app_id, ctx.app.id, fo.status)
        for h in released)
    order = ctx.world.orders[fo.order_id]
    touch(ctx.world, order, ctx.now)
    if released and left_hold:
        ctx.runtime.emit(order.shop, "fulfillment_orders/hold_released", {
            "fulfillment_order": {"id": gid("FulfillmentOrder", fo.id), "status": fo.status.lower()}})


def hold(_root: Any, info: GraphQLResolveInfo[Any], id: str, fulfillmentHold: dict[str, Any]) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(id, "FulfillmentOrder"))
    empty = {"fulfillmentHold": None, "fulfillmentOrder": None, "remainingFulfillmentOrder": None}
    if fo is None:
        return empty | {"userErrors": [user_error(["id"], "Fulfillment order does not exist.",
                                                  "FULFILLMENT_ORDER_NOT_FOUND")]}
    data = fulfillmentHold
    handle = data.get("handle") or ""
    mine = [h for h in fo.holds if h.app_id == ctx.app.id]
    error = None
    if fo.status in ("CLOSED", "CANCELLED", "INCOMPLETE"):
        error = user_error(["id"], f"The fulfillment order's status is {fo.status}; it can't be put on hold.")
    elif len(handle) > MAX_HANDLE_LENGTH:
        error = user_error(["fulfillmentHold", "handle"], "Handle is too long (maximum is 64 characters).")
    elif any(h.handle == handle for h in mine):
        error = user_error(["fulfillmentHold", "handle"],
                           "The handle provided for the fulfillment hold is already in use by this app for "
                           "another hold on this fulfillment order.", "DUPLICATE_FULFILLMENT_HOLD_HANDLE")
    elif len(mine) >= MAX_HOLDS_PER_APP:
        error = user_error(["id"], "The maximum number of fulfillment holds for this fulfillment order has "
                           "been reached for this app.", "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED")
    elif data.get("fulfillmentOrderLineItems") and fo.holds:
        error = user_error(["fulfillmentHold", "fulfillmentOrderLineItems"],
                           "The fulfillment order is not able to be split.", "FULFILLMENT_ORDER_NOT_SPLITTABLE")
    if error is not None:
        return empty | {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": [error]}
    remaining = None
    if data.get("fulfillmentOrderLineItems"):
        wanted = {parse_gid(x["id"], "FulfillmentOrderLineItem"): x["quantity"]
                  for x in data["fulfillmentOrderLineItems"]}
        keep = {ln.id: ln.remaining - wanted.get(ln.id, 0) for ln in fo.lines}
        if any(q < 0 for q in keep.values()) or any(
                k not in {ln.id for ln in fo.lines} for k in wanted):
            return empty | {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": [user_error(
                ["fulfillmentHold", "fulfillmentOrderLineItems"], "Invalid line item quantity.",
                "INVALID_LINE_ITEM_QUANTITY")]}
        if any(q > 0 for q in keep.values()):
            remaining = split(ctx, fo, {k: v for k, v in keep.items() if v > 0})
    new = Hold(ctx.world.new_id("hold"), ctx.app.id, handle, data["reason"], data.get("reasonNotes"),
               data.get("externalId"), placed_at=ctx.now)
    # Shopify sends placed_on_hold once, when the fulfilment order becomes ON_HOLD.
    first_hold = fo.status != "ON_HOLD"
    fo.holds.append(new)
    fo.status, fo.updated_at = "ON_HOLD", ctx.now
    order = ctx.world.orders[fo.order_id]
    ctx.world.count(ctx.shop.domain, "fulfillmentOrderHold", order.id)
    touch(ctx.world, order, ctx.now)
    if first_hold:
        _placed_on_hold(ctx, fo, new, remaining)
    return {"fulfillmentHold": hold_node(ctx, new), "fulfillmentOrder": fo_node(ctx, fo),
            "remainingFulfillmentOrder": fo_node(ctx, remaining) if remaining else None, "userErrors": []}


def split(ctx: Ctx, fo: FulfillmentOrder, moved: dict[int, int]) -> FulfillmentOrder:
    """Move ``moved`` (fo line id -> quantity) to a new fulfilment order at the same location."""
    from orderbridge.sandbox.shopify.order_records import FOLine

    new = FulfillmentOrder(ctx.world.new_id("fo"), fo.order_id, fo.location_id, "OPEN", ctx.now, ctx.now)
    for ln in fo.lines:
        qty = moved.get(ln.id, 0)
        if qty > 0:
            ln.remaining -= qty
            ln.total -= qty
            new.lines.append(FOLine(ctx.world.new_id("foline"), ln.line_item_id, qty, qty))
    fo.lines = [ln for ln in fo.lines if ln.total > 0]
    ctx.world.fulfillment_orders[new.id] = new
    ctx.world.orders[fo.order_id].fulfillment_order_ids.append(new.id)
    return new


def _fo_ref(fo: FulfillmentOrder) -> dict[str, Any]:
    """A fulfilment order as the split/moved/merged webhooks name it."""
    return {"id": gid("FulfillmentOrder", fo.id), "status": fo.status.lower(),
            "assigned_location_id": gid("Location", fo.location_id)}


def _line_refs(moved: dict[int, int]) -> list[dict[str, Any]]:
    return [{"id": gid("FulfillmentOrderLineItem", k), "quantity": q} for k, q in moved.items()]


def split_event(ctx: Ctx, fo: FulfillmentOrder, new: FulfillmentOrder, moved: dict[int, int]) -> None:
    """``fulfillment_orders/split``: ``fulfillment_order`` is the original after the split,
    ``remaining_fulfillment_order`` the new one holding the split-out units (no holds: a hold
    belongs to the fulfilment order it was placed on)."""
    ctx.runtime.emit(ctx.world.orders[fo.order_id].shop, "fulfillment_orders/split", {
        "split_line_items": _line_refs(moved), "fulfillment_order": _fo_ref(fo),
        "remaining_fulfillment_order": _fo_ref(new), "replacement_fulfillment_order": None})


def _wanted(fo: FulfillmentOrder, items: list[dict[str, Any]] | None) -> dict[int, int] | str:
    """fo line id -> quantity from FulfillmentOrderLineItemInput values (or why not)."""
    if items is None:
        return {ln.id: ln.remaining for ln in fo.lines if ln.remaining > 0}
    wanted: dict[int, int] = {}
    for item in items:
        line_id = parse_gid(str(item["id"]), "FulfillmentOrderLineItem") or -1
        wanted[line_id] = wanted.get(line_id, 0) + int(item["quantity"])
    for line_id, qty in wanted.items():
        ln = next((x for x in fo.lines if x.id == line_id), None)
        if ln is None or qty <= 0 or qty > ln.remaining:
            return "Invalid fulfillment order line item quantity."
    return wanted


def do_split(ctx: Ctx, fo: FulfillmentOrder, moved: dict[int, int]) -> FulfillmentOrder:
    """Split ``moved`` out of ``fo`` into a new fulfilment order and say so by webhook."""
    new = split(ctx, fo, moved)
    if not fo.lines:
        fo.status = "CLOSED"
    fo.updated_at = ctx.now
    touch(ctx.world, ctx.world.orders[fo.order_id], ctx.now)
    split_event(ctx, fo, new, moved)
    return new


def fulfillment_order_split(_root: Any, info: GraphQLResolveInfo[Any],
                            fulfillmentOrderSplits: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    plans: list[tuple[FulfillmentOrder, dict[int, int]]] = []
    for index, entry in enumerate(fulfillmentOrderSplits):
        where = ["fulfillmentOrderSplits", str(index)]
        fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(entry["fulfillmentOrderId"], "FulfillmentOrder"))
        if fo is None:
            return {"fulfillmentOrderSplits": None, "userErrors": [user_error(
                [*where, "fulfillmentOrderId"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")]}
        items = entry.get("fulfillmentOrderLineItems") or []
        if not items:
            return {"fulfillmentOrderSplits": None, "userErrors": [user_error(
                [*where, "fulfillmentOrderLineItems"], "No line items provided to split.",
                "NO_LINE_ITEMS_PROVIDED_TO_SPLIT")]}
        wanted = "Each fulfillment order may be split once per request." if any(
            p is fo for p, _ in plans) else _wanted(fo, items)
        left = 0 if isinstance(wanted, str) else sum(ln.remaining for ln in fo.lines) - sum(wanted.values())
        if isinstance(wanted, str) or fo.status in NOT_MOVABLE or left <= 0:
            message = wanted if isinstance(wanted, str) else (
                f"The fulfillment order's status is {fo.status}; it can't be split." if fo.status in NOT_MOVABLE
                else "At least one unit must remain on the fulfillment order.")
            return {"fulfillmentOrderSplits": None, "userErrors": [user_error(
                [*where, "fulfillmentOrderLineItems"], message, "INVALID_LINE_ITEM_QUANTITY")]}
        plans.append((fo, wanted))
    results = []
    for fo, wanted in plans:
        new = do_split(ctx, fo, wanted)
        ctx.world.count(ctx.shop.domain, "fulfillmentOrderSplit", fo.order_id)
        results.append({"fulfillmentOrder": fo_node(ctx, fo), "remainingFulfillmentOrder": fo_node(ctx, new),
                        "replacementFulfillmentOrder": None})
    return {"fulfillmentOrderSplits": results, "userErrors": []}


def move(ctx: Ctx, fo: FulfillmentOrder, location_id: int | None,
         items: list[dict[str, Any]] | None = None) -> FulfillmentOrder | str:
    """Assign units of ``fo`` to another location of its shop (or return why not).

    As Shopify documents it: moving everything of a fulfilment order nothing of which is
    fulfilled moves that fulfilment order itself (same id; it keeps its holds, being the same
    object); moving some units, or a partly fulfilled one, makes a new fulfilment order at the
    destination, which carries no holds, and the original keeps the rest (closed when
    nothing of it is left to fulfil). Emits ``fulfillment_orders/moved``.
    """
    order = ctx.world.orders[fo.order_id]
    shop = ctx.world.shops[order.shop]
    if fo.status in NOT_MOVABLE:
        return f"Cannot move a fulfillment order with status {fo.status}."
    if fo.request_status in SERVICE_REQUESTS:
        return (f"Cannot move a fulfillment order with request status {fo.request_status}: the fulfillment "
                "service must accept a cancellation request first.")
    if location_id not in shop.location_ids:
        return "Location not found."
    if location_id == fo.location_id:
        return "Cannot move the fulfillment order to the location it is already assigned to."
    wanted = _wanted(fo, items)
    if isinstance(wanted, str):
        return wanted
    if not wanted:
        return "There are no line items to move."
    source = fo.location_id
    untouched = all(ln.remaining == ln.total for ln in fo.lines)
    everything = all(wanted.get(ln.id, 0) == ln.remaining for ln in fo.lines)
    if untouched and everything:
        fo.location_id, moved = location_id, fo
    else:
        moved = split(ctx, fo, wanted)
        moved.location_id = location_id
        if all(ln.remaining == 0 for ln in fo.lines):
            fo.status = "CLOSED"
    fo.updated_at = moved.updated_at = ctx.now
    touch(ctx.world, order, ctx.now)
    ctx.runtime.emit(order.shop, "fulfillment_orders/moved", {
        "original_fulfillment_order": _fo_ref(fo), "moved_fulfillment_order": _fo_ref(moved),
        "destination_location_id": gid("Location", location_id),
        "fulfillment_order_line_items_requested": _line_refs(wanted) if items is not None else None,
        "source_location": {"id": gid("Location", source)}})
    return moved


def fulfillment_order_move(_root: Any, info: GraphQLResolveInfo[Any], id: str, newLocationId: str,
                           fulfillmentOrderLineItems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    empty = {"movedFulfillmentOrder": None, "originalFulfillmentOrder": None, "remainingFulfillmentOrder": None}
    fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(id, "FulfillmentOrder"))
    if fo is None:
        return empty | {"userErrors": [user_error(["id"], "Fulfillment order does not exist.")]}
    result = move(ctx, fo, parse_gid(newLocationId, "Location"), fulfillmentOrderLineItems or None)
    if isinstance(result, str):
        field = ["fulfillmentOrderLineItems"] if "quantity" in result else ["id"]
        return empty | {"originalFulfillmentOrder": fo_node(ctx, fo), "userErrors": [user_error(field, result)]}
    ctx.world.count(ctx.shop.domain, "fulfillmentOrderMove", fo.order_id)
    return {"movedFulfillmentOrder": fo_node(ctx, result), "originalFulfillmentOrder": fo_node(ctx, fo),
            "remainingFulfillmentOrder": None, "userErrors": []}


def release(_root: Any, info: GraphQLResolveInfo[Any], id: str, holdIds: list[str] | None = None,
            externalId: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(id, "FulfillmentOrder"))
    if fo is None:
        return {"fulfillmentOrder": None, "userErrors": [user_error(
            ["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")]}
    ids = None
    if holdIds is not None:
        ids = [parse_gid(h, "FulfillmentHold") or -1 for h in holdIds]
        unknown = [h for h, n in zip(holdIds, ids, strict=True) if n not in {x.id for x in fo.holds}]
        if unknown:
            return {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": [user_error(
                ["holdIds"], f"Fulfillment hold {unknown[0]} does not belong to this fulfillment order.",
                "INVALID_ACCESS")]}
    ctx.world.count(ctx.shop.domain, "fulfillmentOrderReleaseHold", fo.order_id)
    release_holds(ctx, fo, ids)  # no holdIds: every hold goes, other apps' included
    return {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": []}


def submit_cancellation(_root: Any, info: GraphQLResolveInfo[Any], id: str,
                        message: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, *FO_WRITE_SCOPES)
    fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(id, "FulfillmentOrder"))
    if fo is None:
        return {"fulfillmentOrder": None, "userErrors": [user_error(["id"], "Fulfillment order does not exist.")]}
    if fo.request_status not in ("SUBMITTED", "ACCEPTED"):
        return {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": [user_error(
            ["id"], "Cannot request cancellation for a fulfillment order that was not accepted by a "
                    "fulfillment service.")]}
    fo.request_status, fo.updated_at = "CANCELLATION_REQUESTED", ctx.now
    ctx.world.count(ctx.shop.domain, "fulfillmentOrderSubmitCancellationRequest", fo.order_id)
    runtime = ctx.runtime

    def accept() -> None:
        if fo.request_status == "CANCELLATION_REQUESTED":
            fo.request_status, fo.status, fo.updated_at = "CANCELLATION_ACCEPTED", "CANCELLED", runtime.now()
            touch(ctx.world, ctx.world.orders[fo.order_id], runtime.now())

    runtime.schedule(ctx.world.timing.service_cancel_accept_delay, accept, f"shopify 3PL accepts cancel {fo.id}")
    return {"fulfillmentOrder": fo_node(ctx, fo), "userErrors": []}


def q_fulfillment_order(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any] | None:
    ctx = ctx_of(info)
    require_scope(info, *FO_READ_SCOPES)
    fo = ctx.world.fo_in(ctx.shop.domain, parse_gid(id, "FulfillmentOrder"))
    return fo_node(ctx, fo) if fo else None


QUERIES = {"fulfillmentOrder": q_fulfillment_order}
MUTATIONS = {
    "fulfillmentOrderHold": hold, "fulfillmentOrderReleaseHold": release,
    "fulfillmentOrderSubmitCancellationRequest": submit_cancellation,
    "fulfillmentOrderSplit": fulfillment_order_split, "fulfillmentOrderMove": fulfillment_order_move,
}
