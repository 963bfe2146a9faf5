"""Read-only control routes (mounted at /shopify) for measurements: the plan a shop runs on,
what every request cost by the sandbox's own accounting, and the exact instants at which
orders and fulfilments were created.

Benchmarks time and price the engine with these, so that no figure rests on the engine's
say-so: the sandbox is the party that charged the points and committed the records.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException

from orderbridge.sandbox.shopify.cost import CONNECTION_BASE_COST, MAX_QUERY_COST, MUTATION_COST
from orderbridge.sandbox.shopify.state import Shop, gid

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["build_facts_router", "exact"]


def exact(value: datetime) -> str:
    """An instant on the sandbox clock to the microsecond (the API's own JSON has whole seconds)."""
    return value.isoformat(timespec="microseconds")


def build_facts_router(sandbox: ShopifySandbox) -> APIRouter:
    """The measurement routes (the Shopify control router includes them)."""
    router = APIRouter(tags=["shopify"])
    world = sandbox.world

    def shop_of(domain: str) -> Shop:
        shop = world.shops.get(domain) or world.shops.get(domain + ".myshopify.com")
        if shop is None:
            raise HTTPException(404, f"no shop {domain}")
        return shop

    @router.get("/shops/{shop}/settings")
    def get_shop_settings(shop: str) -> dict[str, Any]:
        """The shop's plan preset, its restore rate (points/s), bucket size and orderCreate cap."""
        target = shop_of(shop)
        return {"plan": target.plan.value, "bucket_size": target.bucket_size, "create_cap": target.create_cap,
                "restore_rate": target.restore_rate(),
                "cost_model": {"mutation": MUTATION_COST, "object": 1, "connection_base": CONNECTION_BASE_COST,
                               "max_query_cost": MAX_QUERY_COST}}

    @router.get("/costs")
    def costs(shop: str | None = None) -> list[dict[str, Any]]:
        """GraphQL requests by shop, app and root field: how many, how many throttled, points
        requested and actually charged (the sandbox's accounting, cumulative since start)."""
        domain = shop_of(shop).domain if shop is not None else None
        return [{"shop": key[0], "app": world.apps[key[1]].handle if key[1] in world.apps else str(key[1]),
                 "operation": key[2], "requests": t.requests, "throttled": t.throttled,
                 "requested_points": t.requested_points, "actual_points": t.actual_points}
                for key, t in sorted(world.costs.items()) if domain is None or key[0] == domain]

    @router.get("/instants")
    def instants(shop: str | None = None) -> list[dict[str, Any]]:
        """Every order's creation instant, its fulfilments' (id, instant, tracking numbers) and its
        current holds' (fulfilment order, handle, instant placed), on the sandbox clock to the
        microsecond, with the order's source identifier."""
        domain = shop_of(shop).domain if shop is not None else None
        return [{"id": gid("Order", o.id), "source_identifier": o.source_identifier, "created": exact(o.created_at),
                 "fulfillments": [{"id": gid("Fulfillment", f.id), "created": exact(f.created_at),
                                   "tracking_numbers": [t.number for t in f.tracking if t.number]}
                                  for f in o.fulfillments],
                 "holds": [{"fulfillment_order_id": gid("FulfillmentOrder", fo.id), "handle": h.handle,
                            "placed": exact(h.placed_at) if h.placed_at else None}
                           for fo in (world.fulfillment_orders[i] for i in o.fulfillment_order_ids
                                      if i in world.fulfillment_orders) for h in fo.holds]}
                for o in world.orders.values() if domain is None or o.shop == domain]

    return router
