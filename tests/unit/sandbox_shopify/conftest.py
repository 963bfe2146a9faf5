"""In-process Shopify sandbox on a ManualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orderbridge.clock import ManualClock
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.shopify import ShopifySandbox

SHOP = "matcha-shop.myshopify.com"
URL = f"/{SHOP}/admin/api/2026-10/graphql.json"

CREATE = """
mutation($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name sourceIdentifier displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } }
            lineItems(first: 10) { nodes { id sku quantity currentQuantity } } }
    userErrors { code field message }
  }
}"""

FOS = """
query($id: ID!) { order(id: $id) { id displayFulfillmentStatus
  fulfillmentOrders(first: 5) { nodes { id status fulfillmentHolds { id handle reason heldByRequestingApp }
    lineItems(first: 10) { nodes { id remainingQuantity totalQuantity lineItem { id } } } } } } }"""

HOLD = """
mutation($id: ID!, $handle: String!) { fulfillmentOrderHold(id: $id, fulfillmentHold: {
  reason: AWAITING_PAYMENT, reasonNotes: "unpaid", handle: $handle }) {
  fulfillmentHold { id handle reason } fulfillmentOrder { id status } userErrors { code field message } } }"""


@dataclass
class Env:
    sandbox: ShopifySandbox
    clock: ManualClock
    scheduler: Scheduler
    faults: FaultPlan
    client: httpx.AsyncClient
    token: str
    nofo_token: str
    other_token: str
    control: httpx.AsyncClient

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        response = await self.client.post(URL, json={"query": query, "variables": variables or {}},
                                          headers={"X-Shopify-Access-Token": token or self.token})
        assert response.status_code == 200, response.text
        return response.json()

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.scheduler.run_due()

    async def create(self, **extra: Any) -> dict[str, Any]:
        order = {"lineItems": [{"variantId": await self.variant("BOWL-WHT"), "quantity": 2}],
                 "sourceIdentifier": "576000000000000001", "tags": ["tiktok"]} | extra.pop("order", {})
        body = await self.gql(CREATE, {"order": order, "options": extra.get("options")})
        payload = body["data"]["orderCreate"]
        assert payload["userErrors"] == [], payload
        return dict(payload["order"])

    async def variant(self, sku: str) -> str:
        body = await self.gql('query($q:String!){productVariants(first:5, query:$q){nodes{id sku}}}',
                              {"q": f"sku:{sku}"})
        return str(body["data"]["productVariants"]["nodes"][0]["id"])

    async def fos(self, order_id: str, token: str | None = None) -> list[dict[str, Any]]:
        body = await self.gql(FOS, {"id": order_id}, token)
        return list(body["data"]["order"]["fulfillmentOrders"]["nodes"])


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = ManualClock()
    scheduler = Scheduler(clock)
    faults = FaultPlan(seed=1)
    sandbox = ShopifySandbox(clock=clock, scheduler=scheduler, faults=faults, seed=1)
    info = sandbox.info("http://127.0.0.1:1")
    shop = info["shops"][0]
    control_app = FastAPI()
    control_app.include_router(sandbox.control, prefix="/shopify")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.app), base_url="http://sandbox") as client, \
            httpx.AsyncClient(transport=httpx.ASGITransport(control_app), base_url="http://control") as control:
        yield Env(sandbox, clock, scheduler, faults, client, shop["access_token"],
                  shop["access_token_without_fulfillment_orders"], shop["other_app_access_token"], control)
    await sandbox.stop()
    scheduler.close()
