"""fulfillment_orders/placed_on_hold and /hold_released, sent as Shopify documents them.

Shopify (WebhookSubscriptionTopic, 2026-10): placed_on_hold "will only trigger once when the
first hold is applied", hold_released "only ... once when the last hold is released and the
status of the fulfillment order is no longer ON_HOLD"; the hold_released body names the
fulfilment order (gid and new status) and nothing else. Each delivery is signed like every
other: the client's own verification (adapters.shopify.webhooks) must accept it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from orderbridge.adapters.shopify.webhooks import parse_webhook_headers, verify_webhook

from .conftest import HOLD, SHOP, Env

SUBSCRIBE = """mutation($t: WebhookSubscriptionTopic!){webhookSubscriptionCreate(topic:$t,
  webhookSubscription:{uri:"https://hooks.example/shopify"}){webhookSubscription{id topic} userErrors{message}}}"""
RELEASE = """mutation($id: ID!, $holdIds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
  fulfillmentOrder { id status } userErrors { code field message } } }"""
TOPICS = ("FULFILLMENT_ORDERS_PLACED_ON_HOLD", "FULFILLMENT_ORDERS_HOLD_RELEASED")
RELEASED = "fulfillment_orders/hold_released"
PLACED = "fulfillment_orders/placed_on_hold"


async def _listen(env: Env) -> list[httpx.Request]:
    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    env.sandbox.dispatcher._http = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    for topic in TOPICS:
        body = await env.gql(SUBSCRIBE, {"t": topic})
        assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == [], body
    return received


async def _delivered(env: Env, received: list[httpx.Request], topic: str) -> list[httpx.Request]:
    await env.advance(0.1)  # the dispatcher sends on the scheduler
    return [r for r in received if r.headers["X-Shopify-Topic"] == topic]


async def _held(env: Env, handle: str = "orderbridge", token: str | None = None) -> tuple[dict[str, Any], str]:
    order = await env.create()
    await env.advance(2)  # fulfilment orders appear 1.5 s after the order
    fo_id = str((await env.fos(order["id"]))[0]["id"])
    body = await env.gql(HOLD, {"id": fo_id, "handle": handle}, token)
    assert body["data"]["fulfillmentOrderHold"]["userErrors"] == []
    return order, fo_id


def _secret(env: Env) -> str:
    return str(env.sandbox.info("http://127.0.0.1:1")["client_secret"])


async def test_the_apps_own_release_sends_hold_released_signed_with_shopifys_headers(env: Env) -> None:
    received = await _listen(env)
    _order, fo_id = await _held(env)
    released_at = env.clock.now()
    body = await env.gql(RELEASE, {"id": fo_id})
    assert body["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]["status"] == "OPEN"
    [delivery] = await _delivered(env, received, RELEASED)
    assert json.loads(delivery.content) == {"fulfillment_order": {"id": fo_id, "status": "open"}}
    # The client's verification, written apart from the sandbox, accepts the delivery.
    assert verify_webhook(_secret(env), delivery.content, delivery.headers["X-Shopify-Hmac-Sha256"])
    assert not verify_webhook("another-secret", delivery.content, delivery.headers["X-Shopify-Hmac-Sha256"])
    headers = parse_webhook_headers(dict(delivery.headers))
    assert headers.missing() == []
    assert (headers.topic, headers.shop_domain) == (RELEASED, SHOP)
    assert headers.event_id
    assert headers.webhook_id
    assert headers.event_id != headers.webhook_id
    assert headers.triggered_at is not None
    assert released_at <= headers.triggered_at <= env.clock.now()
    assert delivery.headers["X-Shopify-API-Version"] == "2026-10"
    assert delivery.headers["Content-Type"] == "application/json"
    assert str(delivery.url) == "https://hooks.example/shopify"


async def test_a_merchant_release_by_hand_sends_hold_released(env: Env) -> None:
    received = await _listen(env)
    _order, fo_id = await _held(env)
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo_id}/release", json={})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "OPEN"}
    [delivery] = await _delivered(env, received, RELEASED)
    assert json.loads(delivery.content) == {"fulfillment_order": {"id": fo_id, "status": "open"}}
    assert verify_webhook(_secret(env), delivery.content, delivery.headers["X-Shopify-Hmac-Sha256"])


async def test_hold_released_waits_for_the_last_hold_and_placed_on_hold_comes_once(env: Env) -> None:
    received = await _listen(env)
    order, fo_id = await _held(env)
    other = await env.gql(HOLD, {"id": fo_id, "handle": "fraud"}, env.other_token)
    assert other["data"]["fulfillmentOrderHold"]["userErrors"] == []
    # Only the first hold made the fulfilment order ON_HOLD: one placed_on_hold.
    [placed] = await _delivered(env, received, PLACED)
    assert json.loads(placed.content)["fulfillment_order"]["id"] == fo_id
    holds = (await env.fos(order["id"]))[0]["fulfillmentHolds"]
    mine = next(h["id"] for h in holds if h["heldByRequestingApp"])
    theirs = next(h["id"] for h in holds if not h["heldByRequestingApp"])
    # Ours goes by hand; the other app's hold stays: still ON_HOLD, nothing is sent.
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo_id}/release", json={"hold_ids": [mine]})
    assert response.json() == {"status": "ON_HOLD"}
    assert await _delivered(env, received, RELEASED) == []
    # The last one goes: now the fulfilment order is released, and Shopify says so once.
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo_id}/release", json={"hold_ids": [theirs]})
    assert response.json() == {"status": "OPEN"}
    [released] = await _delivered(env, received, RELEASED)
    assert json.loads(released.content) == {"fulfillment_order": {"id": fo_id, "status": "open"}}
    # Releasing again (nothing left) sends nothing more.
    await env.control.post(f"/shopify/fulfillment-orders/{fo_id}/release", json={})
    assert len(await _delivered(env, received, RELEASED)) == 1


async def test_placed_on_hold_has_the_keys_shopify_sends(env: Env) -> None:
    # Shopify's sample payload (https://shopify.dev/docs/api/webhooks/2026-10?reference=toml#list-of-topics-fulfillment_orders/placed_on_hold):
    # fulfillment_order {id, status, fulfillment_holds}, remaining_fulfillment_order {id, status},
    # held_fulfillment_order_line_items [{id, quantity}], created_fulfillment_hold; each hold
    # {id, reason, reason_notes, held_by_requesting_app, handle, held_by_app {id}}.
    received = await _listen(env)
    order, fo_id = await _held(env)
    [placed] = await _delivered(env, received, PLACED)
    body = json.loads(placed.content)
    assert set(body) == {"fulfillment_order", "remaining_fulfillment_order", "held_fulfillment_order_line_items",
                         "created_fulfillment_hold"}
    hold = body["created_fulfillment_hold"]
    assert set(hold) == {"id", "reason", "reason_notes", "held_by_requesting_app", "handle", "held_by_app"}
    assert hold["id"].startswith("gid://shopify/FulfillmentHold/")
    assert (hold["reason"], hold["reason_notes"], hold["handle"]) == ("awaiting_payment", "unpaid", "orderbridge")
    assert hold["held_by_app"]["id"].startswith("gid://shopify/App/")
    assert hold["held_by_requesting_app"] is True  # the receiving app placed it
    assert body["fulfillment_order"] == {"id": fo_id, "status": "on_hold", "fulfillment_holds": [hold]}
    assert body["remaining_fulfillment_order"] is None  # the whole fulfilment order is held
    lines = (await env.fos(order["id"]))[0]["lineItems"]["nodes"]
    assert body["held_fulfillment_order_line_items"] == [
        {"id": ln["id"], "quantity": ln["remainingQuantity"]} for ln in lines]
