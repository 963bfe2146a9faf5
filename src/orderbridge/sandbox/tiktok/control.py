"""Control API of the TikTok sandbox (mounted at ``/tiktok``): buyers, carriers, TikTok.

Everything a test or demo needs to make happen on "TikTok's side": place and pay orders,
cancel as buyer or TikTok, move parcels, open returns, change shop settings, mint auth
codes, expire tokens, resend webhooks, and read the raw (unmasked) state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException

from orderbridge.clock import to_unix
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.tiktok.auth import Auth
from orderbridge.sandbox.tiktok.cancellations import Cancellations
from orderbridge.sandbox.tiktok.constants import (
    BUYER_DEFAULT_REASON,
    SYSTEM_FRAUD_REASON,
    SYSTEM_SHIPPING_TIMEOUT_REASON,
    SYSTEM_UNPAID_REASON,
    DeliveryOption,
    ErrorCode,
    EventType,
)
from orderbridge.sandbox.tiktok.control_models import (
    AddressIn,
    ExpiringIn,
    OrderIn,
    ProductIn,
    ReasonIn,
    RedirectIn,
    SettingsIn,
    ShopIn,
    WebhookIn,
)
from orderbridge.sandbox.tiktok.factory import ItemSpec, add_product, add_shop
from orderbridge.sandbox.tiktok.orders import Engine, OrderRequest, OrderRuleError
from orderbridge.sandbox.tiktok.render import (
    cancellation_json,
    order_json,
    product_json,
    ts,
)
from orderbridge.sandbox.tiktok.state import Address, Charges, Order, Shop, WebhookSub

__all__ = ["ControlDeps", "build_control"]

TIKTOK_CANCEL_REASONS = {
    "fraud": SYSTEM_FRAUD_REASON,
    "unpaid_timeout": SYSTEM_UNPAID_REASON,
    "shipping_timeout": SYSTEM_SHIPPING_TIMEOUT_REASON,
    "seller_center": "seller_center_cancel",
}
@dataclass
class ControlDeps:
    world_engine: Engine
    cancels: Cancellations
    auth: Auth
    dispatcher: WebhookDispatcher


def _exact(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def build_control(deps: ControlDeps) -> APIRouter:
    """The control router (tags ["tiktok"])."""
    engine, cancels, auth = deps.world_engine, deps.cancels, deps.auth
    world = engine.world
    r = APIRouter(tags=["tiktok"])

    def shop_of(ref: str) -> Shop:
        if not ref:
            return next(iter(world.shops.values()))
        for shop in world.shops.values():
            if ref in (shop.id, shop.name, shop.cipher):
                return shop
        raise HTTPException(404, f"unknown shop {ref!r}")

    def order_of(order_id: str) -> Order:
        order = world.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"unknown order {order_id}")
        return order

    def raw(order: Order) -> dict[str, Any]:
        # Plus the sandbox's own record of when it reached AWAITING_SHIPMENT (not a TikTok
        # field): checkers time the release rule from it, not from the integration's memory.
        body: dict[str, Any] = order_json(order, engine.now(), unmasked=True)
        body["awaiting_shipment_time"] = ts(order.awaiting_shipment_time)
        return body

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except OrderRuleError as exc:
            raise HTTPException(409, str(exc)) from None

    def shop_json(shop: Shop) -> dict[str, Any]:
        return {"shop_id": shop.id, "name": shop.name, "cipher": shop.cipher, "code": shop.code,
                "region": shop.region, "warehouse_id": shop.warehouse_id,
                "auto_approve": shop.auto_approve.value, "skip_on_hold": shop.skip_on_hold,
                "default_shipping_type": shop.default_shipping_type.value,
                "webhook_optional_fields": shop.webhook_optional_fields.value,
                "delivery_options": {o.value: i for o, i in shop.delivery_options.items()},
                "tiktok_delivery_option_id": shop.tiktok_delivery_option_id}

    @r.get("/shops")
    async def list_shops() -> list[dict[str, Any]]:
        """Every shop with its settings."""
        return [shop_json(s) for s in world.shops.values()]

    @r.post("/shops")
    async def create_shop(body: ShopIn) -> dict[str, Any]:
        """Add a US seller-shipping shop (optionally with the default catalogue)."""
        shop = add_shop(world, body.name, engine.now())
        if body.default_catalogue:
            template = next(iter(world.shops.values()))
            for product in template.products.values():
                add_product(world, shop, product.title,
                            [(s.name, s.seller_sku, s.price, 500) for s in product.skus], engine.now())
        return shop_json(shop)

    @r.patch("/shops/{shop}/settings")
    async def shop_settings(shop: str, body: SettingsIn) -> dict[str, Any]:
        """Auto-approval window (none/1h/3h/5h/until_rts), skip ON_HOLD, default shipping type,
        which optional webhook fields are left out (as_documented/all_present/random/all_omitted)."""
        s = shop_of(shop)
        if body.auto_approve is not None:
            s.auto_approve = body.auto_approve
        if body.skip_on_hold is not None:
            s.skip_on_hold = body.skip_on_hold
        if body.default_shipping_type is not None:
            s.default_shipping_type = body.default_shipping_type
        if body.webhook_optional_fields is not None:
            s.webhook_optional_fields = body.webhook_optional_fields
        return shop_json(s)

    @r.get("/shops/{shop}/products")
    async def list_products(shop: str) -> list[dict[str, Any]]:
        """The shop's catalogue with stock."""
        return [product_json(p) for p in shop_of(shop).products.values()]

    @r.post("/shops/{shop}/products")
    async def create_product(shop: str, body: ProductIn) -> dict[str, Any]:
        """Add a product with SKUs {name, seller_sku, price, stock}."""
        s = shop_of(shop)
        product = add_product(world, s, body.title,
                              [(k.name, k.seller_sku, k.price, k.stock) for k in body.skus], engine.now())
        return product_json(product)

    @r.post("/shops/{shop}/skus/{sku_id}/stock_lock")
    async def stock_lock(shop: str, sku_id: str, code: int | None = None) -> dict[str, Any]:
        """Lock a SKU's stock (code 12052393: a promotion; 12052394: shared stock), or unlock it (no code)."""
        if code is not None and code not in (ErrorCode.PROMOTION_STOCK_LOCKED, ErrorCode.SHARED_STOCK):
            raise HTTPException(422, "code must be 12052393 or 12052394")
        for product in shop_of(shop).products.values():
            for sku in product.skus:
                if sku.id == sku_id:
                    sku.stock_lock = code
                    return {"sku_id": sku.id, "stock_lock": code}
        raise HTTPException(404, f"unknown SKU {sku_id}")

    @r.post("/shops/{shop}/auth_code")
    async def mint_auth_code(shop: str, app_key: str = "") -> dict[str, Any]:
        """An auth code for the shop, as the OAuth redirect would carry (single use, 30 min)."""
        s = shop_of(shop)
        key = app_key or next(iter(world.apps))
        code = auth.mint_code(key, s.id)
        return {"auth_code": code.code, "shop_id": s.id, "expires_at": to_unix(code.expires)}

    @r.post("/shops/{shop}/tokens")
    async def mint_tokens(shop: str, app_key: str = "") -> dict[str, Any]:
        """Ready access and refresh tokens for the shop (skips OAuth)."""
        return auth.token_json(auth.mint_tokens(app_key or next(iter(world.apps)), shop_of(shop).id))

    @r.post("/tokens/{access_token}/expire")
    async def expire_token(access_token: str) -> dict[str, Any]:
        """Expire an access token now (the next API call gets 105002)."""
        token = world.tokens.get(access_token)
        if token is None:
            raise HTTPException(404, "unknown access token")
        token.access_expires = engine.now() - timedelta(seconds=1)
        return {"expired": True}

    @r.post("/shops/{shop}/deauthorize")
    async def deauthorize(shop: str) -> dict[str, Any]:
        """The seller removes the app: tokens revoked, webhook 6 sent."""
        s = shop_of(shop)
        engine.events.emit(s, EventType.SELLER_DEAUTHORIZATION,
                           {"message": "The seller has deauthorized the app"})
        return {"revoked_tokens": auth.revoke_shop(s.id)}

    @r.post("/shops/{shop}/authorization_expiring")
    async def authorization_expiring(shop: str, body: ExpiringIn) -> dict[str, Any]:
        """Send webhook 7 (authorization expires in ``days``)."""
        s = shop_of(shop)
        expires = to_unix(engine.now() + timedelta(days=body.days))
        engine.events.emit(s, EventType.UPCOMING_AUTHORIZATION_EXPIRATION,
                           {"message": f"Authorization expires in {body.days} days",
                            "expiration_time": expires})
        return {"expiration_time": expires}

    @r.put("/shops/{shop}/webhooks")
    async def subscribe(shop: str, body: WebhookIn) -> dict[str, Any]:
        """Subscribe the shop to an event type (as PUT /event/202309/webhooks does)."""
        s = shop_of(shop)
        if body.event_type not in EventType.__members__:
            raise HTTPException(422, f"unknown event type {body.event_type}")
        now = engine.now()
        s.webhooks[int(EventType[body.event_type])] = WebhookSub(
            body.address, body.app_key or next(iter(world.apps)), now, now)
        return {"shop_id": s.id, "event_type": body.event_type, "address": body.address}

    @r.put("/apps/{app_key}/redirect_uri")
    async def set_redirect(app_key: str, body: RedirectIn) -> dict[str, Any]:
        """The app's OAuth redirect URL."""
        app = world.apps.get(app_key)
        if app is None:
            raise HTTPException(404, "unknown app")
        app.redirect_uri = body.redirect_uri
        return {"app_key": app_key, "redirect_uri": app.redirect_uri}

    @r.post("/orders")
    async def place_order(body: OrderIn) -> dict[str, Any]:
        """A buyer places an order; returns it unmasked. 409 if a SKU lacks the stock (nothing reserved)."""
        s = shop_of(body.shop)
        specs = []
        for item in body.items:
            found = world.find_sku(s, sku_id=item.sku_id, seller_sku=item.seller_sku)
            if found is None:
                raise HTTPException(422, f"unknown sku {item.sku_id or item.seller_sku!r} in {s.name}")
            specs.append(ItemSpec(found[0], found[1], item.units, item.seller_discount, item.platform_discount))
        if body.replacement_of and body.replacement_of not in world.orders:
            raise HTTPException(422, f"unknown order {body.replacement_of} to replace")
        addr = Address(**body.recipient_address.model_dump()) if body.recipient_address else None
        req = OrderRequest(
            items=specs, payment=body.payment, shipping_type=body.shipping_type,
            fulfillment_type=body.fulfillment_type, sample=body.sample,
            replacement_of=body.replacement_of, address=addr,
            delivery_option=DeliveryOption(f"{body.delivery_option} Shipping"),
            shipping_fee=body.shipping_fee,
            shipping_fee_seller_discount=body.shipping_fee_seller_discount,
            shipping_fee_platform_discount=body.shipping_fee_platform_discount,
            charges=Charges(body.shipping_fee_tax, body.handling_fee, body.item_insurance_fee,
                            body.item_insurance_tax, body.retail_delivery_fee),
            buyer_message=body.buyer_message, buyer_user_id=body.buyer_user_id,
        )
        return raw(guarded(engine.place_order, s, req))

    @r.get("/orders")
    async def list_orders(shop: str = "") -> list[dict[str, Any]]:
        """Raw (unmasked) orders, optionally of one shop."""
        sid = shop_of(shop).id if shop else None
        return [raw(o) for o in world.orders.values() if sid is None or o.shop_id == sid]

    @r.get("/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, Any]:
        """One raw (unmasked) order."""
        return raw(order_of(order_id))

    def action(name: str, fn: Any, doc: str) -> None:
        async def endpoint(order_id: str) -> dict[str, Any]:
            order = order_of(order_id)
            guarded(fn, order)
            return raw(order)

        endpoint.__doc__ = doc
        r.add_api_route(f"/orders/{{order_id}}/{name}", endpoint, methods=["POST"], name=f"order_{name}")

    action("pay", engine.pay, "Payment succeeds (UNPAID -> ON_HOLD or AWAITING_SHIPMENT).")
    action("fail_payment", engine.fail_payment, "Payment is declined (stays UNPAID).")
    action("collected", engine.collected, "Carrier picked up: AWAITING_COLLECTION -> IN_TRANSIT.")
    action("delivered", engine.delivered, "Delivered: -> DELIVERED.")
    action("completed", engine.completed, "Return window closed: DELIVERED -> COMPLETED.")
    action("webhook", engine.resend_status_webhook, "Send the order-status webhook again now.")

    @r.post("/orders/{order_id}/buyer_cancel")
    async def buyer_cancel(order_id: str, body: ReasonIn) -> dict[str, Any]:
        """The buyer cancels: immediate inside the windows, otherwise a pending request."""
        order = order_of(order_id)
        record = guarded(cancels.buyer_cancel, order, body.reason or BUYER_DEFAULT_REASON)
        return {"cancellation": cancellation_json(record, order), "order": raw(order)}

    @r.post("/orders/{order_id}/tiktok_cancel")
    async def tiktok_cancel(order_id: str, body: ReasonIn) -> dict[str, Any]:
        """TikTok cancels; reason fraud | unpaid_timeout | shipping_timeout | seller_center | a key."""
        order = order_of(order_id)
        reason = TIKTOK_CANCEL_REASONS.get(body.reason or "fraud", body.reason)
        record = guarded(cancels.system_cancel, order, reason)
        return {"cancellation": cancellation_json(record, order), "order": raw(order)}

    @r.post("/orders/{order_id}/address")
    async def change_address(order_id: str, body: AddressIn) -> dict[str, Any]:
        """The buyer changes the address (webhook 3)."""
        order = order_of(order_id)
        guarded(engine.change_address, order, Address(**body.model_dump()))
        return raw(order)

    @r.get("/cancellations")
    async def list_cancellations(order_id: str = "") -> list[dict[str, Any]]:
        """Cancellation records (optionally of one order)."""
        return [cancellation_json(c, world.orders[c.order_id]) for c in world.cancellations.values()
                if not order_id or c.order_id == order_id]

    @r.get("/packages")
    async def list_packages(order_id: str | None = None) -> list[dict[str, Any]]:
        """Every package (tracking number, provider, orders and lines), or one order's."""
        return [{"package_id": p.id, "tracking_number": p.tracking_number,
                 "shipping_provider_id": p.shipping_provider_id,
                 "shipping_provider_name": p.shipping_provider_name, "shipped_at": ts(p.shipped_at),
                 "tracking_updated": p.tracking_updated, "orders": p.lines}
                for p in world.packages.values() if order_id is None or order_id in p.lines]

    @r.get("/instants")
    async def instants(shop: str = "") -> dict[str, Any]:
        """Exact instants on the sandbox clock (microseconds; the API has whole seconds): each
        order's creation and payment, each package's shipping (when its tracking arrived),
        each quantity Update Inventory wrote."""
        shop_id = shop_of(shop).id if shop else ""
        orders = {o.id: {"created": _exact(o.create_time), "paid": _exact(o.paid_time) if o.paid_time else None}
                  for o in world.orders.values() if not shop_id or o.shop_id == shop_id}
        return {"orders": orders,
                "packages": [{"package_id": p.id, "tracking_number": p.tracking_number, "shipped": _exact(p.shipped_at),
                              "orders": sorted(p.lines)}
                             for p in world.packages.values() if any(i in orders for i in p.lines)],
                "stock_updates": [{"at": _exact(at), "sku_id": sku, "warehouse_id": w, "quantity": q}
                                  for at, sid, sku, w, q in world.stock_updates if not shop_id or sid == shop_id]}

    @r.get("/webhooks/deliveries")
    async def deliveries(with_body: bool = False) -> list[dict[str, Any]]:
        """The webhook log (every delivery and attempt)."""
        return [d.to_json(with_body=with_body) for d in deps.dispatcher.deliveries]

    @r.post("/webhooks/deliveries/{delivery_id}/redeliver")
    async def redeliver(delivery_id: int) -> dict[str, Any]:
        """Send a past delivery again."""
        delivery = deps.dispatcher.redeliver(delivery_id)
        if delivery is None:
            raise HTTPException(404, "unknown delivery")
        return delivery.to_json()

    return r
