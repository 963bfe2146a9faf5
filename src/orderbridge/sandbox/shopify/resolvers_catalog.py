"""Shop, app installation, locations, variants, inventory, metafields, webhook subscriptions."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from orderbridge.sandbox.shopify.context import Ctx, ctx_of, require_scope
from orderbridge.sandbox.shopify.inputs import user_error
from orderbridge.sandbox.shopify.nodes import connection, iso, location_node, variant_node
from orderbridge.sandbox.shopify.search import variant_search
from orderbridge.sandbox.shopify.state import PLAN_DISPLAY_NAME, Plan, Subscription, gid, parse_gid
from orderbridge.sandbox.shopify.world import touch

__all__ = ["MUTATIONS", "QUERIES", "topic_name"]

VARIANT_SCOPES = ("read_products", "write_products")


def topic_name(enum_value: str) -> str:
    """ORDERS_CREATE -> orders/create; FULFILLMENT_ORDERS_PLACED_ON_HOLD -> fulfillment_orders/placed_on_hold."""
    for prefix in ("FULFILLMENT_ORDERS", "APP", "FULFILLMENTS", "ORDERS", "REFUNDS"):
        if enum_value.startswith(prefix + "_"):
            return f"{prefix.lower()}/{enum_value[len(prefix) + 1:].lower()}"
    return enum_value.lower()


def q_shop(_root: Any, info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    ctx = ctx_of(info)
    shop = ctx.shop
    return {"id": gid("Shop", shop.id), "name": shop.name, "myshopifyDomain": shop.domain,
            "email": f"owner@{shop.domain}", "currencyCode": shop.currency, "ianaTimezone": "America/New_York",
            "plan": {"displayName": PLAN_DISPLAY_NAME[shop.plan],
                     "partnerDevelopment": shop.plan is Plan.DEVELOPMENT,
                     "shopifyPlus": shop.plan in (Plan.PLUS, Plan.ENTERPRISE)}}


def q_installation(_root: Any, info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    ctx = ctx_of(info)
    return {"id": gid("AppInstallation", ctx.app.id),
            "accessScopes": [{"handle": s, "description": s.replace("_", " ")} for s in sorted(ctx.token.scopes)],
            "app": {"id": gid("App", ctx.app.id), "title": ctx.app.title, "handle": ctx.app.handle,
                    "apiKey": ctx.app.api_key}}


def q_locations(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> dict[str, Any]:
    ctx = require_scope(info, "read_locations", "read_inventory")
    locs = [ctx.world.locations[i] for i in ctx.shop.location_ids]
    return connection(locs, args, lambda loc: location_node(ctx, loc), lambda loc: loc.id)


def q_location(_root: Any, info: GraphQLResolveInfo[Any], id: str | None = None) -> dict[str, Any] | None:
    ctx = require_scope(info, "read_locations", "read_inventory")
    number = parse_gid(id, "Location") if id else ctx.shop.location_ids[0]
    if number not in ctx.shop.location_ids:
        return None
    return location_node(ctx, ctx.world.locations[number])


def q_variants(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> dict[str, Any]:
    ctx = require_scope(info, *VARIANT_SCOPES)
    found = variant_search(ctx, args.get("query"))
    if args.get("sortKey") == "SKU":
        found.sort(key=lambda v: (v.sku, v.id))
    return connection(found, args, lambda v: variant_node(ctx, v), lambda v: v.id)


def q_variant(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any] | None:
    ctx = require_scope(info, *VARIANT_SCOPES)
    v = ctx.world.variant_in(ctx.shop.domain, parse_gid(id, "ProductVariant"))
    return variant_node(ctx, v) if v else None


def q_inventory_item(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any] | None:
    ctx = require_scope(info, "read_inventory", "read_products")
    v = ctx.world.variant_of_item(parse_gid(id, "InventoryItem") or -1)
    if v is None or ctx.world.variant_shop.get(v.id) != ctx.shop.domain:
        return None
    item: dict[str, Any] = variant_node(ctx, v)["inventoryItem"]
    return item


def _subscription_node(sub: Subscription) -> dict[str, Any]:
    return {"id": gid("WebhookSubscription", sub.id), "legacyResourceId": sub.id,
            "topic": sub.topic, "uri": sub.uri, "callbackUrl": sub.uri, "format": "JSON",
            "includeFields": sub.include_fields, "filter": None, "createdAt": iso(sub.created_at),
            "updatedAt": iso(sub.created_at)}


def _mine(ctx: Ctx) -> list[Subscription]:
    return [s for s in ctx.world.subscriptions.values() if s.shop == ctx.shop.domain and s.app_id == ctx.app.id]


def q_subscriptions(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> dict[str, Any]:
    ctx = ctx_of(info)
    subs = [s for s in _mine(ctx) if not args.get("topics") or s.topic in args["topics"]]
    return connection(subs, args, _subscription_node, lambda s: s.id)


def subscription_create(_root: Any, info: GraphQLResolveInfo[Any], topic: str,
                        webhookSubscription: dict[str, Any]) -> dict[str, Any]:
    ctx = ctx_of(info)
    uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl")
    if not uri:
        return {"webhookSubscription": None, "userErrors": [user_error(
            ["webhookSubscription", "uri"], "Address can't be blank")]}
    if any(s.topic == topic and s.uri == uri for s in _mine(ctx)):
        return {"webhookSubscription": None, "userErrors": [user_error(
            ["webhookSubscription", "callbackUrl"], "Address for this topic has already been taken")]}
    sub = Subscription(ctx.world.new_id("sub"), ctx.app.id, ctx.shop.domain, topic, uri, ctx.now,
                       list(webhookSubscription.get("includeFields") or []))
    ctx.world.subscriptions[sub.id] = sub
    ctx.world.count(ctx.shop.domain, "webhookSubscriptionCreate")
    return {"webhookSubscription": _subscription_node(sub), "userErrors": []}


def subscription_delete(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any]:
    ctx = ctx_of(info)
    number = parse_gid(id, "WebhookSubscription")
    sub = next((s for s in _mine(ctx) if s.id == number), None)
    if sub is None:
        return {"deletedWebhookSubscriptionId": None,
                "userErrors": [user_error(["id"], "Webhook subscription does not exist")]}
    del ctx.world.subscriptions[sub.id]
    ctx.world.count(ctx.shop.domain, "webhookSubscriptionDelete")
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def metafields_set(_root: Any, info: GraphQLResolveInfo[Any], metafields: list[dict[str, Any]]) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    out, errors = [], []
    for index, m in enumerate(metafields):
        order = ctx.world.order_in(ctx.shop.domain, parse_gid(m["ownerId"], "Order"))
        if order is None:
            errors.append({"code": "INVALID", "field": ["metafields", str(index), "ownerId"],
                           "message": "Owner does not exist.", "elementIndex": index})
            continue
        namespace = m.get("namespace") or f"app--{ctx.app.id}"
        order.metafields = [x for x in order.metafields if (x["namespace"], x["key"]) != (namespace, m["key"])]
        entry = {"id": gid("Metafield", ctx.world.new_id("metafield")), "namespace": namespace,
                 "key": m["key"], "value": m["value"], "type": m.get("type") or "single_line_text_field"}
        order.metafields.append(entry)
        out.append(entry)
        touch(ctx.world, order, ctx.now)
        ctx.world.count(ctx.shop.domain, "metafieldsSet", order.id)
    return {"metafields": out if not errors else [], "userErrors": errors}


QUERIES = {
    "shop": q_shop, "currentAppInstallation": q_installation, "locations": q_locations,
    "location": q_location, "productVariants": q_variants, "productVariant": q_variant,
    "inventoryItem": q_inventory_item, "webhookSubscriptions": q_subscriptions,
}
MUTATIONS = {
    "webhookSubscriptionCreate": subscription_create, "webhookSubscriptionDelete": subscription_delete,
    "metafieldsSet": metafields_set,
}
