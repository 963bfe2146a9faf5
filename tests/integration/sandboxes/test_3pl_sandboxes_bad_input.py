"""Garbage sent to the 3PL sandboxes gets the vendor's 4xx error, never a 500."""

from typing import Any

import pytest

from .conftest import Warehouses

MCF_BODIES: list[Any] = [
    b"not json", b"[1, 2]", {"sellerFulfillmentOrderId": "X"},
    {"sellerFulfillmentOrderId": "X", "displayableOrderId": "X", "displayableOrderDate": "2026-11-16T17:00:00Z",
     "displayableOrderComment": "c", "shippingSpeedCategory": "Standard", "destinationAddress": "nowhere",
     "items": [{"sellerSku": "S", "sellerFulfillmentOrderItemId": "1", "quantity": 1}]},
    {"sellerFulfillmentOrderId": "X", "displayableOrderId": "X", "displayableOrderDate": "2026-11-16T17:00:00Z",
     "displayableOrderComment": "c", "shippingSpeedCategory": "Warp",
     "destinationAddress": {"name": "A", "addressLine1": "1", "postalCode": "1", "countryCode": "US"},
     "items": [{"sellerSku": "S", "sellerFulfillmentOrderItemId": "1", "quantity": "two"}]},
    {"sellerFulfillmentOrderId": "X", "displayableOrderId": "X", "displayableOrderDate": "2026-11-16T17:00:00Z",
     "displayableOrderComment": "c", "shippingSpeedCategory": "Standard",
     "destinationAddress": {"name": "A", "addressLine1": "1", "postalCode": "1", "countryCode": "US"},
     "items": ["S"]},
]


@pytest.mark.parametrize("body", MCF_BODIES)
async def test_amazon_refuses_bad_creates_with_its_envelope(tpl: Warehouses, body: Any) -> None:
    token = await tpl.mcf().access_token()
    base = tpl.info["amazon_mcf"]["endpoint"] + "/fba/outbound/2020-07-01"
    headers = {"x-amz-access-token": token}
    kw: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    answer = await tpl.http.post(f"{base}/fulfillmentOrders", headers=headers, **kw)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"


@pytest.mark.parametrize("query", ["queryStartDate=yesterday", "nextToken=%%%", "nextToken=bm9wZQ"])
async def test_amazon_refuses_bad_list_parameters(tpl: Warehouses, query: str) -> None:
    token = await tpl.mcf().access_token()
    base = tpl.info["amazon_mcf"]["endpoint"] + "/fba/outbound/2020-07-01"
    answer = await tpl.http.get(f"{base}/fulfillmentOrders?{query}", headers={"x-amz-access-token": token})
    assert answer.status_code == 400
    tracking = await tpl.http.get(f"{base}/tracking?packageNumber=abc", headers={"x-amz-access-token": token})
    assert tracking.status_code == 400


async def test_amazon_refuses_missing_token_and_bad_grants(tpl: Warehouses) -> None:
    mcf = tpl.info["amazon_mcf"]
    answer = await tpl.http.get(mcf["endpoint"] + "/fba/outbound/2020-07-01/fulfillmentOrders/X")
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Unauthorized"
    grant = await tpl.http.post(mcf["lwa_token_url"], data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|wrong",
        "client_id": mcf["client_id"], "client_secret": mcf["client_secret"]})
    assert (grant.status_code, grant.json()["error"]) == (400, "invalid_grant")


SHIPBOB_BODIES: list[Any] = [
    b"{", b"7", {"reference_id": "R"},
    {"reference_id": "R", "shipping_method": "Standard", "recipient": "me", "products": [{"reference_id": "S",
                                                                                          "quantity": 1}]},
    {"reference_id": "R", "shipping_method": "Standard", "type": "Retail",
     "recipient": {"name": "A", "address": {"address1": "1", "city": "C", "country": "US"}},
     "products": [{"reference_id": "S", "quantity": 1}]},
    {"reference_id": "R", "shipping_method": "Standard",
     "recipient": {"name": "A", "address": {"address1": "1", "city": "C", "country": "US"}},
     "products": [{"reference_id": "S", "quantity": 0}, "x"]},
]


@pytest.mark.parametrize("body", SHIPBOB_BODIES)
async def test_shipbob_refuses_bad_orders_with_field_messages(tpl: Warehouses, body: Any) -> None:
    sb = tpl.info["shipbob"]
    headers = {"authorization": f"Bearer {sb['personal_access_token']}", "shipbob_channel_id": "100101"}
    kw: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    answer = await tpl.http.post(f"{sb['api_base']}/order", headers=headers, **kw)
    assert answer.status_code == 400
    assert all(isinstance(v, list) for v in answer.json().values())


@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/order?Limit=1000", {}, 400), ("/order?Page=zero", {}, 400),
    ("/order?LastUpdateStartDate=soon", {}, 400), ("/order/123456", {}, 404),
    ("/channel", {"authorization": "Bearer wrong"}, 401),
])
async def test_shipbob_refuses_bad_queries(tpl: Warehouses, path: str, headers: dict[str, str],
                                           status: int) -> None:
    sb = tpl.info["shipbob"]
    answer = await tpl.http.get(sb["api_base"] + path, headers={
        "authorization": f"Bearer {sb['personal_access_token']}", **headers})
    assert answer.status_code == status


async def test_shipbob_order_writes_need_a_writable_channel(tpl: Warehouses) -> None:
    sb = tpl.info["shipbob"]
    body = {"reference_id": "R", "shipping_method": "Standard",
            "recipient": {"name": "A", "address": {"address1": "1", "city": "C", "country": "US"}},
            "products": [{"reference_id": "S", "quantity": 1}]}
    auth = {"authorization": f"Bearer {sb['personal_access_token']}"}
    missing = await tpl.http.post(f"{sb['api_base']}/order", headers=auth, json=body)
    read_only = await tpl.http.post(f"{sb['api_base']}/order", json=body,
                                    headers={**auth, "shipbob_channel_id": "100102"})
    assert (missing.status_code, read_only.status_code) == (400, 400)
