"""Control routes for the shop's own history (what happened when), for checkers.

An invariant checker must not take the integration's word for when an order became
fulfillable: Shopify's admin keeps its own timeline of who released which hold and when,
and this is the sandbox's record of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException

from orderbridge.sandbox.shopify.order_records import HoldRelease
from orderbridge.sandbox.shopify.state import gid, parse_gid

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["build_history_router"]

MERCHANT_HANDLE = "shopify-admin"  # the merchant in the admin (no app)
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})


def build_history_router(sandbox: ShopifySandbox) -> APIRouter:
    """Routes under /shopify: ``GET /hold-releases``."""
    router = APIRouter(tags=["shopify"])
    world = sandbox.world

    def app_handle(app_id: int) -> str:
        app = world.apps.get(app_id)
        return app.handle if app is not None else MERCHANT_HANDLE

    def as_json(r: HoldRelease) -> dict[str, Any]:
        return {
            "at": r.at.isoformat(), "order_id": gid("Order", r.order_id),
            "fulfillment_order_id": gid("FulfillmentOrder", r.fulfillment_order_id),
            "hold_id": gid("FulfillmentHold", r.hold_id), "handle": r.handle,
            "hold_app": app_handle(r.hold_app_id), "released_by": app_handle(r.released_by_app_id),
            "by_hold_owner": r.released_by_app_id == r.hold_app_id,
            "status_after": r.status_after, "fulfillable_after": r.status_after in FULFILLABLE,
        }

    @router.get("/hold-releases")
    def hold_releases(shop: str | None = None, order_id: str | None = None) -> list[dict[str, Any]]:
        """Every hold released, in time order: when, whose hold, released by which app, and
        whether its fulfilment order became fulfillable (optionally for one shop or order)."""
        domain = None
        if shop is not None:
            found = world.shops.get(shop) or world.shops.get(shop + ".myshopify.com")
            if found is None:
                raise HTTPException(404, f"no shop {shop}")
            domain = found.domain
        number = None
        if order_id is not None:
            number = parse_gid(order_id, "Order") if order_id.startswith("gid:") else (
                int(order_id) if order_id.isdigit() else -1)
        return [as_json(r) for r in world.hold_releases
                if (domain is None or world.orders.get(r.order_id) is None
                    or world.orders[r.order_id].shop == domain)
                and (number is None or r.order_id == number)]

    return router
