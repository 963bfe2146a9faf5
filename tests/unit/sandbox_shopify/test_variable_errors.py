"""Ill-typed variables are refused as Shopify words it (graphql-ruby's variable errors).

Shopify's wording, as quoted from real answers in client code, e.g. "Variable $input of type
ProductInput! was provided invalid value for variants (Field is not defined on ProductInput)"
and "... for title (Expected value to not be null)"; reference for the types:
https://shopify.dev/docs/api/admin-graphql/2026-10/input-objects/OrderCreateOrderInput.
Nothing runs: no data, no order.
"""

from __future__ import annotations

from typing import Any

from tests.unit.sandbox_shopify.conftest import CREATE, Env

LINE = {"title": "Custom", "quantity": 1,
        "priceSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}}}


async def _create(env: Env, order: dict[str, Any]) -> Any:
    return await env.gql(CREATE, {"order": {"lineItems": [LINE], **order}})


async def test_unknown_field_is_named_with_its_type(env: Env) -> None:
    body = await _create(env, {"customerEmail": "a@b.c"})
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == ("Variable $order of type OrderCreateOrderInput! was provided invalid value "
                                "for customerEmail (Field is not defined on OrderCreateOrderInput)")
    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert error["extensions"]["problems"] == [
        {"path": ["customerEmail"], "explanation": "Field is not defined on OrderCreateOrderInput"}]
    assert error["extensions"]["value"]["customerEmail"] == "a@b.c"
    assert error["locations"][0]["line"] == 2


async def test_enum_missing_required_and_list_index_problems_together(env: Env) -> None:
    body = await _create(env, {
        "fulfillment": {"shipmentStatus": "shipped"},
        "taxLines": [{"title": "Tax", "rate": "0.1"}, {"title": "Tax"}],
    })
    [error] = body["errors"]
    problems = error["extensions"]["problems"]
    assert {"path": ["fulfillment", "locationId"], "explanation": "Expected value to not be null"} in problems
    assert {"path": ["taxLines", 1, "rate"], "explanation": "Expected value to not be null"} in problems
    enum = next(p for p in problems if p["path"] == ["fulfillment", "shipmentStatus"])
    assert enum["explanation"].startswith('Expected "shipped" to be one of: ATTEMPTED_DELIVERY, ')
    assert "taxLines.1.rate (Expected value to not be null)" in error["message"]
    assert "fulfillment.shipmentStatus (Expected \"shipped\" to be one of:" in error["message"]


async def test_a_missing_required_variable_names_no_field(env: Env) -> None:
    body = await env.gql(CREATE, {})
    [error] = body["errors"]
    assert error["message"] == "Variable $order of type OrderCreateOrderInput! was provided invalid value"
    assert error["extensions"]["problems"] == [{"path": [], "explanation": "Expected value to not be null"}]


async def test_scalar_and_object_shape_problems(env: Env) -> None:
    body = await _create(env, {"lineItems": [{**LINE, "quantity": "two"}], "shippingAddress": "1 Main St"})
    problems = body["errors"][0]["extensions"]["problems"]
    assert {"path": ["lineItems", 0, "quantity"], "explanation": 'Could not coerce value "two" to Int'} in problems
    assert {"path": ["shippingAddress"],
            "explanation": 'Expected "1 Main St" to be a key-value object.'} in problems


async def test_a_valid_order_still_goes_through(env: Env) -> None:
    body = await _create(env, {})
    assert body["data"]["orderCreate"]["userErrors"] == []
