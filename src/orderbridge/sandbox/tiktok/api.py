"""Handlers of the Partner API endpoints (202309), one function per path template."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from orderbridge.clock import to_unix
from orderbridge.sandbox.tiktok.auth import Auth, AuthKind, Caller
from orderbridge.sandbox.tiktok.cancellations import Cancellations
from orderbridge.sandbox.tiktok.constants import (
    MAX_CANCEL_PAGE_SIZE,
    MAX_DETAIL_IDS,
    MAX_IDEMPOTENCY_KEY,
    MAX_ORDER_PAGE_SIZE,
    MAX_PRODUCT_PAGE_SIZE,
    MAX_PRODUCT_SEARCH_RESULTS,
    MAX_WEBHOOK_ADDRESS,
    ErrorCode,
    EventType,
)
from orderbridge.sandbox.tiktok.errors import ApiError, bad_request, business_error
from orderbridge.sandbox.tiktok.external import ExternalOrders
from orderbridge.sandbox.tiktok.fulfillment import Fulfillment
from orderbridge.sandbox.tiktok.inventory import inventory_search, update_inventory
from orderbridge.sandbox.tiktok.orders import Engine
from orderbridge.sandbox.tiktok.params import in_range, int_param, opt_int, paginate, str_list
from orderbridge.sandbox.tiktok.render import (
    cancellation_json,
    order_json,
    product_json,
    return_json,
    ts,
)
from orderbridge.sandbox.tiktok.state import Order, Shop, WebhookSub

__all__ = ["Api", "Ctx", "Route"]


def _updated_within(product: Any, since: int | None, until: int | None) -> bool:
    stamp = product.update_time or product.create_time
    seconds = to_unix(stamp) if stamp is not None else 0
    return (since is None or seconds >= since) and (until is None or seconds <= until)


@dataclass
class Ctx:
    """One API request, authenticated."""

    caller: Caller | None
    params: dict[str, str]
    path_params: dict[str, str]
    body: bytes

    @property
    def shop(self) -> Shop:
        assert self.caller is not None
        assert self.caller.shop is not None
        return self.caller.shop

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"Invalid JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object")
        return data


Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Route:
    method: str
    template: str
    kind: AuthKind
    handler: Handler = field(repr=False)


class Api:
    """The endpoint handlers, bound to the engine."""

    def __init__(self, engine: Engine, auth: Auth, fulfillment: Fulfillment, cancels: Cancellations) -> None:
        self.engine = engine
        self.world = engine.world
        self.auth = auth
        self.fulfillment = fulfillment
        self.cancels = cancels
        self.external = ExternalOrders(engine.world)
        self.extra_routes: list[Route] = []  # the after-sale desk's (returns_api.py)

    def routes(self) -> list[Route]:
        s, n, t = AuthKind.SHOP, AuthKind.NO_SHOP, AuthKind.TOKEN
        return [
            Route("GET", "/api/v2/token/get", t, self.token_get),
            Route("GET", "/api/v2/token/refresh", t, self.token_refresh),
            Route("GET", "/authorization/202309/shops", n, self.shops),
            Route("POST", "/order/202309/orders/search", s, self.search_orders),
            Route("GET", "/order/202309/orders", s, self.order_detail),
            Route("GET", "/order/202507/orders", s, self.order_detail_202507),
            Route("POST", "/order/202406/orders/external_orders", s, self.external.add),
            Route("GET", "/order/202406/orders/{order_id}/external_orders", s, self.external.get),
            Route("GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers",
                  s, self.providers),
            Route("POST", "/fulfillment/202309/orders/{order_id}/packages", s, self.ship),
            Route("POST", "/fulfillment/202309/orders/{order_id}/shipping_info/update", s,
                  self.update_order_shipping),
            Route("POST", "/fulfillment/202309/packages/{package_id}/shipping_info/update", s,
                  self.update_package_shipping),
            Route("GET", "/fulfillment/202309/orders/{order_id}/tracking", s, self.tracking),
            Route("GET", "/fulfillment/202309/packages/{package_id}", s, self.package_detail),
            Route("POST", "/return_refund/202309/cancellations/search", s, self.search_cancellations),
            Route("POST", "/return_refund/202309/cancellations/{cancel_id}/approve", s, self.approve),
            Route("POST", "/return_refund/202309/cancellations/{cancel_id}/reject", s, self.reject),
            Route("POST", "/return_refund/202309/cancellations", s, self.seller_cancel),
            Route("POST", "/return_refund/202309/returns/search", s, self.search_returns),
            Route("POST", "/product/202309/products/search", s, self.search_products),
            Route("POST", "/product/202309/products/{product_id}/inventory/update", s,
                  self.update_inventory),
            Route("POST", "/product/202309/inventory/search", s, self.inventory_search),
            Route("PUT", "/event/202309/webhooks", s, self.put_webhook),
            Route("GET", "/event/202309/webhooks", s, self.get_webhooks),
            Route("DELETE", "/event/202309/webhooks", s, self.delete_webhook),
            *self.extra_routes,
        ]

    # --- auth ---------------------------------------------------------------------------
    async def token_get(self, ctx: Ctx) -> Any:
        return self.auth.token_get(ctx.params)

    async def token_refresh(self, ctx: Ctx) -> Any:
        return self.auth.token_refresh(ctx.params)

    async def shops(self, ctx: Ctx) -> Any:
        assert ctx.caller is not None
        assert ctx.caller.token is not None
        shop = self.world.shops[ctx.caller.token.shop_id]
        return {"shops": [{"id": shop.id, "name": shop.name, "region": shop.region,
                           "seller_type": shop.seller_type, "cipher": shop.cipher, "code": shop.code}]}

    # --- orders -------------------------------------------------------------------------
    def _order(self, ctx: Ctx) -> Order:
        order = self.world.orders.get(ctx.path_params["order_id"])
        if order is None or order.shop_id != ctx.shop.id:
            raise business_error(ErrorCode.ORDER_NOT_OURS, "The order does not exist or does not belong to the shop")
        return order

    async def search_orders(self, ctx: Ctx) -> Any:
        size = int_param(ctx.params, "page_size", None, 1, MAX_ORDER_PAGE_SIZE)
        sort_field = ctx.params.get("sort_field", "create_time")
        sort_order = ctx.params.get("sort_order", "DESC")
        if sort_field not in ("create_time", "update_time"):
            raise bad_request("sort_field must be create_time or update_time")
        if sort_order not in ("ASC", "DESC"):
            raise bad_request("sort_order must be ASC or DESC")
        body = ctx.json()
        status = body.get("order_status")
        shipping_type = body.get("shipping_type")
        buyer = body.get("buyer_user_id")
        warehouses = str_list(body, "warehouse_ids")
        buyer_cancel = body.get("is_buyer_request_cancel")
        matches = []
        for order in self.world.orders.values():
            if order.shop_id != ctx.shop.id:
                continue
            if status is not None and order.status.value != status:
                continue
            if shipping_type is not None and order.shipping_type.value != shipping_type:
                continue
            if buyer is not None and order.user_id != buyer:
                continue
            if warehouses is not None and order.warehouse_id not in warehouses:
                continue
            if buyer_cancel is not None and order.is_buyer_request_cancel != bool(buyer_cancel):
                continue
            if not in_range(ts(order.create_time), body, "create_time"):
                continue
            if not in_range(ts(order.update_time), body, "update_time"):
                continue
            matches.append(order)
        matches.sort(key=lambda o: (ts(getattr(o, sort_field)), o.id), reverse=sort_order == "DESC")
        page, token = paginate(matches, size, ctx.params.get("page_token", ""))
        now = self.engine.now()
        return {"next_page_token": token, "total_count": len(matches),
                "orders": [order_json(o, now) for o in page]}

    async def order_detail(self, ctx: Ctx) -> Any:
        ids = [i for i in ctx.params.get("ids", "").split(",") if i.strip()]
        if not ids:
            raise bad_request("ids is required")
        if len(ids) > MAX_DETAIL_IDS:
            raise bad_request(f"ids accepts at most {MAX_DETAIL_IDS} order ids")
        orders = []
        for oid in dict.fromkeys(i.strip() for i in ids):
            order = self.world.orders.get(oid)
            if order is None:
                continue
            if order.shop_id != ctx.shop.id:
                raise business_error(ErrorCode.ORDER_NOT_OURS, f"order {oid} does not belong to the shop")
            orders.append(order_json(order, self.engine.now()))
        return {"orders": orders}

    async def order_detail_202507(self, ctx: Ctx) -> Any:
        """Get Order Detail 202507: the 202309 shape plus the payment method's code, card
        type and authorisation code (sandbox values: the method name's code, no card data)."""
        data = await self.order_detail(ctx)
        for order in data["orders"]:
            order |= {"payment_method_code": order.get("payment_method_name", ""),
                      "payment_card_type": "", "payment_auth_code": ""}
        return data

    # --- fulfillment ------------------------------------------------------------------------
    async def providers(self, ctx: Ctx) -> Any:
        return {"shipping_providers": self.fulfillment.providers(ctx.shop, ctx.path_params["delivery_option_id"])}

    async def ship(self, ctx: Ctx) -> Any:
        order = self._order(ctx)
        body = ctx.json()
        tracking, provider = body.get("tracking_number"), body.get("shipping_provider_id")
        if not isinstance(tracking, str) or not isinstance(provider, str):
            raise bad_request("tracking_number and shipping_provider_id are required strings")
        return self.fulfillment.ship(order, tracking, provider, str_list(body, "order_line_item_ids"))

    def _shipping_update(self, ctx: Ctx, order: Order, package_id: str | None) -> Any:
        body = ctx.json()
        tracking, provider = body.get("tracking_number"), body.get("shipping_provider_id")
        if not isinstance(tracking, str) or not isinstance(provider, str):
            raise bad_request("tracking_number and shipping_provider_id are required strings")
        return self.fulfillment.update_shipping_info(order, package_id, tracking, provider)

    async def update_order_shipping(self, ctx: Ctx) -> Any:
        return self._shipping_update(ctx, self._order(ctx), None)

    async def update_package_shipping(self, ctx: Ctx) -> Any:
        package = self.world.packages.get(ctx.path_params["package_id"])
        orders = [self.world.orders[o] for o in package.lines] if package else []
        mine = [o for o in orders if o.shop_id == ctx.shop.id]
        if package is None or not mine:
            raise bad_request(f"package {ctx.path_params['package_id']} not found")
        return self._shipping_update(ctx, mine[0], package.id)

    async def tracking(self, ctx: Ctx) -> Any:
        return {"tracking": self.fulfillment.tracking(self._order(ctx))}

    async def package_detail(self, ctx: Ctx) -> Any:
        package = self.world.packages.get(ctx.path_params["package_id"])
        if package is None or not any(self.world.orders[o].shop_id == ctx.shop.id for o in package.lines):
            raise bad_request(f"package {ctx.path_params['package_id']} not found")
        return {
            "package_id": package.id, "tracking_number": package.tracking_number,
            "shipping_provider_id": package.shipping_provider_id,
            "shipping_provider_name": package.shipping_provider_name,
            "orders": [{"id": oid, "skus": [{"order_line_item_ids": lids}]} for oid, lids in package.lines.items()],
            "create_time": ts(package.shipped_at),
        }

    # --- cancellations and returns ------------------------------------------------------------
    async def search_cancellations(self, ctx: Ctx) -> Any:
        size = int_param(ctx.params, "page_size", 10, 1, MAX_CANCEL_PAGE_SIZE)
        body = ctx.json()
        order_ids, cancel_ids = str_list(body, "order_ids"), str_list(body, "cancel_ids")
        types, statuses = str_list(body, "cancel_types"), str_list(body, "cancel_status")
        found = []
        for c in self.world.cancellations.values():
            if c.shop_id != ctx.shop.id:
                continue
            if (order_ids is not None and c.order_id not in order_ids) or (
                    cancel_ids is not None and c.id not in cancel_ids):
                continue
            if types is not None and c.cancel_type.value not in types:
                continue
            if statuses is not None and not ({c.status.value, c.status.value.replace("_CANCEL", "_CANCELLED")}
                                             & set(statuses)):
                continue
            if not (in_range(ts(c.create_time), body, "create_time")
                    and in_range(ts(c.update_time), body, "update_time")):
                continue
            found.append(c)
        desc = ctx.params.get("sort_order", "DESC") != "ASC"
        found.sort(key=lambda c: (ts(c.create_time), c.id), reverse=desc)
        page, token = paginate(found, size, ctx.params.get("page_token", ""))
        return {"next_page_token": token, "total_count": len(found),
                "cancellations": [cancellation_json(c, self.world.orders[c.order_id]) for c in page]}

    def _cancel(self, ctx: Ctx) -> Any:
        record = self.world.cancellations.get(ctx.path_params["cancel_id"])
        if record is None or record.shop_id != ctx.shop.id:
            raise business_error(ErrorCode.CANCEL_NOT_FOUND, "The cancellation does not exist")
        return record

    async def approve(self, ctx: Ctx) -> Any:
        key = ctx.params.get("idempotency_key", "")
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise bad_request(f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY} characters")
        self.cancels.approve(self._cancel(ctx), key)
        return {}

    async def reject(self, ctx: Ctx) -> Any:
        record = self._cancel(ctx)
        ctx.json()
        self.cancels.reject(record)
        return {}

    async def seller_cancel(self, ctx: Ctx) -> Any:
        body = ctx.json()
        order_id, reason = body.get("order_id"), body.get("cancel_reason")
        if not isinstance(order_id, str) or not isinstance(reason, str):
            raise bad_request("order_id and cancel_reason are required")
        ctx.path_params["order_id"] = order_id
        order = self._order(ctx)
        skus_raw = body.get("skus")
        skus: list[tuple[str, int]] | None = None
        if skus_raw is not None:
            if not isinstance(skus_raw, list) or not all(
                    isinstance(s, dict) and isinstance(s.get("sku_id"), str)
                    and isinstance(s.get("quantity"), int) for s in skus_raw):
                raise bad_request("skus must be a list of {sku_id, quantity}")
            skus = [(s["sku_id"], s["quantity"]) for s in skus_raw]
        record = self.cancels.seller_cancel(order, reason, str_list(body, "order_line_item_ids"), skus)
        return {"cancel_id": record.id, "cancel_status": record.status.value}

    async def search_returns(self, ctx: Ctx) -> Any:
        size = int_param(ctx.params, "page_size", 10, 1, MAX_CANCEL_PAGE_SIZE)
        body = ctx.json()
        order_ids, return_ids = str_list(body, "order_ids"), str_list(body, "return_ids")
        types, statuses = str_list(body, "return_types"), str_list(body, "return_status")
        arbitration = str_list(body, "arbitration_status")
        proposed = str_list(body, "seller_proposed_return_type")
        found = [
            r for r in self.world.returns.values()
            if r.shop_id == ctx.shop.id
            and (order_ids is None or r.order_id in order_ids)
            and (return_ids is None or r.id in return_ids)
            and (types is None or r.return_type.value in types)
            and (statuses is None or r.status.value in statuses)
            and (arbitration is None or r.arbitration_status in arbitration)
            and (proposed is None or r.seller_proposed_return_type in proposed)
            and in_range(ts(r.create_time), body, "create_time")
            and in_range(ts(r.update_time), body, "update_time")
        ]
        found.sort(key=lambda r: (ts(r.create_time), r.id), reverse=True)
        page, token = paginate(found, size, ctx.params.get("page_token", ""))
        return {"next_page_token": token, "total_count": len(found),
                "return_orders": [return_json(r, self.world.orders[r.order_id]) for r in page]}

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


def is_api_error(exc: BaseException) -> bool:
    return isinstance(exc, ApiError)
