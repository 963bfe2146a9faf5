"""Control routes (mounted at /shopify) for the store's own sales, which move its stock.

A merchant sale is an online-store order created as Shopify's admin would create it,
claiming inventory (DECREMENT_OBEYING_POLICY): ``available`` drops at the shop's first
location, ``committed`` rises, and ``inventory_levels/update`` is sent to subscribers.
A sale beyond the stock of a DENY-policy variant is refused (409), as checkout would.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.control import MERCHANT
from orderbridge.sandbox.shopify.resolvers_orders import order_create
from orderbridge.sandbox.shopify.state import Token, gid

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["build_stock_router"]


class SaleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1)
    quantity: int = Field(1, ge=1)


def build_stock_router(sandbox: ShopifySandbox) -> APIRouter:
    """The merchant-sale route (the Shopify control router includes it)."""
    router = APIRouter(tags=["shopify"])
    world = sandbox.world

    @router.post("/shops/{shop}/sales")
    def merchant_sale(shop: str, body: SaleBody) -> dict[str, Any]:
        """The store sells units of a SKU itself (an order claiming stock); 409 beyond stock."""
        found = world.shops.get(shop) or world.shops.get(shop + ".myshopify.com")
        if found is None:
            raise HTTPException(404, f"no shop {shop}")
        variant = next((v for v in world.variants.values()
                        if v.sku == body.sku and world.variant_shop.get(v.id) == found.domain), None)
        if variant is None:
            raise HTTPException(404, f"no variant with SKU {body.sku!r} in {found.domain}")
        token = Token("merchant", MERCHANT.id, found.domain, frozenset({"write_orders"}))
        ctx = Ctx(world, found, token, MERCHANT, sandbox.clock.now(), sandbox.runtime, "control")
        info = cast(Any, SimpleNamespace(context=ctx, field_name="orderCreate"))
        result = order_create(
            None, info,
            {"lineItems": [{"variantId": gid("ProductVariant", variant.id), "quantity": body.quantity}],
             "financialStatus": "PAID", "sourceName": "web"},
            {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"})
        if result["userErrors"]:
            raise HTTPException(409, "; ".join(e["message"] for e in result["userErrors"]))
        return {"order_id": result["order"]["id"], "name": result["order"]["name"],
                "available": world.available(variant, found.location_ids[0])}

    return router
