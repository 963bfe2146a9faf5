"""TikTok Shop sandbox: a local emulator of the Partner API 202309 (US market).

``TikTokSandbox`` wires the world (apps, shops, products, orders), the lifecycle engine,
the public ASGI app (API host + auth host + authorize page on one port), the control router
and the webhook dispatcher. Nothing here is shared with the API client (rule 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from orderbridge.clock import Clock, to_unix
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.tiktok.api import Api
from orderbridge.sandbox.tiktok.app import RateLimiter, build_app
from orderbridge.sandbox.tiktok.auth import Auth
from orderbridge.sandbox.tiktok.cancellations import Cancellations
from orderbridge.sandbox.tiktok.constants import (
    RATE_LIMIT_PER_SECOND,
    WEBHOOK_RETRY_SCHEDULE,
    WEBHOOK_TIMEOUT_SECONDS,
)
from orderbridge.sandbox.tiktok.control import ControlDeps, build_control
from orderbridge.sandbox.tiktok.factory import build_default_world
from orderbridge.sandbox.tiktok.fulfillment import Fulfillment
from orderbridge.sandbox.tiktok.orders import Engine
from orderbridge.sandbox.tiktok.returns import ReturnDesk
from orderbridge.sandbox.tiktok.returns_api import ReturnApi, build_return_control
from orderbridge.sandbox.tiktok.state import AuthCode, Token
from orderbridge.sandbox.tiktok.webhooks import EventEmitter

__all__ = ["TikTokSandbox"]


class TikTokSandbox:
    """The TikTok Shop sandbox."""

    name = "tiktok"

    def __init__(
        self,
        *,
        clock: Clock,
        scheduler: Scheduler,
        faults: FaultPlan,
        seed: int = 0,
        http: httpx.AsyncClient | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """``http`` (webhook client) and ``monotonic`` (rate limit) exist for tests."""
        self.clock = clock
        self.scheduler = scheduler
        self.faults = faults
        self.world = build_default_world(seed, clock.now())
        self.dispatcher = WebhookDispatcher(
            self.name, clock, scheduler, faults, list(WEBHOOK_RETRY_SCHEDULE),
            http=http, timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
        )
        self.events = EventEmitter(self.world, clock, self.dispatcher)
        self.engine = Engine(self.world, clock, scheduler, self.events)
        self.cancels = Cancellations(self.engine)
        self.fulfillment = Fulfillment(self.engine)
        self.auth = Auth(self.world, clock)
        self.api = Api(self.engine, self.auth, self.fulfillment, self.cancels)
        self.returns = ReturnDesk(self.engine)
        self.api.extra_routes = ReturnApi(self.returns).routes()
        self.limiter = (RateLimiter(RATE_LIMIT_PER_SECOND, monotonic) if monotonic
                        else RateLimiter(RATE_LIMIT_PER_SECOND))
        self.app: FastAPI = build_app(self.api, self.world, clock, faults, self.limiter)
        self.control: APIRouter = build_control(
            ControlDeps(self.engine, self.cancels, self.auth, self.dispatcher))
        self.control.include_router(build_return_control(self.returns))
        self._ready_codes: dict[str, AuthCode] = {}
        self._ready_tokens: dict[str, Token] = {}
        app_key = next(iter(self.world.apps))
        for shop_id in self.world.shops:
            self._ready_tokens[shop_id] = self.auth.mint_tokens(app_key, shop_id)

    def _ready_code(self, app_key: str, shop_id: str) -> AuthCode:
        code = self._ready_codes.get(shop_id)
        if code is None or code.used or self.clock.now() >= code.expires:
            code = self.auth.mint_code(app_key, shop_id)
            self._ready_codes[shop_id] = code
        return code

    def info(self, base_url: str) -> dict[str, Any]:
        """Connection facts for clients and tests (JSON-able)."""
        base = base_url.rstrip("/")
        app = next(iter(self.world.apps.values()))
        shops = []
        for shop in self.world.shops.values():
            token = self._ready_tokens.get(shop.id)
            if token is None or token.revoked or self.clock.now() >= token.access_expires:
                token = self.auth.mint_tokens(app.app_key, shop.id)
                self._ready_tokens[shop.id] = token
            code = self._ready_code(app.app_key, shop.id)
            shops.append({
                "shop_id": shop.id, "shop_cipher": shop.cipher, "name": shop.name, "shop_name": shop.name,
                "code": shop.code, "region": shop.region, "warehouse_id": shop.warehouse_id,
                "auth_code": code.code, "access_token": token.access_token,
                "access_token_expire_in": to_unix(token.access_expires),
                "refresh_token": token.refresh_token,
                "refresh_token_expire_in": to_unix(token.refresh_expires),
                "delivery_options": {o.value: i for o, i in shop.delivery_options.items()},
                "seller_skus": [s.seller_sku for p in shop.products.values() for s in p.skus],
            })
        return {
            "api_base": base, "auth_base": base,
            "authorize_url": f"{base}/open/authorize?service_id={app.service_id}",
            "app_key": app.app_key, "app_secret": app.app_secret, "service_id": app.service_id,
            "redirect_uri": app.redirect_uri, "shops": shops,
        }

    async def start(self) -> None:
        """Nothing to start besides the dispatcher's lazily created client."""

    async def stop(self) -> None:
        """Close the webhook HTTP client."""
        await self.dispatcher.aclose()
