"""The Shopify sandbox: a local emulator of the Shopify Admin GraphQL API, version 2026-10.

Faithful to the wire format and to the awkward behaviour that breaks integrations:
fulfilment orders appear a moment after the order, a token without fulfilment-order
scopes sees none, the search index lags writes and sees 60 days, cancellation is an
asynchronous job, calculated-cost throttling, signed webhooks with retries; the OAuth
install (authorization code grant, expiring offline tokens and their refresh).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from orderbridge.clock import Clock
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.shopify.app import GraphQLApp, build_app
from orderbridge.sandbox.shopify.control import build_router
from orderbridge.sandbox.shopify.control_facts import build_facts_router
from orderbridge.sandbox.shopify.control_install import build_install_router
from orderbridge.sandbox.shopify.control_stock import build_stock_router
from orderbridge.sandbox.shopify.control_store import build_store_router
from orderbridge.sandbox.shopify.cost import Buckets
from orderbridge.sandbox.shopify.executor import GraphQLExecutor
from orderbridge.sandbox.shopify.oauth import OAuthServer
from orderbridge.sandbox.shopify.state import API_VERSION, FULFILLMENT_ORDER_SCOPES, World, gid
from orderbridge.sandbox.shopify.taxes import build_taxes_router
from orderbridge.sandbox.shopify.webhooks import RETRY_SCHEDULE, SandboxRuntime
from orderbridge.sandbox.shopify.world import build_default_world

__all__ = ["ShopifySandbox"]

DEFAULT_APP_HANDLE = "orderbridge"


class ShopifySandbox:
    """Composable sandbox: ``app`` (the API), ``control`` (router), ``dispatcher`` (webhooks)."""

    name = "shopify"

    def __init__(self, *, clock: Clock, scheduler: Scheduler, faults: FaultPlan, seed: int = 0) -> None:
        self.clock, self.scheduler, self.faults, self.seed = clock, scheduler, faults, seed
        self.world: World = build_default_world()
        self.dispatcher = WebhookDispatcher("shopify", clock, scheduler, faults, RETRY_SCHEDULE)
        self.runtime = SandboxRuntime(self.world, clock, scheduler, self.dispatcher, seed)
        self.buckets = Buckets()
        self.executor = GraphQLExecutor(self.buckets)
        self.handler = GraphQLApp(self.world, clock, self.runtime, self.executor, faults, seed)
        self.oauth = OAuthServer(self.world, clock)
        self.app = build_app(self.handler, self.oauth)
        self.control: APIRouter = build_router(self)
        self.control.include_router(build_store_router(self))
        self.control.include_router(build_facts_router(self))
        self.control.include_router(build_install_router(self))
        self.control.include_router(build_stock_router(self))
        self.control.include_router(build_taxes_router(self))

    def info(self, base_url: str) -> dict[str, Any]:
        """Everything a client needs to connect: URLs, version, secret, shops and tokens."""
        app = next(a for a in self.world.apps.values() if a.handle == DEFAULT_APP_HANDLE)
        shops = []
        for shop in self.world.shops.values():
            tokens = [t for t in self.world.tokens.values() if t.shop == shop.domain and t.app_id == app.id]
            full = next((t for t in tokens if t.scopes >= FULFILLMENT_ORDER_SCOPES), None)
            limited = next((t for t in tokens if not (FULFILLMENT_ORDER_SCOPES & t.scopes)), None)
            others = [t for t in self.world.tokens.values() if t.shop == shop.domain and t.app_id != app.id]
            shops.append({
                "domain": shop.domain, "name": shop.name, "plan": shop.plan.value,
                "access_token": full.token if full else None,
                "access_token_scopes": sorted(full.scopes) if full else [],
                "access_token_without_fulfillment_orders": limited.token if limited else None,
                "other_app_access_token": others[0].token if others else None,
                "location_ids": [gid("Location", i) for i in shop.location_ids],
                "graphql_url": f"{base_url.rstrip('/')}/{shop.domain}/admin/api/{API_VERSION}/graphql.json",
                "admin_url": f"{base_url.rstrip('/')}/{shop.domain}/admin",
            })
        return {
            "graphql_url_template": f"{base_url.rstrip('/')}/{{shop}}/admin/api/{{version}}/graphql.json",
            # OAuth: {admin}/oauth/authorize and {admin}/oauth/access_token; the client id is api_key.
            "admin_url_template": f"{base_url.rstrip('/')}/{{shop}}/admin",
            "api_version": API_VERSION, "app_handle": app.handle, "api_key": app.api_key,
            "client_secret": app.client_secret, "shops": shops,
        }

    async def start(self) -> None:
        """Nothing runs on its own: scheduled work goes through the shared scheduler."""

    async def stop(self) -> None:
        await self.dispatcher.aclose()
