"""Control routes (mounted at /shopify) for the store and its apps: access tokens, plan and
budget settings, the sandbox's delays, variants and their stock, webhook subscriptions and
deliveries, compliance webhooks, and the mutation counts benchmarks read."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from orderbridge.sandbox.shopify.control import STRICT_INPUT, shop_of
from orderbridge.sandbox.shopify.resolvers_catalog import topic_name
from orderbridge.sandbox.shopify.state import (
    DEFAULT_DEV_STORE_CREATE_CAP,
    App,
    Plan,
    Subscription,
    Token,
    gid,
    parse_gid,
)

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["build_store_router"]


class TokenBody(BaseModel):
    model_config = STRICT_INPUT
    shop: str
    scopes: list[str]
    app_handle: str = "orderbridge"
    token: str | None = None


class ShopSettings(BaseModel):
    model_config = STRICT_INPUT
    plan: Plan | None = None
    bucket_size: float | None = None
    create_cap: int | None = None  # orders per minute; 0 removes the cap


class TimingBody(BaseModel):
    model_config = STRICT_INPUT
    index_lag_seconds: float | None = None
    fulfillment_order_delay_seconds: float | None = None
    cancel_job_delay_seconds: float | None = None
    service_cancel_accept_delay_seconds: float | None = None


class VariantBody(BaseModel):
    model_config = STRICT_INPUT
    sku: str
    title: str
    price: Decimal
    available: int = 0
    inventory_policy: str = "DENY"


class InventoryBody(BaseModel):
    model_config = STRICT_INPUT
    available: int


class SubscriptionBody(BaseModel):
    model_config = STRICT_INPUT
    shop: str
    topic: str  # ORDERS_CREATE or orders/create
    uri: str
    app_handle: str = "orderbridge"


class UrlBody(BaseModel):
    model_config = STRICT_INPUT
    url: str



def build_store_router(sandbox: ShopifySandbox) -> APIRouter:
    """The store's and apps' control routes (the Shopify control router includes them;
    its tag is theirs)."""
    router = APIRouter()
    world = sandbox.world

    @router.post("/tokens")
    def mint_token(body: TokenBody) -> dict[str, Any]:
        """Mint an access token with the given scopes for an app in a shop."""
        shop = shop_of(world, body.shop)
        app = next((a for a in world.apps.values() if a.handle == body.app_handle), None)
        if app is None:
            app = App(world.new_id("app"), body.app_handle, body.app_handle, f"key-{body.app_handle}",
                      f"shpss_{body.app_handle}")
            world.apps[app.id] = app
        token = body.token or f"shpat_{shop.domain.split('.')[0]}_{world.new_id('app')}"
        world.tokens[token] = Token(token, app.id, shop.domain, frozenset(body.scopes))
        return {"access_token": token, "app_id": gid("App", app.id)}

    @router.put("/shops/{shop}/settings")
    def shop_settings(shop: str, body: ShopSettings) -> dict[str, Any]:
        """Plan preset (restore rate), bucket size, orderCreate cap per minute (0 = none)."""
        target = shop_of(world, shop)
        if body.plan is not None:
            target.plan = body.plan
            if body.plan is Plan.DEVELOPMENT and body.create_cap is None:
                target.create_cap = DEFAULT_DEV_STORE_CREATE_CAP
        if body.bucket_size is not None:
            target.bucket_size = body.bucket_size
        if body.create_cap is not None:
            target.create_cap = body.create_cap or None
        return {"plan": target.plan.value, "bucket_size": target.bucket_size, "create_cap": target.create_cap,
                "restore_rate": target.restore_rate()}

    @router.put("/timing")
    def timing(body: TimingBody) -> dict[str, Any]:
        """Delays (virtual seconds): search index lag, fulfilment orders, cancel job, 3PL accept."""
        t = world.timing
        for name in ("index_lag", "fulfillment_order_delay", "cancel_job_delay", "service_cancel_accept_delay"):
            value = getattr(body, f"{name}_seconds")
            if value is not None:
                setattr(t, name, timedelta(seconds=value))
        return {name: getattr(t, name).total_seconds() for name in
                ("index_lag", "fulfillment_order_delay", "cancel_job_delay", "service_cancel_accept_delay")}

    @router.post("/shops/{shop}/variants")
    def add_variant(shop: str, body: VariantBody) -> dict[str, Any]:
        """Add a product with one variant and stock at every location."""
        v = world.add_variant(shop_of(world, shop), body.sku, body.title, body.price, body.available,
                              policy=body.inventory_policy)
        return {"variant_id": gid("ProductVariant", v.id), "inventory_item_id": gid("InventoryItem", v.inventory_item_id)}

    @router.put("/variants/{variant_id:path}/inventory")
    def set_inventory(variant_id: str, body: InventoryBody) -> dict[str, Any]:
        """Set the available quantity of a variant at its shop's first location (sends `inventory_levels/update` if it changed)."""
        v = world.variants.get(parse_gid(variant_id, "ProductVariant") or int(variant_id))
        if v is None:
            raise HTTPException(404, "no such variant")
        location = world.shops[world.variant_shop[v.id]].location_ids[0]
        world.set_available(v, location, body.available)
        return {"available": body.available}

    @router.get("/variants/{variant_id:path}/inventory")
    def get_inventory(variant_id: str) -> dict[str, Any]:
        """Available quantity of a variant per location."""
        v = world.variants.get(parse_gid(variant_id, "ProductVariant") or int(variant_id))
        if v is None:
            raise HTTPException(404, "no such variant")
        shop = world.shops[world.variant_shop[v.id]]
        return {"sku": v.sku, "available": {gid("Location", i): world.available(v, i) for i in shop.location_ids}}

    @router.get("/webhooks/deliveries")
    def deliveries(with_body: bool = False) -> list[dict[str, Any]]:
        """Every webhook delivery and its attempts."""
        return [d.to_json(with_body) for d in sandbox.dispatcher.deliveries]

    @router.post("/webhooks/subscriptions")
    def subscribe(body: SubscriptionBody) -> dict[str, Any]:
        """Subscribe an app to a topic (as webhookSubscriptionCreate does)."""
        shop = shop_of(world, body.shop)
        app = next((a for a in world.apps.values() if a.handle == body.app_handle), None)
        if app is None:
            raise HTTPException(404, "no such app")
        topic = body.topic.replace("/", "_").upper()
        sub = Subscription(world.new_id("sub"), app.id, shop.domain, topic, body.uri, sandbox.clock.now())
        world.subscriptions[sub.id] = sub
        return {"id": gid("WebhookSubscription", sub.id), "topic": topic_name(topic)}

    @router.put("/apps/{handle}/compliance-url")
    def compliance_url(handle: str, body: UrlBody) -> dict[str, Any]:
        """Where the app receives compliance webhooks (customers/data_request, customers/redact, shop/redact)."""
        app = next((a for a in world.apps.values() if a.handle == handle), None)
        if app is None:
            raise HTTPException(404, "no such app")
        world.compliance_urls[app.id] = body.url
        return {"ok": True}

    @router.post("/shops/{shop}/compliance/{topic:path}")
    def compliance(shop: str, topic: str, app_handle: str = "orderbridge") -> dict[str, Any]:
        """Send a compliance webhook (customers/data_request, customers/redact or shop/redact)."""
        target = shop_of(world, shop)
        app = next((a for a in world.apps.values() if a.handle == app_handle), None)
        if app is None or topic not in ("customers/data_request", "customers/redact", "shop/redact"):
            raise HTTPException(404, "no such app or topic")
        body = {"shop_id": target.id, "shop_domain": target.domain}
        if topic != "shop/redact":
            # customers/redact names orders_to_redact; customers/data_request orders_requested
            orders_key = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
            body |= {"customer": {"id": 1, "email": "buyer@example.com", "phone": None}, orders_key: []}
        return {"sent": sandbox.runtime.compliance(target.domain, app.id, topic, body)}

    @router.get("/mutation-counts")
    def mutation_counts(shop: str | None = None) -> dict[str, Any]:
        """Mutations executed, by root field, per shop and per order (for benchmarks)."""
        per_shop: dict[str, dict[str, int]] = {}
        for (domain, field), n in world.mutation_counts.items():
            if shop is None or domain == shop_of(world, shop).domain:
                per_shop.setdefault(domain, {})[field] = n
        per_order: dict[str, dict[str, int]] = {}
        for (order_id, field), n in world.order_mutation_counts.items():
            per_order.setdefault(gid("Order", order_id), {})[field] = n
        return {"per_shop": per_shop, "per_order": per_order}

    return router
