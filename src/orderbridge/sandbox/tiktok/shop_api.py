"""Handlers of the shop-level Partner API endpoints (202309): product search, inventory
update and search, and webhook subscriptions (Update/Get/Delete Shop Webhook)."""

from __future__ import annotations

from typing import Any

from orderbridge.clock import to_unix
from orderbridge.sandbox.tiktok.api import Ctx, Route
from orderbridge.sandbox.tiktok.auth import AuthKind
from orderbridge.sandbox.tiktok.constants import (
    MAX_PRODUCT_PAGE_SIZE,
    MAX_PRODUCT_SEARCH_RESULTS,
    MAX_WEBHOOK_ADDRESS,
    ErrorCode,
    EventType,
)
from orderbridge.sandbox.tiktok.errors import bad_request, business_error
from orderbridge.sandbox.tiktok.inventory import inventory_search, update_inventory
from orderbridge.sandbox.tiktok.orders import Engine
from orderbridge.sandbox.tiktok.params import int_param, opt_int, paginate
from orderbridge.sandbox.tiktok.render import product_json
from orderbridge.sandbox.tiktok.state import WebhookSub

__all__ = ["ShopApi"]


def _updated_within(product: Any, since: int | None, until: int | None) -> bool:
    stamp = product.update_time or product.create_time
    seconds = to_unix(stamp) if stamp is not None else 0
    return (since is None or seconds >= since) and (until is None or seconds <= until)


class ShopApi:
    """Handlers of ``/product/202309/...`` and ``/event/202309/webhooks``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world = engine.world

    def routes(self) -> list[Route]:
        s = AuthKind.SHOP
        return [
            Route("POST", "/product/202309/products/search", s, self.search_products),
            Route("POST", "/product/202309/products/{product_id}/inventory/update", s,
                  self.update_inventory),
            Route("POST", "/product/202309/inventory/search", s, self.inventory_search),
            Route("PUT", "/event/202309/webhooks", s, self.put_webhook),
            Route("GET", "/event/202309/webhooks", s, self.get_webhooks),
            Route("DELETE", "/event/202309/webhooks", s, self.delete_webhook),
        ]

    # --- products -------------------------------------------------------------------------
    async def search_products(self, ctx: Ctx) -> Any:
        size = int_param(ctx.params, "page_size", None, 1, MAX_PRODUCT_PAGE_SIZE)
        body = ctx.json()
        since, until = opt_int(body, "update_time_ge"), opt_int(body, "update_time_le")
        products = sorted((p for p in ctx.shop.products.values()
                           if _updated_within(p, since, until)), key=lambda p: p.id)
        # Only the first 10,000 matches can be paged to: narrow the update-time window for more.
        reachable = products[:MAX_PRODUCT_SEARCH_RESULTS]
        page, token = paginate(reachable, size, ctx.params.get("page_token", ""))
        return {"next_page_token": token, "total_count": len(products),
                "products": [product_json(p) for p in page]}

    async def update_inventory(self, ctx: Ctx) -> Any:
        product = ctx.shop.products.get(ctx.path_params["product_id"])
        if product is None:
            raise business_error(ErrorCode.PRODUCT_NOT_FOUND, "The product does not exist")
        answer = update_inventory(ctx.shop, product, ctx.json(), (self.world, self.engine.now()))
        product.update_time = self.engine.now()
        return answer

    async def inventory_search(self, ctx: Ctx) -> Any:
        return inventory_search(self.world, ctx.shop, ctx.json())

    # --- webhooks -------------------------------------------------------------------------
    async def put_webhook(self, ctx: Ctx) -> Any:
        body = ctx.json()
        address, event_type = body.get("address"), body.get("event_type")
        if not isinstance(address, str) or not address or len(address) > MAX_WEBHOOK_ADDRESS:
            raise bad_request(f"address is required (at most {MAX_WEBHOOK_ADDRESS} characters)")
        event = _event(event_type)
        assert ctx.caller is not None
        now = self.engine.now()
        old = ctx.shop.webhooks.get(int(event))
        ctx.shop.webhooks[int(event)] = WebhookSub(address, ctx.caller.app.app_key,
                                                   old.create_time if old else now, now)
        return {}

    async def get_webhooks(self, ctx: Ctx) -> Any:
        return {"webhooks": [
            {"event_type": EventType(t).name, "address": sub.address,
             "create_time": to_unix(sub.create_time), "update_time": to_unix(sub.update_time)}
            for t, sub in sorted(ctx.shop.webhooks.items())
        ]}

    async def delete_webhook(self, ctx: Ctx) -> Any:
        event = _event(ctx.json().get("event_type"))
        ctx.shop.webhooks.pop(int(event), None)
        return {}


def _event(value: object) -> EventType:
    if isinstance(value, str) and value in EventType.__members__:
        return EventType[value]
    raise bad_request(f"event_type must be one of {', '.join(EventType.__members__)}")
