"""orderCreate with ``fulfillmentStatus: FULFILLED`` / ``fulfillment``: an order made fulfilled.

Shopify (OrderCreateOrderInput, OrderCreateFulfillmentInput) records an order that was
fulfilled elsewhere: the order shows FULFILLED, its fulfilment order is CLOSED at once, and
a SUCCESS fulfilment carries every shippable unit from ``fulfillment.locationId`` (the
shop's first location when only the status is given) with its tracking. No inventory is
touched beyond what ``options.inventoryBehaviour`` claimed (BYPASS: none). The customer is
never e-mailed here (the sandbox sends no mail; ``notifyCustomer`` is accepted).

Modelled: FULFILLED (alone or with ``fulfillment``), and ``fulfillment`` alone (it implies
FULFILLED). Not modelled: PARTIAL and RESTOCKED, refused with a userError naming the
sandbox rather than silently creating an unfulfilled order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.inputs import user_error
from orderbridge.sandbox.shopify.order_records import (
    FOLine,
    Fulfillment,
    FulfillmentOrder,
    Order,
    Tracking,
)
from orderbridge.sandbox.shopify.state import parse_gid
from orderbridge.sandbox.shopify.world import touch

__all__ = ["CreateFulfilmentError", "FulfilledAtCreate", "fulfil_at_create", "read_fulfilment"]


class CreateFulfilmentError(Exception):
    """A userError of orderCreate's fulfilment input (``error`` as the payload carries it)."""

    def __init__(self, field: list[str], message: str) -> None:
        super().__init__(message)
        self.error = user_error(field, message, "INVALID")


@dataclass(frozen=True)
class FulfilledAtCreate:
    """What to fulfil once the order exists."""

    location_id: int
    tracking: list[Tracking]


def read_fulfilment(ctx: Ctx, data: dict[str, Any]) -> FulfilledAtCreate | None:
    """Check the order input's fulfilment fields before anything is written."""
    status, given = data.get("fulfillmentStatus"), data.get("fulfillment")
    if status is None and not given:
        return None
    if status not in (None, "FULFILLED"):
        raise CreateFulfilmentError(["order", "fulfillmentStatus"],
                                    f"The sandbox does not model fulfillmentStatus {status}.")
    given = given or {}
    location = ctx.shop.location_ids[0]
    if given.get("locationId") is not None:
        wanted = parse_gid(given["locationId"], "Location")
        if wanted not in ctx.shop.location_ids:
            raise CreateFulfilmentError(["order", "fulfillment", "locationId"], "Location does not exist.")
        location = wanted
    # 2026-10 adds trackingNumbers; when both are given the singular one wins and the list is
    # ignored (https://shopify.dev/changelog/order-create-fulfillment-tracking-numbers).
    if given.get("trackingNumber"):
        numbers = [given["trackingNumber"]]
    else:
        numbers = [n for n in given.get("trackingNumbers") or [] if n]
    company = given.get("trackingCompany")
    tracking = [Tracking(company, n, None) for n in numbers]
    if not tracking and company:
        tracking = [Tracking(company, None, None)]
    return FulfilledAtCreate(location, tracking)


def fulfil_at_create(ctx: Ctx, order: Order, plan: FulfilledAtCreate | None) -> None:
    """Make the (already stored) order's fulfilment order, closed, and its fulfilment."""
    if plan is None:
        return
    world, now = ctx.world, ctx.now
    shippable = [li for li in order.line_items if li.requires_shipping and li.current_quantity > 0]
    if not shippable:
        return
    lines = [FOLine(world.new_id("foline"), li.id, li.current_quantity, 0) for li in shippable]
    fo = FulfillmentOrder(world.new_id("fo"), order.id, plan.location_id, "CLOSED", now, now, lines)
    world.fulfillment_orders[fo.id] = fo
    order.fulfillment_order_ids.append(fo.id)
    rows = [(world.new_id("fline"), li.id, li.current_quantity) for li in shippable]
    f = Fulfillment(world.new_id("fulfillment"), order.id, f"{order.name}.1", "SUCCESS", now, now,
                    plan.location_id, rows, [fo.id], plan.tracking)
    order.fulfillments.append(f)
    touch(world, order, now)
    ctx.runtime.fulfillment_event(order, f, "fulfillments/create")
