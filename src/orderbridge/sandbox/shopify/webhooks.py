"""Webhooks: REST-shaped bodies, Shopify's headers and HMAC, sent through the dispatcher.

Each subscription gets its own delivery (its own ``X-Shopify-Webhook-Id``); every delivery
of one event shares ``X-Shopify-Event-Id``. The signature is base64(HMAC-SHA256(raw body,
app client secret)), written here from Shopify's documentation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from orderbridge.clock import Clock
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.shopify.context import Runtime
from orderbridge.sandbox.shopify.order_records import Fulfillment, Order, Refund
from orderbridge.sandbox.shopify.state import API_VERSION, World, cents, gid
from orderbridge.sandbox.shopify.world import (
    financial_status,
    fulfillment_status,
    totals,
)

__all__ = ["RETRY_SCHEDULE", "SandboxRuntime", "fulfillment_json", "order_json", "sign"]

# 8 retries over about 4 hours, exponential: 1, 2, 4, ... 128 minutes (4.25 h in all).
RETRY_SCHEDULE = [timedelta(minutes=2**i) for i in range(8)]
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def webhook_money(value: Decimal) -> str:
    """Money as webhook payloads (the REST shape) write it: always two decimals, "36.00"
    (GraphQL's Decimal writes "36.0")."""
    return f"{cents(value):.2f}"


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256 for a raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def fulfillment_json(world: World, order: Order, f: Fulfillment) -> dict[str, Any]:
    """The REST Fulfillment resource."""
    lines = []
    for _, line_id, qty in f.lines:
        li = next(x for x in order.line_items if x.id == line_id)
        lines.append({"id": li.id, "admin_graphql_api_id": gid("LineItem", li.id), "variant_id": li.variant_id,
                      "sku": li.sku, "title": li.title, "quantity": qty, "fulfillment_status": "fulfilled"})
    first = f.tracking[0] if f.tracking else None
    return {
        "id": f.id, "admin_graphql_api_id": gid("Fulfillment", f.id), "order_id": order.id, "name": f.name,
        "status": "cancelled" if f.status == "CANCELLED" else "success", "service": "manual",
        "created_at": _ts(f.created_at), "updated_at": _ts(f.updated_at), "location_id": f.location_id,
        "tracking_company": first.company if first else None, "shipment_status": None,
        "tracking_number": first.number if first else None,
        "tracking_numbers": [t.number for t in f.tracking if t.number],
        "tracking_url": first.url if first else None, "tracking_urls": [t.url for t in f.tracking if t.url],
        "line_items": lines,
    }


def _tax_json(tax: Any) -> dict[str, Any]:
    return {"title": tax.title, "price": webhook_money(tax.price),
            "rate": float(tax.rate) if tax.rate is not None else None, "channel_liable": tax.channel_liable}


def order_json(world: World, order: Order) -> dict[str, Any]:
    """The REST Order resource (what orders/* webhooks carry)."""
    t, now = totals(order), totals(order, current=True)
    status = fulfillment_status(world, order)
    return {
        "id": order.id, "admin_graphql_api_id": gid("Order", order.id), "name": order.name,
        "order_number": order.number, "email": order.email, "phone": order.phone, "note": order.note,
        "tags": ", ".join(order.tags), "source_name": order.source_name,
        "source_identifier": order.source_identifier, "source_url": order.source_url,
        "created_at": _ts(order.created_at), "updated_at": _ts(order.updated_at),
        "processed_at": _ts(order.processed_at), "cancelled_at": _ts(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "closed_at": _ts(order.closed_at), "financial_status": financial_status(order).lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(status),
        "currency": order.currency, "test": order.test, "total_price": webhook_money(t["total"]),
        "subtotal_price": webhook_money(t["subtotal"]), "total_tax": webhook_money(t["tax"]),
        "total_discounts": webhook_money(t["discount"]), "total_outstanding": webhook_money(now["outstanding"]),
        "current_total_price": webhook_money(now["total"]), "buyer_accepts_marketing": order.buyer_accepts_marketing,
        "note_attributes": [{"name": k, "value": v} for k, v in order.custom_attributes],
        "line_items": [{"id": li.id, "admin_graphql_api_id": gid("LineItem", li.id), "variant_id": li.variant_id,
                        "sku": li.sku, "title": li.title, "name": li.title, "quantity": li.quantity,
                        "current_quantity": li.current_quantity, "price": webhook_money(li.price),
                        "requires_shipping": li.requires_shipping, "taxable": li.taxable,
                        "total_discount": webhook_money(li.discount + li.unit_discount * li.quantity),
                        "tax_lines": [_tax_json(x) for x in li.tax_lines]} for li in order.line_items],
        "shipping_lines": [{"id": s.id, "title": s.title, "code": s.code, "price": webhook_money(s.price),
                            "tax_lines": [_tax_json(x) for x in s.tax_lines]} for s in order.shipping_lines],
        "tax_lines": [_tax_json(x) for x in order.tax_lines],
        "fulfillments": [fulfillment_json(world, order, f) for f in order.fulfillments],
        "refunds": [refund_json(order, r) for r in order.refunds],
        "shipping_address": order.shipping_address, "billing_address": order.billing_address,
    }


def refund_json(order: Order, refund: Refund) -> dict[str, Any]:
    return {"id": refund.id, "admin_graphql_api_id": gid("Refund", refund.id), "order_id": order.id,
            "created_at": _ts(refund.created_at), "note": refund.note,
            "refund_line_items": [{"id": rid, "line_item_id": lid, "quantity": q, "restock_type": rt.lower(),
                                   "subtotal": webhook_money(sub)} for rid, lid, q, rt, sub in refund.lines],
            "transactions": [{"id": t.id, "kind": t.kind.lower(), "amount": webhook_money(t.amount),
                              "gateway": t.gateway, "status": t.status.lower()}
                             for t in order.transactions if t.id in refund.transaction_ids]}


class SandboxRuntime(Runtime):
    """Scheduling and webhook delivery for the resolvers."""

    def __init__(self, world: World, clock: Clock, scheduler: Scheduler, dispatcher: WebhookDispatcher,
                 seed: int) -> None:
        self.world, self.clock, self.scheduler, self.dispatcher = world, clock, scheduler, dispatcher
        self._rng = random.Random(f"shopify-webhooks:{seed}")
        world.inventory_listeners.append(self.inventory_event)

    def now(self) -> datetime:
        return self.clock.now()

    def schedule(self, delay: timedelta, callback: Callable[[], None], name: str) -> None:
        self.scheduler.call_later(delay, callback, name=name)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def deliver(self, shop: str, topic: str, body: dict[str, Any], url: str, app_id: int,
                event_id: str) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(raw, self.world.apps[app_id].client_secret),
            "X-Shopify-Shop-Domain": shop, "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": self._uuid(), "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": self.clock.now().isoformat().replace("+00:00", "Z"),
        }
        self.dispatcher.enqueue(url, topic, raw, headers)

    def emit(self, shop: str, topic: str, body: dict[str, Any], event_id: str | None = None) -> None:
        event = event_id or self._uuid()
        enum = topic.replace("/", "_").upper()
        for sub in list(self.world.subscriptions.values()):
            if sub.shop == shop and sub.topic == enum:
                payload = {k: v for k, v in body.items() if k in sub.include_fields} if sub.include_fields else body
                payload = _as_seen_by(payload, sub.app_id)
                self.deliver(shop, topic, payload, sub.uri, sub.app_id, event)

    def order_event(self, order: Order, topic: str) -> None:
        self.emit(order.shop, topic, order_json(self.world, order))

    def fulfillment_event(self, order: Order, fulfillment: Fulfillment, topic: str) -> None:
        self.emit(order.shop, topic, fulfillment_json(self.world, order, fulfillment))

    def refund_event(self, order: Order, refund: Refund) -> None:
        self.emit(order.shop, "refunds/create", refund_json(order, refund))

    def inventory_event(self, item_id: int, location_id: int) -> None:
        """inventory_levels/update: the REST InventoryLevel after a change of ``available``."""
        variant = self.world.variant_of_item(item_id)
        if variant is None:
            return
        self.emit(self.world.variant_shop[variant.id], "inventory_levels/update", {
            "inventory_item_id": item_id, "location_id": location_id,
            "available": self.world.available(variant, location_id),
            "updated_at": _ts(self.clock.now()),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
        })

    def compliance(self, shop: str, app_id: int, topic: str, body: dict[str, Any]) -> bool:
        """Send a mandatory compliance webhook to the app's configured URL."""
        url = self.world.compliance_urls.get(app_id)
        if url is None:
            return False
        self.deliver(shop, topic, body, url, app_id, self._uuid())
        return True


def _as_seen_by(body: dict[str, Any], app_id: int) -> dict[str, Any]:
    """``held_by_requesting_app`` of each hold in ``body``, from the receiving app's side."""
    app = gid("App", app_id)

    def seen(hold: Any) -> Any:
        if isinstance(hold, dict) and "held_by_requesting_app" in hold:
            return hold | {"held_by_requesting_app": (hold.get("held_by_app") or {}).get("id") == app}
        return hold

    if "created_fulfillment_hold" not in body:
        return body
    out = dict(body, created_fulfillment_hold=seen(body["created_fulfillment_hold"]))
    fo = body.get("fulfillment_order")
    if isinstance(fo, dict) and isinstance(fo.get("fulfillment_holds"), list):
        out["fulfillment_order"] = fo | {"fulfillment_holds": [seen(h) for h in fo["fulfillment_holds"]]}
    return out
