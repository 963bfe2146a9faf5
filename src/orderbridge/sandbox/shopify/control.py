"""Control API of the Shopify sandbox (mounted at /shopify): the merchant's hands on orders and
fulfilment orders (the store's and apps' knobs: ``control_store.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.history import build_history_router
from orderbridge.sandbox.shopify.order_records import FulfillmentOrder, Order, Tracking
from orderbridge.sandbox.shopify.resolvers_cancel import cancel_blocker, cancel_order_now
from orderbridge.sandbox.shopify.resolvers_fulfillment import do_split, move, release_holds
from orderbridge.sandbox.shopify.resolvers_shipments import cancel_fulfillment, fulfil, set_tracking
from orderbridge.sandbox.shopify.state import App, Location, Shop, Token, gid, parse_gid
from orderbridge.sandbox.shopify.webhooks import order_json
from orderbridge.sandbox.shopify.world import add_service_location, build_fulfillment_orders, touch

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox
    from orderbridge.sandbox.shopify.state import World

__all__ = ["MERCHANT", "STRICT_INPUT", "build_router", "shop_of"]

MERCHANT = App(0, "Shopify admin (merchant)", "shopify-admin", "", "")


# Control API bodies refuse fields they do not know (422): a misspelt field silently
# ignored once gave a 1-unit order instead of the intended quantity.
STRICT_INPUT = ConfigDict(extra="forbid")


class LineQty(BaseModel):
    model_config = STRICT_INPUT
    line_item_id: str  # gid or number
    quantity: int


class FulfilBody(BaseModel):
    model_config = STRICT_INPUT
    line_items: list[LineQty] | None = None  # None = everything remaining
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


class TrackingBody(BaseModel):
    model_config = STRICT_INPUT
    company: str | None = None
    number: str | None = None
    url: str | None = None


class CancelBody(BaseModel):
    model_config = STRICT_INPUT
    reason: str = "OTHER"
    restock: bool = True
    staff_note: str | None = None
    refund: bool = False


class ReleaseBody(BaseModel):
    model_config = STRICT_INPUT
    hold_ids: list[str] | None = None  # None = every hold


class SplitBody(BaseModel):
    model_config = STRICT_INPUT
    line_items: list[LineQty]  # fulfilment order line item ids and quantities to move


class MoveBody(BaseModel):
    model_config = STRICT_INPUT
    location_id: str  # gid or number of a location of the order's shop
    line_items: list[LineQty] | None = None  # fulfilment order line items; None = every unit left


class LocationBody(BaseModel):
    model_config = STRICT_INPUT
    name: str = "Second Warehouse"


class ServiceBody(BaseModel):
    model_config = STRICT_INPUT
    handle: str = "acme-3pl"


def shop_of(world: World, domain: str) -> Shop:
    """The shop of ``domain`` (with or without ``.myshopify.com``); 404 when there is none."""
    shop = world.shops.get(domain) or world.shops.get(domain + ".myshopify.com")
    if shop is None:
        raise HTTPException(404, f"no shop {domain}")
    return shop


def build_router(sandbox: ShopifySandbox) -> APIRouter:
    """The control router (the control app mounts it at /shopify)."""
    router = APIRouter(tags=["shopify"])
    router.include_router(build_history_router(sandbox))
    world = sandbox.world

    def merchant(shop: str) -> Ctx:
        token = Token("merchant", MERCHANT.id, shop, frozenset())
        return Ctx(world, world.shops[shop], token, MERCHANT, sandbox.clock.now(), sandbox.runtime, "control")

    def order_of(order_id: str) -> Order:
        number = parse_gid(order_id, "Order") if order_id.startswith("gid:") else (
            int(order_id) if order_id.isdigit() else None)
        order = world.orders.get(number or -1)
        if order is None:
            raise HTTPException(404, f"no order {order_id:path}")
        return order

    def fo_of(fo_id: str) -> FulfillmentOrder:
        number = parse_gid(fo_id, "FulfillmentOrder") if fo_id.startswith("gid:") else (
            int(fo_id) if fo_id.isdigit() else None)
        fo = world.fulfillment_orders.get(number or -1)
        if fo is None:
            raise HTTPException(404, f"no fulfillment order {fo_id:path}")
        return fo

    def raw(order: Order) -> dict[str, Any]:
        body = order_json(world, order)
        body["fulfillment_orders"] = [{
            "id": gid("FulfillmentOrder", fo.id), "status": fo.status, "request_status": fo.request_status,
            "location_id": fo.location_id,
            "holds": [{"id": gid("FulfillmentHold", h.id), "handle": h.handle, "reason": h.reason,
                       "reason_notes": h.reason_notes, "app": world.apps[h.app_id].handle if h.app_id in world.apps
                       else "merchant"} for h in fo.holds],
            "line_items": [{"id": gid("FulfillmentOrderLineItem", ln.id), "line_item_id": ln.line_item_id,
                            "total": ln.total, "remaining": ln.remaining} for ln in fo.lines]}
            for fo in (world.fulfillment_orders[i] for i in order.fulfillment_order_ids)]
        body["inventory"] = {li.sku or str(li.id): {"claimed": li.claimed, "available": world.available(
            world.variants[li.variant_id], world.shops[order.shop].location_ids[0])} if li.variant_id else None
            for li in order.line_items}
        body["shop"], body["staff_notes"], body["cancel_pending"] = order.shop, order.staff_notes, order.cancel_pending
        body["transactions"] = [{"id": t.id, "kind": t.kind, "gateway": t.gateway, "amount": str(t.amount),
                                 "manual": t.manual, "created_at": t.created_at.isoformat()}
                                for t in order.transactions]
        return body

    @router.get("/orders/{order_id:path}")
    def get_order(order_id: str) -> dict[str, Any]:
        """An order as stored: REST shape plus fulfilment orders, holds, inventory, transactions."""
        return raw(order_of(order_id))

    @router.get("/orders")
    def list_orders(source_identifier: str | None = None, shop: str | None = None) -> list[dict[str, Any]]:
        """Orders (no index lag here), optionally by source identifier and shop."""
        return [raw(o) for o in world.orders.values()
                if (source_identifier is None or o.source_identifier == source_identifier)
                and (shop is None or o.shop == shop_of(world, shop).domain)]

    @router.post("/orders/{order_id:path}/fulfill")
    def merchant_fulfil(order_id: str, body: FulfilBody) -> dict[str, Any]:
        """The merchant fulfils an order: all, or the given line items and quantities."""
        order = order_of(order_id)
        ctx = merchant(order.shop)
        if not order.fulfillment_order_ids:
            build_fulfillment_orders(world, order, ctx.now)
        fos = [world.fulfillment_orders[i] for i in order.fulfillment_order_ids
               if world.fulfillment_orders[i].status in ("OPEN", "IN_PROGRESS", "ON_HOLD")]
        requests: list[tuple[FulfillmentOrder, dict[int, int] | None]] = []
        for fo in fos:
            if body.line_items is None:
                requests.append((fo, None))
                continue
            wanted = {}
            for item in body.line_items:
                line_id = parse_gid(item.line_item_id, "LineItem") or int(item.line_item_id)
                ln = next((x for x in fo.lines if x.line_item_id == line_id), None)
                if ln is not None:
                    wanted[ln.id] = item.quantity
            if wanted:
                requests.append((fo, wanted))
        tracking = [Tracking(body.tracking_company, body.tracking_number, body.tracking_url)] \
            if body.tracking_number or body.tracking_company else []
        result = fulfil(ctx, order, requests, tracking) if requests else "nothing to fulfil"
        if isinstance(result, str):
            raise HTTPException(409, result)
        world.count(order.shop, "admin:fulfill", order.id)
        return {"fulfillment_id": gid("Fulfillment", result.id), "name": result.name}

    @router.post("/fulfillments/{fulfillment_id:path}/tracking")
    def add_tracking(fulfillment_id: str, body: TrackingBody) -> dict[str, Any]:
        """The merchant adds or changes tracking on a fulfilment."""
        number = parse_gid(fulfillment_id, "Fulfillment") or int(fulfillment_id)
        for order in world.orders.values():
            f = next((x for x in order.fulfillments if x.id == number), None)
            if f is not None:
                set_tracking(merchant(order.shop), order, f, [Tracking(body.company, body.number, body.url)])
                return {"ok": True}
        raise HTTPException(404, "no such fulfillment")

    @router.post("/fulfillments/{fulfillment_id:path}/cancel")
    def cancel_a_fulfilment(fulfillment_id: str) -> dict[str, Any]:
        """The merchant cancels a fulfilment (units go back to their fulfilment order)."""
        number = parse_gid(fulfillment_id, "Fulfillment") or int(fulfillment_id)
        for order in world.orders.values():
            f = next((x for x in order.fulfillments if x.id == number), None)
            if f is not None:
                problem = cancel_fulfillment(merchant(order.shop), order, f)
                if problem:
                    raise HTTPException(409, problem)
                return {"ok": True}
        raise HTTPException(404, "no such fulfillment")

    @router.post("/orders/{order_id:path}/cancel")
    def admin_cancel(order_id: str, body: CancelBody) -> dict[str, Any]:
        """The merchant cancels an order in the admin (immediately), with or without restock."""
        order = order_of(order_id)
        ctx = merchant(order.shop)
        blocker = cancel_blocker(ctx, order)
        if blocker:
            raise HTTPException(409, blocker)
        cancel_order_now(ctx, order, body.reason, body.restock, body.staff_note, body.refund)
        return {"ok": True}

    @router.delete("/orders/{order_id:path}")
    def delete_order(order_id: str) -> dict[str, Any]:
        """The merchant deletes an order (it disappears from the API)."""
        order = order_of(order_id)
        sandbox.runtime.emit(order.shop, "orders/delete", {"id": order.id})
        for fo_id in order.fulfillment_order_ids:
            world.fulfillment_orders.pop(fo_id, None)
        del world.orders[order.id]
        return {"ok": True}

    @router.post("/fulfillment-orders/{fo_id:path}/release")
    def release_by_hand(fo_id: str, body: ReleaseBody) -> dict[str, Any]:
        """The merchant releases one hold, some, or all of them (Release fulfillment).

        When the last hold goes, `fulfillment_orders/hold_released` is sent as for any release."""
        fo = fo_of(fo_id)
        ids = [parse_gid(h, "FulfillmentHold") or -1 for h in body.hold_ids] if body.hold_ids is not None else None
        release_holds(merchant(world.orders[fo.order_id].shop), fo, ids)
        return {"status": fo.status}

    @router.post("/fulfillment-orders/{fo_id:path}/split")
    def split_fo(fo_id: str, body: SplitBody) -> dict[str, Any]:
        """Move units to a new fulfilment order at the same location (fulfillment_orders/split).

        The new fulfilment order carries no holds: an integration that holds orders must hold it."""
        fo = fo_of(fo_id)
        moved = {parse_gid(i.line_item_id, "FulfillmentOrderLineItem") or int(i.line_item_id): i.quantity
                 for i in body.line_items}
        if not moved or any(q <= 0 or q > next((ln.remaining for ln in fo.lines if ln.id == k), 0)
                            for k, q in moved.items()):
            raise HTTPException(409, "invalid quantities")
        new = do_split(merchant(world.orders[fo.order_id].shop), fo, moved)
        return {"fulfillment_order_id": gid("FulfillmentOrder", new.id), "status": fo.status}

    @router.post("/fulfillment-orders/{fo_id:path}/move")
    def move_fo(fo_id: str, body: MoveBody) -> dict[str, Any]:
        """Assign a fulfilment order (or some of its units) to another location (fulfillment_orders/moved).

        Everything of an untouched fulfilment order: it moves itself (same id, holds kept).
        Some units: a new fulfilment order at the destination, with no holds."""
        fo = fo_of(fo_id)
        location = parse_gid(body.location_id, "Location") if body.location_id.startswith("gid:") else (
            int(body.location_id) if body.location_id.isdigit() else None)
        items = None if body.line_items is None else [
            {"id": i.line_item_id if i.line_item_id.startswith("gid:") else gid("FulfillmentOrderLineItem",
                                                                               int(i.line_item_id)),
             "quantity": i.quantity} for i in body.line_items]
        result = move(merchant(world.orders[fo.order_id].shop), fo, location, items)
        if isinstance(result, str):
            raise HTTPException(409, result)
        return {"fulfillment_order_id": gid("FulfillmentOrder", result.id),
                "original_fulfillment_order_id": gid("FulfillmentOrder", fo.id), "status": fo.status}

    @router.post("/shops/{shop}/locations")
    def add_location(shop: str, body: LocationBody) -> dict[str, Any]:
        """Add a (merchant-managed) location to a shop, e.g. to move fulfilment orders to it."""
        target = shop_of(world, shop)
        location = Location(world.new_id("location"), body.name)
        world.locations[location.id] = location
        target.location_ids.append(location.id)
        return {"location_id": gid("Location", location.id)}

    @router.post("/orders/{order_id:path}/assign-service")
    def assign_service(order_id: str, body: ServiceBody) -> dict[str, Any]:
        """Assign the order's open fulfilment orders to a fulfilment service (3PL app), accepted
        (request ACCEPTED; an open one becomes IN_PROGRESS, as when a service accepts)."""
        order = order_of(order_id)
        location = add_service_location(world, world.shops[order.shop], body.handle)
        for fo_id in order.fulfillment_order_ids:
            fo = world.fulfillment_orders[fo_id]
            if fo.status in ("OPEN", "ON_HOLD", "IN_PROGRESS"):
                fo.location_id, fo.request_status = location.id, "ACCEPTED"
                if fo.status == "OPEN":  # an accepted request is being processed
                    fo.status = "IN_PROGRESS"
        touch(world, order, sandbox.clock.now())
        return {"location_id": gid("Location", location.id)}

    return router
