"""Splitting and moving fulfilment orders: the new fulfilment order, its holds, the webhooks."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .conftest import HOLD, SHOP, Env

SUBSCRIBE = """mutation($t: WebhookSubscriptionTopic!){webhookSubscriptionCreate(topic:$t,
  webhookSubscription:{uri:"https://hooks.example/shopify"}){webhookSubscription{id topic} userErrors{message}}}"""

SPLIT = """
mutation($splits: [FulfillmentOrderSplitInput!]!) { fulfillmentOrderSplit(fulfillmentOrderSplits: $splits) {
  fulfillmentOrderSplits {
    fulfillmentOrder { id status fulfillmentHolds { handle } lineItems(first: 5) { nodes { id remainingQuantity } } }
    remainingFulfillmentOrder { id status fulfillmentHolds { handle }
      lineItems(first: 5) { nodes { id remainingQuantity lineItem { id } } } }
    replacementFulfillmentOrder { id } }
  userErrors { code field message } } }"""

MOVE = """
mutation($id: ID!, $loc: ID!, $items: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderMove(id: $id, newLocationId: $loc, fulfillmentOrderLineItems: $items) {
    movedFulfillmentOrder { id status fulfillmentHolds { handle } assignedLocation { location { id } } }
    originalFulfillmentOrder { id status fulfillmentHolds { handle } assignedLocation { location { id } } }
    remainingFulfillmentOrder { id }
    userErrors { field message } } }"""

NEW_TOPICS = ("FULFILLMENT_ORDERS_SPLIT", "FULFILLMENT_ORDERS_MOVED", "FULFILLMENT_ORDERS_MERGED")


async def _listen(env: Env) -> list[httpx.Request]:
    """Subscribe the app to the three topics; the deliveries land in the returned list."""
    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    env.sandbox.dispatcher._http = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    for topic in NEW_TOPICS:
        body = await env.gql(SUBSCRIBE, {"t": topic})
        assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == [], body
        assert body["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["topic"] == topic
    return received


async def _held(env: Env) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order of 2 units whose one fulfilment order carries our hold."""
    order = await env.create()
    await env.advance(2)
    fo = (await env.fos(order["id"]))[0]
    body = await env.gql(HOLD, {"id": fo["id"], "handle": "orderbridge"})
    assert body["data"]["fulfillmentOrderHold"]["userErrors"] == []
    return order, fo


async def _deliveries(env: Env, received: list[httpx.Request], topic: str) -> list[dict[str, Any]]:
    await env.advance(0.1)
    return [json.loads(r.content) for r in received if r.headers["X-Shopify-Topic"] == topic]


async def _second_location(env: Env) -> str:
    response = await env.control.post(f"/shopify/shops/{SHOP}/locations", json={"name": "East"})
    assert response.status_code == 200, response.text
    return str(response.json()["location_id"])


