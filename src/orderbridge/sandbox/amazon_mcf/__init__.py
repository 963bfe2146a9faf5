"""Amazon MCF sandbox: Login with Amazon and the SP-API Fulfillment Outbound API 2020-07-01.

``AmazonMcfSandbox`` wires the world, the warehouse rules, the public app (LWA token host
and SP-API on one port) and the control router. Nothing here is shared with the client
(rule 2).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from orderbridge.clock import Clock
from orderbridge.sandbox.amazon_mcf.app import build_app
from orderbridge.sandbox.amazon_mcf.control import build_control
from orderbridge.sandbox.amazon_mcf.state import World
from orderbridge.sandbox.amazon_mcf.warehouse import Warehouse
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import WebhookDispatcher

__all__ = ["AmazonMcfSandbox"]


class AmazonMcfSandbox:
    """The Amazon MCF sandbox (no push notifications: its dispatcher stays empty)."""

    name = "amazon_mcf"

    def __init__(self, *, clock: Clock, scheduler: Scheduler, faults: FaultPlan, seed: int = 0) -> None:
        self.clock, self.scheduler, self.faults = clock, scheduler, faults
        self.world = World(seed)
        self.warehouse = Warehouse(self.world, clock, scheduler)
        self.dispatcher = WebhookDispatcher(self.name, clock, scheduler, faults, [])
        self.app: FastAPI = build_app(self.world, self.warehouse, clock, faults)
        self.control: APIRouter = build_control(self.world, self.warehouse)

    def info(self, base_url: str) -> dict[str, Any]:
        """Connection facts: SP-API endpoint, LWA token URL and the seller's LWA credentials."""
        base = base_url.rstrip("/")
        seller = self.world.seller
        return {
            "endpoint": base, "lwa_token_url": f"{base}/auth/o2/token",
            "client_id": seller.client_id, "client_secret": seller.client_secret,
            "refresh_token": seller.refresh_token, "marketplace_id": seller.marketplace_id,
        }

    async def start(self) -> None:
        """Nothing runs on its own: validation goes through the shared scheduler."""

    async def stop(self) -> None:
        await self.dispatcher.aclose()
