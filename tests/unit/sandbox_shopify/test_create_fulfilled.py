"""orderCreate with fulfillmentStatus FULFILLED / fulfillment: made fulfilled, as Shopify does.

The order shows FULFILLED at once, its one fulfilment order is CLOSED (no later OPEN one),
a SUCCESS fulfilment carries every unit from the given location with the tracking, the
money is what the transaction says, and BYPASS leaves stock alone.
"""

from __future__ import annotations

from typing import Any

from tests.unit.sandbox_shopify.conftest import CREATE, Env
from tests.unit.sandbox_shopify.test_api import _available

DETAIL = """
query($id: ID!) { order(id: $id) { displayFulfillmentStatus displayFinancialStatus
  totalPriceSet { shopMoney { amount } } totalOutstandingSet { shopMoney { amount } }
  transactions { gateway kind status amountSet { shopMoney { amount } } }
  fulfillmentOrders(first: 5) { nodes { status lineItems(first: 5) { nodes { remainingQuantity totalQuantity } } } }
  fulfillments { status location { id } totalQuantity trackingInfo { company number } } } }"""


def _location(env: Env) -> str:
    return str(env.sandbox.info("http://x")["shops"][0]["location_ids"][0])


def _paid(amount: str) -> dict[str, Any]:
    return {"financialStatus": "PAID", "transactions": [{
        "kind": "SALE", "status": "SUCCESS", "gateway": "TikTok Shop",
        "amountSet": {"shopMoney": {"amount": amount, "currencyCode": "USD"}}}]}


async def _detail(env: Env, order_id: str) -> dict[str, Any]:
    body = await env.gql(DETAIL, {"id": order_id})
    return dict(body["data"]["order"])