async def test_graphql_split_leaves_the_new_fulfilment_order_without_holds(env: Env) -> None:
    received = await _listen(env)
    order, fo = await _held(env)
    line = fo["lineItems"]["nodes"][0]
    body = await env.gql(SPLIT, {"splits": [{"fulfillmentOrderId": fo["id"],
                                             "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}]}]})
    payload = body["data"]["fulfillmentOrderSplit"]
    assert payload["userErrors"] == []
    [result] = payload["fulfillmentOrderSplits"]
    assert result["fulfillmentOrder"]["id"] == fo["id"]
    assert result["fulfillmentOrder"]["status"] == "ON_HOLD"
    assert result["fulfillmentOrder"]["fulfillmentHolds"] == [{"handle": "orderbridge"}]
    new = result["remainingFulfillmentOrder"]
    assert new["id"] != fo["id"]
    assert new["status"] == "OPEN"
    assert new["fulfillmentHolds"] == []
    assert new["lineItems"]["nodes"][0]["remainingQuantity"] == 1
    assert result["replacementFulfillmentOrder"] is None
    assert len(await env.fos(order["id"])) == 2
    [hook] = await _deliveries(env, received, "fulfillment_orders/split")
    assert hook == {
        "split_line_items": [{"id": line["id"], "quantity": 1}],
        "fulfillment_order": {"id": fo["id"], "status": "on_hold",
                              "assigned_location_id": hook["fulfillment_order"]["assigned_location_id"]},
        "remaining_fulfillment_order": {"id": new["id"], "status": "open",
                                        "assigned_location_id": hook["fulfillment_order"]["assigned_location_id"]},
        "replacement_fulfillment_order": None,
    }
    assert hook["fulfillment_order"]["assigned_location_id"].startswith("gid://shopify/Location/")


async def test_graphql_split_user_errors(env: Env) -> None:
    received = await _listen(env)
    _order, fo = await _held(env)
    line = fo["lineItems"]["nodes"][0]

    async def error(splits: list[dict[str, Any]]) -> dict[str, Any]:
        body = await env.gql(SPLIT, {"splits": splits})
        payload = body["data"]["fulfillmentOrderSplit"]
        assert payload["fulfillmentOrderSplits"] is None
        return dict(payload["userErrors"][0])

    assert (await error([{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/999999",
                          "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}]}]))["code"] \
        == "FULFILLMENT_ORDER_NOT_FOUND"
    assert (await error([{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": []}]))["code"] \
        == "NO_LINE_ITEMS_PROVIDED_TO_SPLIT"
    for quantity in (0, 2, 3):  # nothing, everything (nothing would remain), too many
        assert (await error([{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [
            {"id": line["id"], "quantity": quantity}]}]))["code"] == "INVALID_LINE_ITEM_QUANTITY"
    once = {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}]}
    assert (await error([once, once]))["code"] == "INVALID_LINE_ITEM_QUANTITY"
    assert await _deliveries(env, received, "fulfillment_orders/split") == []


async def test_control_split_emits_the_webhook(env: Env) -> None:
    received = await _listen(env)
    _order, fo = await _held(env)
    line = fo["lineItems"]["nodes"][0]
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo['id']}/split",
                                      json={"line_items": [{"line_item_id": line["id"], "quantity": 1}]})
    assert response.status_code == 200, response.text
    new_id = response.json()["fulfillment_order_id"]
    [hook] = await _deliveries(env, received, "fulfillment_orders/split")
    assert hook["fulfillment_order"]["id"] == fo["id"]
    assert hook["remaining_fulfillment_order"]["id"] == new_id
    assert hook["split_line_items"] == [{"id": line["id"], "quantity": 1}]
    bad = await env.control.post(f"/shopify/fulfillment-orders/{fo['id']}/split", json={"line_items": []})
    assert bad.status_code == 409


async def test_graphql_move_of_some_units_makes_a_new_fulfilment_order_without_holds(env: Env) -> None:
    received = await _listen(env)
    order, fo = await _held(env)
    line = fo["lineItems"]["nodes"][0]
    east = await _second_location(env)
    body = await env.gql(MOVE, {"id": fo["id"], "loc": east, "items": [{"id": line["id"], "quantity": 1}]})
    payload = body["data"]["fulfillmentOrderMove"]
    assert payload["userErrors"] == []
    moved, original = payload["movedFulfillmentOrder"], payload["originalFulfillmentOrder"]
    assert moved["id"] != fo["id"]
    assert moved["fulfillmentHolds"] == []
    assert moved["status"] == "OPEN"
    assert moved["assignedLocation"]["location"]["id"] == east
    assert original["id"] == fo["id"]
    assert original["fulfillmentHolds"] == [{"handle": "orderbridge"}]
    assert original["assignedLocation"]["location"]["id"] != east
    assert payload["remainingFulfillmentOrder"] is None
    assert len(await env.fos(order["id"])) == 2
    [hook] = await _deliveries(env, received, "fulfillment_orders/moved")
    assert hook["original_fulfillment_order"]["id"] == fo["id"]
    assert hook["original_fulfillment_order"]["status"] == "on_hold"
    assert hook["moved_fulfillment_order"] == {"id": moved["id"], "status": "open", "assigned_location_id": east}
    assert hook["destination_location_id"] == east
    assert hook["source_location"] == {"id": original["assignedLocation"]["location"]["id"]}
    assert hook["fulfillment_order_line_items_requested"] == [{"id": line["id"], "quantity": 1}]


async def test_graphql_move_of_everything_moves_the_fulfilment_order_itself(env: Env) -> None:
    received = await _listen(env)
    order, fo = await _held(env)
    east = await _second_location(env)
    body = await env.gql(MOVE, {"id": fo["id"], "loc": east})
    payload = body["data"]["fulfillmentOrderMove"]
    assert payload["userErrors"] == []
    moved = payload["movedFulfillmentOrder"]
    assert moved["id"] == fo["id"]
    assert moved["assignedLocation"]["location"]["id"] == east
    assert moved["fulfillmentHolds"] == [{"handle": "orderbridge"}]  # the same object keeps its hold
    assert len(await env.fos(order["id"])) == 1
    [hook] = await _deliveries(env, received, "fulfillment_orders/moved")
    assert hook["moved_fulfillment_order"]["id"] == hook["original_fulfillment_order"]["id"] == fo["id"]
    assert hook["fulfillment_order_line_items_requested"] is None


async def test_move_refusals(env: Env) -> None:
    received = await _listen(env)
    _order, fo = await _held(env)
    main = env.sandbox.info("http://x")["shops"][0]["location_ids"][0]
    for location in (main, "gid://shopify/Location/999999"):
        body = await env.gql(MOVE, {"id": fo["id"], "loc": location})
        payload = body["data"]["fulfillmentOrderMove"]
        assert payload["movedFulfillmentOrder"] is None
        assert payload["userErrors"], payload
    east = await _second_location(env)
    line = fo["lineItems"]["nodes"][0]
    body = await env.gql(MOVE, {"id": fo["id"], "loc": east, "items": [{"id": line["id"], "quantity": 5}]})
    assert body["data"]["fulfillmentOrderMove"]["userErrors"][0]["field"] == ["fulfillmentOrderLineItems"]
    body = await env.gql(MOVE, {"id": "gid://shopify/FulfillmentOrder/999999", "loc": east})
    assert body["data"]["fulfillmentOrderMove"]["userErrors"][0]["message"] == "Fulfillment order does not exist."
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo['id']}/move", json={"location_id": main})
    assert response.status_code == 409
    assert await _deliveries(env, received, "fulfillment_orders/moved") == []


async def test_control_move_emits_the_webhook(env: Env) -> None:
    received = await _listen(env)
    _order, fo = await _held(env)
    east = await _second_location(env)
    line = fo["lineItems"]["nodes"][0]
    response = await env.control.post(f"/shopify/fulfillment-orders/{fo['id']}/move", json={
        "location_id": east.rsplit("/", 1)[1], "line_items": [{"line_item_id": line["id"], "quantity": 1}]})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["original_fulfillment_order_id"] == fo["id"]
    assert answer["fulfillment_order_id"] != fo["id"]
    [hook] = await _deliveries(env, received, "fulfillment_orders/moved")
    assert hook["moved_fulfillment_order"]["id"] == answer["fulfillment_order_id"]
