"""Edits, refunds, webhooks, dev-store cap, faults, robustness, control routes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import httpx

from orderbridge.sandbox.common.faults import EndpointRule
from tests.unit.sandbox_shopify.conftest import SHOP, URL, Env

SECRET_FIELD = "client_secret"


async def test_order_edit_removes_units_with_restock_and_swaps_custom_line(env: Env) -> None:
    variant = await env.variant("WHISK-BAMBOO")
    order = await env.create(order={"lineItems": [
        {"variantId": variant, "quantity": 3},
        {"title": "Unmapped", "sku": "NOPE", "quantity": 1,
         "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}}]},
        options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"})
    await env.advance(2)
    stock = (await env.control.get(f"/shopify/variants/{variant}/inventory")).json()["available"]
    assert next(iter(stock.values())) == 97
    lines = order["lineItems"]["nodes"]
    begin = await env.gql("mutation($id:ID!){orderEditBegin(id:$id){calculatedOrder{id lineItems(first:5){nodes{id sku quantity}}} userErrors{message}}}", {"id": order["id"]})
    calc = begin["data"]["orderEditBegin"]["calculatedOrder"]
    calc_lines = {n["sku"]: n["id"] for n in calc["lineItems"]["nodes"]}
    set_q = """mutation($id:ID!, $li:ID!, $q:Int!){orderEditSetQuantity(id:$id, lineItemId:$li, quantity:$q, restock:true){
        calculatedLineItem{quantity} userErrors{message}}}"""
    assert (await env.gql(set_q, {"id": calc["id"], "li": calc_lines["WHISK-BAMBOO"], "q": 1}))["data"]["orderEditSetQuantity"]["userErrors"] == []
    assert (await env.gql(set_q, {"id": calc["id"], "li": calc_lines["NOPE"], "q": 0}))["data"]["orderEditSetQuantity"]["userErrors"] == []
    add = await env.gql("""mutation($id:ID!, $v:ID!){orderEditAddVariant(id:$id, variantId:$v, quantity:1){
        calculatedLineItem{sku quantity} userErrors{message}}}""", {"id": calc["id"], "v": await env.variant("TIN-50G")})
    assert add["data"]["orderEditAddVariant"]["calculatedLineItem"] == {"sku": "TIN-50G", "quantity": 1}
    commit = await env.gql("mutation($id:ID!){orderEditCommit(id:$id, notifyCustomer:false, staffNote:\"swap\"){order{id lineItems(first:5){nodes{sku currentQuantity}}} userErrors{message}}}", {"id": calc["id"]})
    nodes = commit["data"]["orderEditCommit"]["order"]["lineItems"]["nodes"]
    assert {n["sku"]: n["currentQuantity"] for n in nodes} == {"WHISK-BAMBOO": 1, "NOPE": 0, "TIN-50G": 1}
    stock = (await env.control.get(f"/shopify/variants/{variant}/inventory")).json()["available"]
    assert next(iter(stock.values())) == 99
    fos = await env.fos(order["id"])
    remaining = {n["lineItem"]["id"]: n["remainingQuantity"] for n in fos[0]["lineItems"]["nodes"]}
    assert remaining[lines[0]["id"]] == 1
    assert remaining[lines[1]["id"]] == 0


DISCOUNT = """mutation($id:ID!, $li:ID!, $d:OrderEditAppliedDiscountInput!){
  orderEditAddLineItemDiscount(id:$id, lineItemId:$li, discount:$d){
    calculatedLineItem{discountedUnitPriceSet{shopMoney{amount}} hasStagedLineItemDiscount} userErrors{field message}}}"""


async def test_edit_discount_only_on_an_added_line_once_and_per_unit(env: Env) -> None:
    order = await env.create()  # BOWL-WHT x2 at 18.00
    begin = await env.gql("mutation($id:ID!){orderEditBegin(id:$id){calculatedOrder{id lineItems(first:5){nodes{id}}}}}",
                          {"id": order["id"]})
    calc = begin["data"]["orderEditBegin"]["calculatedOrder"]
    original = calc["lineItems"]["nodes"][0]["id"]
    fixed = {"description": "price paid", "fixedValue": {"amount": "1.50", "currencyCode": "USD"}}
    refused = await env.gql(DISCOUNT, {"id": calc["id"], "li": original, "d": fixed})
    assert refused["data"]["orderEditAddLineItemDiscount"]["userErrors"][0]["message"] == (
        "Only items added during the current edit may be discounted.")
    add = await env.gql("""mutation($id:ID!, $v:ID!){orderEditAddVariant(id:$id, variantId:$v, quantity:2){
        calculatedLineItem{id} userErrors{message}}}""", {"id": calc["id"], "v": await env.variant("TIN-50G")})
    added = add["data"]["orderEditAddVariant"]["calculatedLineItem"]["id"]
    staged = await env.gql(DISCOUNT, {"id": calc["id"], "li": added, "d": fixed})
    line = staged["data"]["orderEditAddLineItemDiscount"]["calculatedLineItem"]
    assert line == {"discountedUnitPriceSet": {"shopMoney": {"amount": "22.5"}}, "hasStagedLineItemDiscount": True}
    again = await env.gql(DISCOUNT, {"id": calc["id"], "li": added, "d": fixed})
    assert again["data"]["orderEditAddLineItemDiscount"]["userErrors"]
    both = {"fixedValue": {"amount": "1.00", "currencyCode": "USD"}, "percentValue": 5.0}
    assert (await env.gql(DISCOUNT, {"id": calc["id"], "li": added, "d": both}))[
        "data"]["orderEditAddLineItemDiscount"]["userErrors"]
    commit = await env.gql("mutation($id:ID!){orderEditCommit(id:$id){order{lineItems(first:5){nodes{sku "
                           "discountedTotalSet{shopMoney{amount}}}}} userErrors{message}}}", {"id": calc["id"]})
    nodes = commit["data"]["orderEditCommit"]["order"]["lineItems"]["nodes"]
    assert {n["sku"]: n["discountedTotalSet"]["shopMoney"]["amount"] for n in nodes}["TIN-50G"] == "45.0"


REFUND = """mutation($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "refund-key-1") {
  refund { id totalRefundedSet { shopMoney { amount } } } order { displayFinancialStatus } userErrors { message } } }"""


async def test_refund_create_is_idempotent_by_key(env: Env) -> None:
    order = await env.create(order={"financialStatus": "PAID"}, options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"})
    line = order["lineItems"]["nodes"][0]["id"]
    refund_input = {"orderId": order["id"], "refundLineItems": [{"lineItemId": line, "quantity": 1, "restockType": "CANCEL"}],
                    "transactions": [{"orderId": order["id"], "amount": "28.00", "gateway": "manual", "kind": "REFUND"}]}
    first = await env.gql(REFUND, {"input": refund_input})
    second = await env.gql(REFUND, {"input": refund_input})
    assert first["data"]["refundCreate"]["refund"]["id"] == second["data"]["refundCreate"]["refund"]["id"]
    assert first["data"]["refundCreate"]["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    raw = (await env.control.get(f"/shopify/orders/{order['id']}")).json()
    assert len(raw["refunds"]) == 1
    assert raw["inventory"]["BOWL-WHT"]["claimed"] == 1
    # From 2026-04 the key is mandatory: without the directive refundCreate is an error and
    # nothing is refunded (https://shopify.dev/changelog/making-idempotency-mandatory-for-
    # inventory-adjustments-and-refund-mutations).
    bare = await env.gql(REFUND.replace(' @idempotent(key: "refund-key-1")', ""), {"input": refund_input})
    assert bare["data"]["refundCreate"] is None
    assert "@idempotent" in bare["errors"][0]["message"]
    raw = (await env.control.get(f"/shopify/orders/{order['id']}")).json()
    assert len(raw["refunds"]) == 1


async def test_webhook_hmac_and_headers(env: Env) -> None:
    received: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    env.sandbox.dispatcher._http = httpx.AsyncClient(transport=httpx.MockTransport(receive))
    for topic in ("ORDERS_CREATE", "FULFILLMENT_ORDERS_PLACED_ON_HOLD"):
        body = await env.gql("""mutation($t: WebhookSubscriptionTopic!){webhookSubscriptionCreate(topic:$t,
            webhookSubscription:{uri:"https://hooks.example/shopify"}){webhookSubscription{id topic uri} userErrors{message}}}""",
                             {"t": topic})
        assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    order = await env.create(order={"sourceIdentifier": "TT-HOOK"})
    await env.advance(2)
    assert [r.headers["X-Shopify-Topic"] for r in received] == ["orders/create"]
    request = received[0]
    secret = env.sandbox.info("http://x")[SECRET_FIELD]
    expected = base64.b64encode(hmac.new(secret.encode(), request.content, hashlib.sha256).digest()).decode()
    assert request.headers["X-Shopify-Hmac-Sha256"] == expected
    assert request.headers["X-Shopify-Shop-Domain"] == SHOP
    assert request.headers["X-Shopify-API-Version"] == "2026-10"
    assert request.headers["Content-Type"] == "application/json"
    for name in ("X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At"):
        assert request.headers[name]
    payload = json.loads(request.content)
    assert payload["admin_graphql_api_id"] == order["id"]
    assert payload["source_identifier"] == "TT-HOOK"
    assert payload["financial_status"] == "pending"


async def test_webhook_retries_on_failure(env: Env) -> None:
    calls: list[int] = []

    def fail(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500)

    env.sandbox.dispatcher._http = httpx.AsyncClient(transport=httpx.MockTransport(fail))
    await env.control.post("/shopify/webhooks/subscriptions", json={"shop": SHOP, "topic": "orders/create",
                                                                   "uri": "https://hooks.example/x"})
    await env.create()
    for _ in range(10):
        await env.advance(3 * 3600)
    assert len(calls) == 9  # the first attempt and 8 retries
    deliveries = (await env.control.get("/shopify/webhooks/deliveries")).json()
    assert deliveries[0]["status"] == "failed"


async def test_dev_store_caps_order_create(env: Env) -> None:
    await env.control.put(f"/shopify/shops/{SHOP}/settings", json={"plan": "development"})
    for _ in range(5):
        await env.create()
    body = await env.gql("mutation{orderCreate(order:{lineItems:[{title:\"x\", quantity:1}]}){order{id} userErrors{message}}}")
    assert body["data"]["orderCreate"] is None
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    await env.advance(61)
    await env.create()


async def test_faults_error_throttle_and_drop(env: Env) -> None:
    env.faults.add_endpoint_rule(EndpointRule("shopify", "orderCreate", error_rate=1.0, limit=1))
    env.faults.add_endpoint_rule(EndpointRule("shopify", "shop", throttle_rate=1.0, limit=1))
    headers = {"X-Shopify-Access-Token": env.token}
    query = "mutation{orderCreate(order:{lineItems:[{title:\"x\", quantity:1}]}){order{id}}}"
    response = await env.client.post(URL, json={"query": query}, headers=headers)
    assert response.status_code in (502, 503)
    assert env.sandbox.world.orders == {}
    response = await env.client.post(URL, json={"query": "{shop{name}}"}, headers=headers)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2.0"
    assert "Exceeded 2 calls per second" in response.json()["errors"]
    response = await env.client.post(URL, json={"query": query}, headers=headers)
    assert response.status_code == 200


async def test_garbage_never_crashes(env: Env) -> None:
    headers = {"X-Shopify-Access-Token": env.token}
    bodies: list[Any] = [b"{not json", b"", b"[]", b"null", json.dumps({"query": 5}).encode(),
                         json.dumps({"query": "{ shop { name }", "variables": "x"}).encode(),
                         json.dumps({"query": "query($id: ID!){ order(id: $id) { id } }", "variables": {"id": 5}}).encode(),
                         json.dumps({"query": "{ order(id: \"garbage\") { id } }"}).encode(),
                         json.dumps({"query": "{ orders(first: 2, after: \"!!\") { nodes { id } } }"}).encode(),
                         json.dumps({"query": "query { job(id: \"gid://shopify/Job/x\") { id } }"}).encode(),
                         b"\xff\xfe\x00"]
    for raw in bodies:
        response = await env.client.post(URL, content=raw, headers=headers | {"Content-Type": "application/json"})
        assert response.status_code in (200, 400), (raw, response.status_code)
        assert "Traceback" not in response.text
    assert (await env.gql("{ shop { name } }"))["data"]["shop"]["name"] == "Matcha Shop"


async def test_control_fulfil_cancel_release(env: Env) -> None:
    order = await env.create()
    await env.advance(2)
    fo_id = (await env.fos(order["id"]))[0]["id"]
    await env.gql("""mutation($id:ID!){fulfillmentOrderHold(id:$id, fulfillmentHold:{reason:OTHER, handle:"ob"}){userErrors{message}}}""",
                  {"id": fo_id})
    blocked = await env.control.post(f"/shopify/orders/{order['id']}/fulfill", json={})
    assert blocked.status_code == 409
    released = await env.control.post(f"/shopify/fulfillment-orders/{fo_id}/release", json={})
    assert released.json()["status"] == "OPEN"
    done = await env.control.post(f"/shopify/orders/{order['id']}/fulfill", json={
        "tracking_company": "UPS", "tracking_number": "1Z999AA10123456784"})
    assert done.status_code == 200
    fulfilment = done.json()["fulfillment_id"]
    assert (await env.control.post(f"/shopify/orders/{order['id']}/cancel", json={})).status_code == 409
    assert (await env.control.post(f"/shopify/fulfillments/{fulfilment}/cancel")).status_code == 200
    assert (await env.control.post(f"/shopify/orders/{order['id']}/cancel", json={"reason": "STAFF"})).status_code == 200
    raw = (await env.control.get(f"/shopify/orders/{order['id']}")).json()
    assert raw["cancel_reason"] == "staff"
    counts = (await env.control.get("/shopify/mutation-counts")).json()
    assert counts["per_shop"][SHOP]["orderCreate"] == 1
    assert counts["per_order"][order["id"]]["fulfillmentOrderHold"] == 1


async def test_fulfillment_service_must_accept_cancellation_first(env: Env) -> None:
    order = await env.create()
    await env.advance(2)
    await env.control.post(f"/shopify/orders/{order['id']}/assign-service", json={"handle": "acme-3pl"})
    cancel = "mutation($id:ID!){orderCancel(orderId:$id, reason:CUSTOMER, restock:true){job{id} orderCancelUserErrors{message}}}"
    assert (await env.gql(cancel, {"id": order["id"]}))["data"]["orderCancel"]["orderCancelUserErrors"]
    fo_id = (await env.fos(order["id"]))[0]["id"]
    request = await env.gql("mutation($id:ID!){fulfillmentOrderSubmitCancellationRequest(id:$id, message:\"buyer\"){fulfillmentOrder{requestStatus} userErrors{message}}}", {"id": fo_id})
    assert request["data"]["fulfillmentOrderSubmitCancellationRequest"]["fulfillmentOrder"]["requestStatus"] == "CANCELLATION_REQUESTED"
    await env.advance(6)
    assert (await env.gql(cancel, {"id": order["id"]}))["data"]["orderCancel"]["orderCancelUserErrors"] == []


async def test_split_creates_unheld_fulfillment_order(env: Env) -> None:
    order = await env.create()
    await env.advance(2)
    fo = (await env.fos(order["id"]))[0]
    await env.gql("""mutation($id:ID!){fulfillmentOrderHold(id:$id, fulfillmentHold:{reason:OTHER, handle:"ob"}){userErrors{message}}}""",
                  {"id": fo["id"]})
    line = fo["lineItems"]["nodes"][0]["id"]
    moved = await env.control.post(f"/shopify/fulfillment-orders/{fo['id']}/split", json={"line_items": [{"line_item_id": line, "quantity": 1}]})
    assert moved.status_code == 200
    fos = await env.fos(order["id"])
    assert sorted(f["status"] for f in fos) == ["ON_HOLD", "OPEN"]


async def test_order_edit_custom_item_and_the_staged_total(env: Env) -> None:
    # A custom line with a channel-liable tax line: removing it takes its tax away; a
    # non-taxable custom item adds its price and no tax; the staged total says so.
    order = await env.create(order={"lineItems": [
        {"title": "Unmapped", "sku": "NOPE", "quantity": 2,
         "priceSet": {"shopMoney": {"amount": "9.99", "currencyCode": "USD"}},
         "taxLines": [{"title": "Sales tax", "rate": "0.101", "channelLiable": True,
                       "priceSet": {"shopMoney": {"amount": "2.02", "currencyCode": "USD"}}}]}]})
    await env.advance(2)
    total = "totalPriceSet{shopMoney{amount}}"
    begin = await env.gql(f"mutation($id:ID!){{orderEditBegin(id:$id){{calculatedOrder{{id {total} lineItems(first:5){{nodes{{id}}}}}} userErrors{{message}}}}}}", {"id": order["id"]})
    calc = begin["data"]["orderEditBegin"]["calculatedOrder"]
    assert calc["totalPriceSet"]["shopMoney"]["amount"] == "22.0"  # 19.98 + 2.02
    [line] = calc["lineItems"]["nodes"]
    removed = await env.gql(f"""mutation($id:ID!, $li:ID!){{orderEditSetQuantity(id:$id, lineItemId:$li, quantity:0, restock:false){{
        calculatedOrder{{{total}}} userErrors{{message}}}}}}""", {"id": calc["id"], "li": line["id"]})
    assert removed["data"]["orderEditSetQuantity"]["calculatedOrder"]["totalPriceSet"]["shopMoney"]["amount"] == "0.0"
    add = f"""mutation($id:ID!, $p:MoneyInput!, $q:Int!, $t:String!){{orderEditAddCustomItem(id:$id, title:$t, price:$p,
        quantity:$q, taxable:false){{calculatedLineItem{{id title quantity variant{{id}} originalUnitPriceSet{{shopMoney{{amount}}}}}}
        calculatedOrder{{{total}}} userErrors{{field message}}}}}}"""
    usd = {"amount": "2.02", "currencyCode": "USD"}
    bad = await env.gql(add, {"id": calc["id"], "p": {**usd, "amount": "-1"}, "q": 1, "t": "Tax"})
    assert bad["data"]["orderEditAddCustomItem"]["userErrors"][0]["field"] == ["price"]
    bad = await env.gql(add, {"id": calc["id"], "p": usd, "q": 0, "t": "Tax"})
    assert bad["data"]["orderEditAddCustomItem"]["userErrors"][0]["field"] == ["quantity"]
    bad = await env.gql(add, {"id": calc["id"], "p": {**usd, "currencyCode": "EUR"}, "q": 1, "t": "Tax"})
    assert bad["data"]["orderEditAddCustomItem"]["userErrors"][0]["field"] == ["price", "currencyCode"]
    ok = (await env.gql(add, {"id": calc["id"], "p": usd, "q": 1, "t": "Sales tax TikTok collected"}))["data"]["orderEditAddCustomItem"]
    assert ok["userErrors"] == []
    assert ok["calculatedLineItem"]["variant"] is None
    assert ok["calculatedLineItem"]["originalUnitPriceSet"]["shopMoney"]["amount"] == "2.02"
    assert ok["calculatedOrder"]["totalPriceSet"]["shopMoney"]["amount"] == "2.02"
    commit = await env.gql("mutation($id:ID!){orderEditCommit(id:$id){order{id} userErrors{message}}}", {"id": calc["id"]})
    assert commit["data"]["orderEditCommit"]["userErrors"] == []
    stored = (await env.control.get(f"/shopify/orders/{order['id']}")).json()
    item = stored["line_items"][-1]
    assert (item["title"], item["taxable"], item["requires_shipping"], item["tax_lines"]) == (
        "Sales tax TikTok collected", False, False, [])
    assert stored["current_total_price"] == "2.02"
    assert item["id"] not in {ln["line_item_id"] for fo in stored["fulfillment_orders"] for ln in fo["line_items"]}


async def test_control_api_refuses_an_unknown_field(env: Env) -> None:
    resp = await env.control.put(f"/shopify/shops/{SHOP}/settings", json={"bucket_sise": 12})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["type"] == "extra_forbidden"


SUGGESTED = """query($id: ID!, $lines: [RefundLineItemInput!], $shipping: Money, $all: Boolean) {
  order(id: $id) { suggestedRefund(refundLineItems: $lines, shippingAmount: $shipping, refundShipping: $all) {
    amountSet { shopMoney { amount } } subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
    maximumRefundableSet { shopMoney { amount } }
    shipping { amountSet { shopMoney { amount } } maximumRefundableSet { shopMoney { amount } } taxSet { shopMoney { amount } } }
  } } }"""


async def test_suggested_refund_splits_lines_tax_and_shipping_and_caps_them(env: Env) -> None:
    order = await env.create(order={
        "financialStatus": "PAID",
        "shippingLines": [{"title": "Standard", "priceSet": {"shopMoney": {"amount": "6.00", "currencyCode": "USD"}}}],
        "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "TikTok Shop",
                          "amountSet": {"shopMoney": {"amount": "62.00", "currencyCode": "USD"}}}],
    })
    line = order["lineItems"]["nodes"][0]["id"]

    async def suggest(**variables: Any) -> dict[str, Any]:
        body = await env.gql(SUGGESTED, {"id": order["id"], **variables})
        found: dict[str, Any] = body["data"]["order"]["suggestedRefund"]
        return found

    def amount(bag: dict[str, Any]) -> Decimal:
        return Decimal(bag["shopMoney"]["amount"])

    one = await suggest(lines=[{"lineItemId": line, "quantity": 1}])
    assert amount(one["subtotalSet"]) == amount(one["amountSet"]) > 0
    assert amount(one["shipping"]["amountSet"]) == 0
    assert amount(one["shipping"]["maximumRefundableSet"]) == Decimal("6.00")
    too_much = await suggest(lines=[{"lineItemId": line, "quantity": 1}], shipping="9.00")
    assert amount(too_much["shipping"]["amountSet"]) == Decimal("6.00")  # what is left of it
    everything = await suggest(lines=[{"lineItemId": line, "quantity": 5}], all=True)
    assert amount(everything["maximumRefundableSet"]) == Decimal("62.00")
    assert amount(everything["amountSet"]) <= Decimal("62.00")