async def _create_raw(env: Env, order: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
    variant = await env.variant("BOWL-WHT")
    base = {"lineItems": [{"variantId": variant, "quantity": 2,
                           "priceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "USD"}}}],
            "sourceIdentifier": "576000000000000009"}
    return await env.gql(CREATE, {"order": base | order, "options": options})


async def test_created_fulfilled_with_tracking_and_bypass_leaves_stock(env: Env) -> None:
    before = await _available(env, "BOWL-WHT")
    order = await env.create(order={
        **_paid("25.00"), "fulfillmentStatus": "FULFILLED",
        "lineItems": [{"variantId": await env.variant("BOWL-WHT"), "quantity": 2,
                       "priceSet": {"shopMoney": {"amount": "12.50", "currencyCode": "USD"}}}],
        "fulfillment": {"locationId": _location(env), "notifyCustomer": False,
                        "trackingNumber": "1Z999AA10100000004", "trackingCompany": "UPS"},
    }, options={"inventoryBehaviour": "BYPASS", "sendReceipt": False, "sendFulfillmentReceipt": False})
    got = await _detail(env, order["id"])
    assert got["displayFulfillmentStatus"] == "FULFILLED"
    assert got["displayFinancialStatus"] == "PAID"
    assert got["totalPriceSet"]["shopMoney"]["amount"] == "25.0"
    assert got["totalOutstandingSet"]["shopMoney"]["amount"] == "0.0"
    assert got["transactions"] == [{"gateway": "TikTok Shop", "kind": "SALE", "status": "SUCCESS",
                                    "amountSet": {"shopMoney": {"amount": "25.0"}}}]
    [fo] = got["fulfillmentOrders"]["nodes"]
    assert fo["status"] == "CLOSED"
    assert fo["lineItems"]["nodes"] == [{"remainingQuantity": 0, "totalQuantity": 2}]
    [f] = got["fulfillments"]
    assert f == {"status": "SUCCESS", "location": {"id": _location(env)}, "totalQuantity": 2,
                 "trackingInfo": [{"company": "UPS", "number": "1Z999AA10100000004"}]}
    assert await _available(env, "BOWL-WHT") == before
    await env.advance(5)  # the usual delayed fulfilment order never appears on top
    got = await _detail(env, order["id"])
    assert [n["status"] for n in got["fulfillmentOrders"]["nodes"]] == ["CLOSED"]
    assert await _available(env, "BOWL-WHT") == before


async def test_status_alone_fulfils_from_the_first_location_and_decrement_claims(env: Env) -> None:
    before = await _available(env, "BOWL-WHT")
    order = await env.create(order={"fulfillmentStatus": "FULFILLED"},
                             options={"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"})
    got = await _detail(env, order["id"])
    assert got["displayFulfillmentStatus"] == "FULFILLED"
    [f] = got["fulfillments"]
    assert f["location"]["id"] == _location(env)
    assert f["trackingInfo"] == []
    assert await _available(env, "BOWL-WHT") == before - 2


async def test_fulfillment_input_alone_implies_fulfilled(env: Env) -> None:
    order = await env.create(order={"fulfillment": {
        "locationId": _location(env), "trackingNumber": "A1", "trackingCompany": "USPS",
        "shipmentStatus": "IN_TRANSIT"}})
    got = await _detail(env, order["id"])
    assert got["displayFulfillmentStatus"] == "FULFILLED"
    assert got["fulfillments"][0]["trackingInfo"] == [{"company": "USPS", "number": "A1"}]


async def test_tracking_numbers_from_2026_10_and_the_singular_one_wins(env: Env) -> None:
    # https://shopify.dev/changelog/order-create-fulfillment-tracking-numbers: 2026-10 adds
    # trackingNumbers; "If you provide both ... the singular value takes precedence".
    several = await env.create(order={"fulfillment": {
        "locationId": _location(env), "trackingNumbers": ["A1", "B2"], "trackingCompany": "USPS"}})
    got = await _detail(env, several["id"])
    assert got["fulfillments"][0]["trackingInfo"] == [{"company": "USPS", "number": "A1"},
                                                      {"company": "USPS", "number": "B2"}]
    both = await env.create(order={"fulfillment": {
        "locationId": _location(env), "trackingNumber": "C3", "trackingNumbers": ["A1", "B2"],
        "trackingCompany": "USPS"}})
    got = await _detail(env, both["id"])
    assert got["fulfillments"][0]["trackingInfo"] == [{"company": "USPS", "number": "C3"}]


async def test_fields_shopify_lacks_or_types_it_refuses_are_variable_errors(env: Env) -> None:
    # Shopify 2026-10: shipmentStatus is the FulfillmentEventStatus enum;
    # OrderCreateTaxLineInput.rate is required; countryCode is the CountryCode enum;
    # trackingNumbers is a list of strings (a lone string is not coerced into an object).
    bad = [
        {"fulfillment": {"locationId": _location(env), "trackingNumbers": {"first": "A1"}}},
        {"fulfillment": {"locationId": _location(env), "shipmentStatus": "shipped"}},
        {"taxLines": [{"title": "Sales tax", "priceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "USD"}}}]},
        {"shippingAddress": {"address1": "1 Main St", "countryCode": "USA"}},
    ]
    for order in bad:
        body = await _create_raw(env, order)
        assert "data" not in body or body["data"] is None, order
        assert body["errors"], order
        assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE", body
        assert body["errors"][0]["message"].startswith(
            "Variable $order of type OrderCreateOrderInput! was provided invalid value for "), body


async def test_bad_location_or_unmodelled_status_is_a_user_error_and_nothing_is_made(env: Env) -> None:
    before = await _available(env, "BOWL-WHT")
    body = await _create_raw(env, {"fulfillment": {"locationId": "gid://shopify/Location/999999"}},
                             {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"})
    payload = body["data"]["orderCreate"]
    assert payload["order"] is None
    assert payload["userErrors"] == [{"code": "INVALID", "field": ["order", "fulfillment", "locationId"],
                                      "message": "Location does not exist."}]
    body = await _create_raw(env, {"fulfillmentStatus": "PARTIAL"})
    assert body["data"]["orderCreate"]["userErrors"][0]["field"] == ["order", "fulfillmentStatus"]
    assert await _available(env, "BOWL-WHT") == before


async def test_an_ordinary_create_is_unfulfilled(env: Env) -> None:
    order = await env.create()
    got = await _detail(env, order["id"])
    assert got["displayFulfillmentStatus"] == "UNFULFILLED"
    assert got["fulfillments"] == []


async def test_webhook_money_has_two_decimals_as_shopify_writes_it(env: Env) -> None:
    """Webhook (REST-shaped) payloads write "36.00"; GraphQL's Decimal writes "36.0"."""
    order = await env.create(order=_paid("36.00"))
    assert (await _detail(env, order["id"]))["totalPriceSet"]["shopMoney"]["amount"] == "36.0"
    stored = (await env.control.get(f"/shopify/orders/{order['id']}")).json()  # the webhook body
    assert (stored["total_price"], stored["current_total_price"]) == ("36.00", "36.00")
    money = [stored["total_tax"], stored["total_discounts"], *(line["price"] for line in stored["line_items"])]
    assert all(len(m.rsplit(".", 1)[1]) == 2 for m in money), money
