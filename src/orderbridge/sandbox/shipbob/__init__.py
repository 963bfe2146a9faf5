"""ShipBob sandbox: the ShipBob API (version 2026-01) with Standard Webhooks.

``ShipBobSandbox`` wires the world, the warehouse rules, the public app, the control
router and the webhook dispatcher. Nothing here is shared with the client (rule 2).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI

from orderbridge.clock import Clock
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import WebhookDispatcher
from orderbridge.sandbox.shipbob.app import build_app
from orderbridge.sandbox.shipbob.control import build_control
from orderbridge.sandbox.shipbob.state import API_VERSION, World
from orderbridge.sandbox.shipbob.warehouse import Warehouse

__all__ = ["ShipBobSandbox"]

# "Exponential backoff for up to 24 hours" (ShipBob); the exact gaps are the sandbox's.
RETRY_SCHEDULE = [timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 23400)]


class ShipBobSandbox:
    """The ShipBob sandbox."""

    name = "shipbob"

    def __init__(self, *, clock: Clock, scheduler: Scheduler, faults: FaultPlan, seed: int = 0) -> None:
        self.clock, self.scheduler, self.faults = clock, scheduler, faults
        self.world = World(seed)
        self.dispatcher = WebhookDispatcher(self.name, clock, scheduler, faults, RETRY_SCHEDULE)
        self.warehouse = Warehouse(self.world, clock, self.dispatcher)
        self.app: FastAPI = build_app(self.world, self.warehouse, clock, faults)
        self.control: APIRouter = build_control(self.world, self.warehouse)

    def info(self, base_url: str) -> dict[str, Any]:
        """Connection facts: API base (with the version), token, channels."""
        base = base_url.rstrip("/")
        return {
            "api_base": f"{base}/{API_VERSION}", "api_version": API_VERSION,
            "personal_access_token": self.world.token,
            "channels": [{"id": c.id, "name": c.name, "scopes": c.scopes} for c in self.world.channels],
        }

    async def start(self) -> None:
        """Nothing runs on its own."""

    async def stop(self) -> None:
        await self.dispatcher.aclose()
