"""The GraphQL surface: orderCreate, errors, auth, scopes, holds, fulfilment, cancel, search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.sandbox_shopify.conftest import CREATE, HOLD, SHOP, URL, Env

DOC_EXAMPLE = {
    "order": {"currency": "USD", "email": "buyer@example.com",
              "lineItems": [{"variantId": "__VARIANT__", "quantity": 1,
                             "priceSet": {"shopMoney": {"amount": "19.99", "currencyCode": "USD"}}}],
              "shippingAddress": {"firstName": "A", "lastName": "B", "address1": "1 Main St", "city": "Austin",
                                  "provinceCode": "TX", "countryCode": "US", "zip": "78701"},
              "shippingLines": [{"title": "TikTok Shipping",
                                 "priceSet": {"shopMoney": {"amount": "0.00", "currencyCode": "USD"}}}],
              "financialStatus": "PAID",
              "transactions": [{"kind": "SALE", "status": "SUCCESS", "gateway": "tiktok_shop",
                                "amountSet": {"shopMoney": {"amount": "19.99", "currencyCode": "USD"}}}],
              "sourceIdentifier": "576461413038789123", "tags": ["tiktok", "tt-576461413038789123"],
              "customAttributes": [{"key": "tiktok_order_id", "value": "576461413038789123"}],
              "metafields": [{"namespace": "tiktok", "key": "order_id", "type": "single_line_text_field",
                              "value": "576461413038789123"}]},
    "options": {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY", "sendReceipt": False,
                "sendFulfillmentReceipt": False},
}


async def test_documented_order_create_example(env: Env) -> None:
    variables: dict[str, Any] = {"order": dict(DOC_EXAMPLE["order"]), "options": DOC_EXAMPLE["options"]}
    variables["order"]["lineItems"] = [dict(variables["order"]["lineItems"][0], variantId=await env.variant("TIN-50G"))]
    body = await env.gql(CREATE, variables)
    order = body["data"]["orderCreate"]["order"]
    assert body["data"]["orderCreate"]["userErrors"] == []
    assert order["name"] == "#1001"
    assert order["sourceIdentifier"] == "576461413038789123"
    assert order["totalPriceSet"]["shopMoney"] == {"amount": "19.99", "currencyCode": "USD"}
    assert order["displayFinancialStatus"] == "PAID"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


async def test_totals_and_channel_liable_tax(env: Env) -> None:
    order = await env.create(order={
        "lineItems": [{"title": "Custom", "sku": "UNMAPPED", "quantity": 2,
                       "priceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}},
                       "taxLines": [{"title": "Sales tax", "rate": "0.08", "channelLiable": True,
                                     "priceSet": {"shopMoney": {"amount": "1.60", "currencyCode": "USD"}}}]}],
        "shippingLines": [{"title": "Standard", "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}}],
        "discountCode": {"itemFixedDiscountCode": {"code": "TIKTOK", "amountSet": {
            "shopMoney": {"amount": "3.00", "currencyCode": "USD"}}}},
        "financialStatus": "PENDING"})
    body = await env.gql("""query($id:ID!){order(id:$id){ subtotalPriceSet{shopMoney{amount}}
        totalDiscountsSet{shopMoney{amount}} totalTaxSet{shopMoney{amount}} totalPriceSet{shopMoney{amount}}
        totalOutstandingSet{shopMoney{amount}} displayFinancialStatus taxLines{title rate channelLiable}}}""",
                         {"id": order["id"]})
    got = body["data"]["order"]
    assert got["subtotalPriceSet"]["shopMoney"]["amount"] == "17.0"
    assert got["totalDiscountsSet"]["shopMoney"]["amount"] == "3.0"
    assert got["totalTaxSet"]["shopMoney"]["amount"] == "1.6"
    assert got["totalPriceSet"]["shopMoney"]["amount"] == "23.6"
    assert got["totalOutstandingSet"]["shopMoney"]["amount"] == "23.6"
    assert got["displayFinancialStatus"] == "PENDING"
    assert got["taxLines"] == [{"title": "Sales tax", "rate": 0.08, "channelLiable": True}]


async def test_processed_at_in_future_is_a_user_error(env: Env) -> None:
    future = (env.clock.now() + timedelta(days=1)).isoformat()
    body = await env.gql(CREATE, {"order": {"processedAt": future, "lineItems": [
        {"title": "x", "quantity": 1, "priceSet": {"shopMoney": {"amount": "1", "currencyCode": "USD"}}}]}})
    assert body["data"]["orderCreate"]["userErrors"][0]["code"] == "PROCESSED_AT_INVALID"


async def test_unknown_field_is_a_shopify_style_error(env: Env) -> None:
    body = await env.gql("{ shop { name nope } }")
    error = body["errors"][0]
    assert "nope" in error["message"]
    assert error["extensions"]["code"] == "undefinedField"
    assert error["locations"]
    assert "data" not in body


async def test_auth_errors(env: Env) -> None:
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        response = await env.client.post(URL, json={"query": "{ shop { name } }"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    # A retired version falls forward (answered, and the header says by which version);
    # a version the sandbox does not serve is 404 (sandbox_shopify/test_versions.py).
    response = await env.client.post("/admin/api/2019-01/graphql.json", json={"query": "{shop{name}}"},
                                     headers={"X-Shopify-Access-Token": env.token, "X-Shopify-Shop-Domain": SHOP})
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == "2026-10"
    response = await env.client.post("/admin/api/unstable/graphql.json", json={"query": "{shop{name}}"},
                                     headers={"X-Shopify-Access-Token": env.token, "X-Shopify-Shop-Domain": SHOP})
    assert response.status_code == 404
    response = await env.client.post("/admin/api/2026-10/graphql.json", json={"query": "{shop{myshopifyDomain}}"},
                                     headers={"X-Shopify-Access-Token": env.token, "Host": SHOP})
    assert response.json()["data"]["shop"]["myshopifyDomain"] == SHOP
    assert response.headers["X-Request-Id"]


async def test_fulfillment_orders_appear_after_delay_and_need_scopes(env: Env) -> None:
    order = await env.create()
    assert await env.fos(order["id"]) == []
    await env.advance(1.0)
    assert await env.fos(order["id"]) == []
    await env.advance(1.0)
    fos = await env.fos(order["id"])
    assert len(fos) == 1
    assert fos[0]["status"] == "OPEN"
    assert await env.fos(order["id"], env.nofo_token) == []
    body = await env.gql(HOLD, {"id": fos[0]["id"], "handle": "x"}, env.nofo_token)
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"]["fulfillmentOrderHold"] is None


async def _held_order(env: Env) -> tuple[dict[str, Any], str]:
    order = await env.create()
    await env.advance(2)
    fo_id = (await env.fos(order["id"]))[0]["id"]
    body = await env.gql(HOLD, {"id": fo_id, "handle": "orderbridge"})
    assert body["data"]["fulfillmentOrderHold"]["userErrors"] == []
    return order, fo_id


async def test_hold_twice_same_handle_is_user_error(env: Env) -> None:
    order, fo_id = await _held_order(env)
    body = await env.gql(HOLD, {"id": fo_id, "handle": "orderbridge"})
    assert body["data"]["fulfillmentOrderHold"]["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    body = await env.gql(HOLD, {"id": fo_id, "handle": "second"})
    assert body["data"]["fulfillmentOrderHold"]["userErrors"] == []
    fos = await env.fos(order["id"])
    assert fos[0]["status"] == "ON_HOLD"
    assert len(fos[0]["fulfillmentHolds"]) == 2
    status = await env.gql("query($id:ID!){order(id:$id){displayFulfillmentStatus}}", {"id": order["id"]})
    assert status["data"]["order"]["displayFulfillmentStatus"] == "ON_HOLD"


RELEASE = """mutation($id: ID!, $holdIds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
  fulfillmentOrder { id status fulfillmentHolds { id handle } } userErrors { code field message } } }"""


async def test_release_by_id_leaves_other_apps_holds(env: Env) -> None:
    order, fo_id = await _held_order(env)
    other = await env.gql(HOLD, {"id": fo_id, "handle": "fraud"}, env.other_token)
    assert other["data"]["fulfillmentOrderHold"]["userErrors"] == []
    mine = [h for h in (await env.fos(order["id"]))[0]["fulfillmentHolds"] if h["heldByRequestingApp"]]
    body = await env.gql(RELEASE, {"id": fo_id, "holdIds": [mine[0]["id"]]})
    fo = body["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]
    assert [h["handle"] for h in fo["fulfillmentHolds"]] == ["fraud"]
    assert fo["status"] == "ON_HOLD"


async def test_release_without_ids_releases_all(env: Env) -> None:
    _, fo_id = await _held_order(env)
    await env.gql(HOLD, {"id": fo_id, "handle": "fraud"}, env.other_token)
    body = await env.gql(RELEASE, {"id": fo_id})
    fo = body["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]
    assert fo["fulfillmentHolds"] == []
    assert fo["status"] == "OPEN"


FULFIL = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id name status trackingInfo { company number url } } userErrors { field message } } }"""


