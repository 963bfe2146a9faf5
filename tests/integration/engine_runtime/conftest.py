"""The engine against the sandboxes over real HTTP, on both databases.

The sandboxes run in a background thread on a frozen clock; the engine's ``Services.clock``
is that same clock, so signatures, TikTok's timers and the engine's timers agree. Tests move
time with ``Harness.advance`` and let the engine catch up with ``Harness.settle`` (run
passes until nothing is due): no real sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orderbridge.adapters.db import connections, generate_key, links, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.bootstrap import Services
from orderbridge.clock import from_unix
from orderbridge.devkit import ControlClient
from orderbridge.engine.sandbox_connection import sandbox_settings
from orderbridge.engine.skus import import_catalogues
from orderbridge.engine.worker import Reconciler
from orderbridge.sandbox.runner import RunningSandboxes, SandboxWorld, running_sandboxes
from orderbridge.settings import Settings

# A Monday morning, US Pacific business hours.
T0 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
HOUR = 3600.0
# Enough passes for any one story step; more means the engine is looping.
MAX_SETTLE_ROUNDS = 60


@dataclass
class Harness:
    running: RunningSandboxes
    info: dict[str, Any]
    http: httpx.AsyncClient
    control: ControlClient
    services: Services
    connection: ConnectionRow
    reconciler: Reconciler

    @property
    def world(self) -> SandboxWorld:
        return self.running.world

    def now(self) -> datetime:
        return self.services.clock.now()

    async def place(self, **order: Any) -> str:
        placed = await self.control.place_order(**order)
        return str(placed["id"])

    def mark_due(self, *tiktok_ids: str) -> None:
        """What a webhook or a poll does: the hint, never the content. Counted as a Shopify
        hint too (it may stand for one), so the pass reads the Shopify order afresh."""
        with transaction(self.services.db) as conn:
            links.ensure_due(conn, self.connection.id, list(tiktok_ids), self.now(), self.now())
            found = [links.find_link(conn, self.connection.id, oid) for oid in tiktok_ids]
            links.count_shopify_hints(conn, [link.id for link in found if link is not None])

    async def settle(self, reconciler: Reconciler | None = None) -> int:
        """Run passes until nothing is due now; returns the links processed."""
        worker = reconciler or self.reconciler
        total = 0
        for _ in range(MAX_SETTLE_ROUNDS):
            done = await worker.run_once()
            if not done:
                return total
            total += done
        raise AssertionError("the engine never settled: a link is due again and again")

    async def advance(self, seconds: float, *, settle: bool = True) -> None:
        """Move the shared clock (in steps, so the engine's timers fire in order)."""
        step = 600.0
        left = seconds
        while left > 0:
            await self.control.advance(min(step, left))
            left -= step
            if settle:
                await self.settle()

    async def released_order(self, units: int = 1, sku: str = "MW-SET-NAT") -> tuple[str, str]:
        """A paid order mirrored, held and released past its window: (TikTok id, Shopify id)."""
        order_id = await self.place(items=[{"seller_sku": sku, "units": units}])
        self.mark_due(order_id)
        await self.settle()
        await self.advance(10)
        await self.advance(HOUR + 20 * 60)
        link = self.link(order_id)
        assert link.state == "released", link.last_error
        return order_id, link.shopify_order_id or ""

    def link(self, tiktok_id: str) -> LinkRow:
        with transaction(self.services.db, write=False) as conn:
            row = links.find_link(conn, self.connection.id, tiktok_id)
        assert row is not None, f"no link for {tiktok_id}"
        return row

    async def shopify_orders(self, tiktok_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.control.shopify_orders(source_identifier=tiktok_id)
        return found

    async def tiktok_order(self, tiktok_id: str) -> dict[str, Any]:
        return await self.control.tiktok_order(tiktok_id)




def engine_settings(db_url: str, info: dict[str, Any], **extra: Any) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=generate_key(),
        base_url="http://127.0.0.1:9",  # webhooks nowhere unless a test serves the web app
        lease_seconds=30.0,
        workers=2,
        **{**sandbox_settings(info), **extra},
    )


def sandbox_connection(services: Services, info: dict[str, Any], shop_index: int = 0) -> ConnectionRow:
    """The connection ``connect_sandbox`` would make (without its network checks)."""
    tt = info["tiktok"]["shops"][shop_index]
    sh = info["shopify"]["shops"][shop_index]
    with transaction(services.db) as conn:
        return connections.create_connection(
            conn, services.cipher, name=f"sandbox-{shop_index}", tiktok_shop_id=tt["shop_id"],
            shopify_domain=sh["domain"], now=services.clock.now(),
            tiktok_shop_cipher=tt["shop_cipher"], tiktok_shop_name=tt.get("name"),
            tiktok_access_token=tt["access_token"],
            tiktok_access_token_expires_at=from_unix(tt["access_token_expire_in"]),
            tiktok_refresh_token=tt["refresh_token"],
            tiktok_refresh_token_expires_at=from_unix(tt["refresh_token_expire_in"]),
            shopify_token=sh["access_token"],
            shopify_location_id=(sh.get("location_ids") or [None])[0],
        )


@pytest.fixture
def sandboxes() -> Iterator[RunningSandboxes]:
    world = SandboxWorld(seed=3, start=T0, rate=0.0)
    with running_sandboxes(world) as (running, _thread):
        yield running


@pytest.fixture
async def harness(sandboxes: RunningSandboxes, migrated_db_url: str) -> AsyncIterator[Harness]:
    info = sandboxes.info()
    async with httpx.AsyncClient(timeout=15.0) as http:
        services = Services.create(
            engine_settings(migrated_db_url, info), clock=sandboxes.world.clock, http=http,
            migrate_db=False,
        )
        try:
            connection = sandbox_connection(services, info)
            control = ControlClient(info["control_url"], http)
            # Throughput is not under test here: a big, fast bucket, no create cap.
            await control.shopify_shop_settings(
                connection.shopify_domain, plan="enterprise", bucket_size=50_000, create_cap=0
            )
            await import_catalogues(services, connection)
            yield Harness(
                running=sandboxes, info=info, http=http,
                control=control, services=services,
                connection=connection, reconciler=Reconciler(services, "test-worker", batch=50),
            )
        finally:
            services.db.dispose()