async def test_fulfil_on_hold_is_user_error_then_works_after_release(env: Env) -> None:
    order, fo_id = await _held_order(env)
    fulfilment = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_id}],
                  "trackingInfo": {"company": "USPS", "number": "9400111899560000000000"}}
    body = await env.gql(FULFIL, {"f": fulfilment})
    assert "on_hold" in body["data"]["fulfillmentCreate"]["userErrors"][0]["message"]
    await env.gql(RELEASE, {"id": fo_id})
    body = await env.gql(FULFIL, {"f": fulfilment})
    created = body["data"]["fulfillmentCreate"]["fulfillment"]
    assert created["status"] == "SUCCESS"
    assert created["name"] == "#1001.1"
    assert created["trackingInfo"][0]["company"] == "USPS"
    cancel = await env.gql("""mutation($id:ID!){orderCancel(orderId:$id, reason:CUSTOMER, restock:true){
        job{id done} orderCancelUserErrors{code message}}}""", {"id": order["id"]})
    assert cancel["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"


CANCEL = """mutation($id:ID!){orderCancel(orderId:$id, reason:CUSTOMER, restock:true, notifyCustomer:false,
  staffNote:"TikTok cancelled"){ job{id done} orderCancelUserErrors{code field message}}}"""


async def _available(env: Env, sku: str) -> int:
    body = await env.gql("""query($q:String!){productVariants(first:1, query:$q){nodes{inventoryItem{
        inventoryLevels(first:1){nodes{quantities(names:["available"]){name quantity}}}}}}}""", {"q": f"sku:{sku}"})
    node = body["data"]["productVariants"]["nodes"][0]["inventoryItem"]["inventoryLevels"]["nodes"][0]
    return int(node["quantities"][0]["quantity"])


async def test_cancel_is_a_job_and_restocks_exactly_once(env: Env) -> None:
    before = await _available(env, "BOWL-WHT")
    order = await env.create(options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"})
    assert await _available(env, "BOWL-WHT") == before - 2
    body = await env.gql(CANCEL, {"id": order["id"]})
    job = body["data"]["orderCancel"]["job"]
    assert job["done"] is False
    again = await env.gql(CANCEL, {"id": order["id"]})
    assert again["data"]["orderCancel"]["orderCancelUserErrors"]
    state = await env.gql("query($id:ID!){order(id:$id){cancelledAt} job(id:$j){done}}".replace(
        "query($id:ID!)", "query($id:ID!, $j:ID!)"), {"id": order["id"], "j": job["id"]})
    assert state["data"]["order"]["cancelledAt"] is None
    assert state["data"]["job"]["done"] is False
    await env.advance(2.5)
    state = await env.gql("query($id:ID!, $j:ID!){order(id:$id){cancelledAt cancelReason} job(id:$j){done}}",
                          {"id": order["id"], "j": job["id"]})
    assert state["data"]["job"]["done"] is True
    assert state["data"]["order"]["cancelReason"] == "CUSTOMER"
    assert await _available(env, "BOWL-WHT") == before
    third = await env.gql(CANCEL, {"id": order["id"]})
    assert third["data"]["orderCancel"]["orderCancelUserErrors"][0]["message"] == "Order has already been cancelled."
    await env.advance(5)
    assert await _available(env, "BOWL-WHT") == before


async def test_manual_payment_makes_order_paid(env: Env) -> None:
    order = await env.create(order={"financialStatus": "PENDING"})
    body = await env.gql("""mutation($id:ID!){orderCreateManualPayment(id:$id, paymentMethodName:"TikTok Shop"){
        order{displayFinancialStatus totalOutstandingSet{shopMoney{amount}} transactions{gateway manualPaymentGateway}}
        userErrors{code message}}}""", {"id": order["id"]})
    got = body["data"]["orderCreateManualPayment"]
    assert got["userErrors"] == []
    assert got["order"]["displayFinancialStatus"] == "PAID"
    assert got["order"]["totalOutstandingSet"]["shopMoney"]["amount"] == "0.0"
    assert got["order"]["transactions"] == [{"gateway": "TikTok Shop", "manualPaymentGateway": True}]
    paid = await env.gql("mutation($id:ID!){orderMarkAsPaid(input:{id:$id}){userErrors{message}}}", {"id": order["id"]})
    assert paid["data"]["orderMarkAsPaid"]["userErrors"]


SEARCH = "query($q:String!){orders(first:5, query:$q){nodes{id name}}}"


async def test_search_lags_and_sees_sixty_days(env: Env) -> None:
    order = await env.create(order={"sourceIdentifier": "TT-LAG-1", "tags": ["tt-lag-1"]})
    for query in ("source_identifier:TT-LAG-1", "tag:tt-lag-1"):
        assert (await env.gql(SEARCH, {"q": query}))["data"]["orders"]["nodes"] == []
    await env.advance(3)
    for query in ("source_identifier:TT-LAG-1", "tag:tt-lag-1", "name:#1001", "status:open"):
        nodes = (await env.gql(SEARCH, {"q": query}))["data"]["orders"]["nodes"]
        assert [n["id"] for n in nodes] == [order["id"]], query
    old = (env.clock.now() - timedelta(days=61)).isoformat()
    await env.create(order={"sourceIdentifier": "TT-OLD", "processedAt": old})
    await env.advance(3)
    minted = await env.control.post("/shopify/tokens", json={"shop": SHOP, "scopes": ["read_orders"]})
    limited = minted.json()["access_token"]
    full_view = await env.gql(SEARCH, {"q": "source_identifier:TT-OLD"})  # default token: read_all_orders
    assert len(full_view["data"]["orders"]["nodes"]) == 1
    assert (await env.gql(SEARCH, {"q": "source_identifier:TT-OLD"}, limited))["data"]["orders"]["nodes"] == []


async def test_throttled_when_bucket_exhausted(env: Env) -> None:
    await env.control.put(f"/shopify/shops/{SHOP}/settings", json={"bucket_size": 12})
    env.sandbox.buckets.monotonic = lambda: 0.0  # freeze the leak
    env.sandbox.buckets.reset()
    first = await env.gql("{ shop { name } }")
    assert first["extensions"]["cost"]["actualQueryCost"] == 1
    body = await env.gql("query { orders(first: 20) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    huge = await env.gql("query { orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } } }")
    assert huge["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
