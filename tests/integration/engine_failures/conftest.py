"""The whole engine (``runner.run`` role ``all``) behind its real web app, driven by webhooks.

The sandboxes run in a background thread on a frozen clock; the engine runs in the test's
event loop with ``Services.clock`` = that clock, serving its web app on a free port, and
``connect_sandbox`` registers the sandboxes' webhooks to it. No test marks links due by
hand: every hint arrives as a signed HTTP delivery (or, where said, from the poller).

``Stack.advance`` moves the shared clock in steps and waits (bounded, real time) until the
engine is quiet: no link leased or due, no sandbox timer due, the inbox unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import pytest
from sqlalchemy import func, select

from orderbridge.adapters.db import events, generate_key, links, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.db.tables import inbox, order_links
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import run
from orderbridge.devkit import ControlClient
from orderbridge.engine.sandbox_connection import connect_sandbox, sandbox_settings
from orderbridge.engine.skus import import_catalogues
from orderbridge.sandbox.runner import RunningSandboxes, SandboxWorld, running_sandboxes
from orderbridge.settings import Settings

# A Monday morning, US Pacific business hours.
T0: Final = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
HOUR: Final = 3600.0
# "Never" for the poller: webhooks alone must drive the engine.
NO_POLL_SECONDS: Final = 10.0**8
# Real seconds the engine gets to become quiet after one clock step.
SETTLE_TIMEOUT: Final = 20.0
# Consecutive quiet looks before the engine counts as settled (a delivery may be in flight).
QUIET_LOOKS: Final = 3
LOOK_INTERVAL: Final = 0.02
STEP_SECONDS: Final = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(check: Callable[[], Awaitable[str | None]], within: float, what: str,
                     interval: float = 0.05) -> None:
    """Poll ``check`` (None = done, else why not yet) until done or ``within`` real seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    why: str | None = "never looked"
    while loop.time() < deadline:
        why = await check()
        if why is None:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not within {within:.0f} s: {why}")


@dataclass
class Stack:
    running: RunningSandboxes
    info: dict[str, Any]
    http: httpx.AsyncClient
    control: ControlClient
    services: Services
    connection: ConnectionRow
    placed: list[str] = field(default_factory=list)

    @property
    def world(self) -> SandboxWorld:
        return self.running.world

    def now(self) -> datetime:
        return self.services.clock.now()

    async def place(self, **order: Any) -> str:
        order.setdefault("items", [{"seller_sku": "MW-SET-NAT", "units": 1}])
        placed = await self.control.place_order(**order)
        self.placed.append(str(placed["id"]))
        return str(placed["id"])

    async def shopify_orders(self, tiktok_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.control.shopify_orders(source_identifier=tiktok_id)
        return found

    # --- the database, read from the test ---

    def _read(self, work: Callable[[Any], Any]) -> Any:
        with transaction(self.services.db, write=False) as conn:
            return work(conn)

    def link(self, tiktok_id: str) -> LinkRow | None:
        row: LinkRow | None = self._read(lambda c: links.find_link(c, self.connection.id, tiktok_id))
        return row

    def timeline(self, tiktok_id: str) -> list[events.EventRow]:
        row = self.link(tiktok_id)
        if row is None:
            return []
        story: list[events.EventRow] = self._read(lambda c: events.timeline(c, row.id))
        return story

    def story(self, tiktok_id: str) -> str:
        """The order's timeline without API calls, for failure messages."""
        lines = [f"{e.at:%H:%M:%S} {e.kind} {e.summary}" for e in self.timeline(tiktok_id)
                 if e.kind != "api_call"]
        link = self.link(tiktok_id)
        head = f"{tiktok_id}: " + ("no link" if link is None else
                                  f"state={link.state} tiktok={link.tiktok_status} due={link.next_due_at} "
                                  f"lease={link.lease_owner} error={link.last_error}")
        return "\n  ".join([head, *lines[-25:]])

    def inbox_count(self) -> int:
        count: int = self._read(lambda c: c.execute(select(func.count()).select_from(inbox)).scalar_one())
        return count

    def arrival_order(self) -> dict[tuple[str, str], int]:
        """Inbox key -> position in the order the engine received them."""
        rows = self._read(lambda c: c.execute(
            select(inbox.c.source, inbox.c.event_id).order_by(inbox.c.id)).all())
        return {(str(src), str(eid)): i for i, (src, eid) in enumerate(rows)}

    # --- waiting for the engine ---

    async def _busy(self) -> str | None:
        now = self.now()
        rows = await asyncio.to_thread(self._read, lambda c: c.execute(select(
            order_links.c.tiktok_order_id, order_links.c.next_due_at, order_links.c.lease_owner)).all())
        for order_id, due, owner in rows:
            if owner is not None:
                return f"order {order_id} is leased by {owner}"
            if due is not None and due.replace(tzinfo=due.tzinfo or UTC) <= now:
                return f"order {order_id} is due ({due})"
        due_timer = self.world.scheduler.next_due()
        if due_timer is not None and due_timer <= now:
            return f"a sandbox timer is due ({due_timer})"
        return None

    async def settle(self, within: float = SETTLE_TIMEOUT) -> None:
        """Wait until the engine is quiet (see the module docstring)."""
        quiet = 0
        last_inbox = -1

        async def check() -> str | None:
            nonlocal quiet, last_inbox
            why = await self._busy()
            count = await asyncio.to_thread(self.inbox_count)
            if why is None and count == last_inbox:
                quiet += 1
            else:
                quiet = 0
            last_inbox = count
            return None if quiet >= QUIET_LOOKS else (why or "the inbox is still growing")

        await wait_until(check, within, "the engine settling", interval=LOOK_INTERVAL)

    async def advance(self, seconds: float, step: float = STEP_SECONDS) -> None:
        left = seconds
        while left > 0:
            await self.control.advance(min(step, left))
            left -= step
            await self.settle()


def open_fulfillment_orders(shop_order: dict[str, Any]) -> list[dict[str, Any]]:
    """The fulfilment orders of a Shopify order (as the control API shows it) still open."""
    return [fo for fo in shop_order["fulfillment_orders"] if fo["status"].upper() not in ("CLOSED", "CANCELLED")]


def carries_our_hold(fo: dict[str, Any]) -> bool:
    return any(h["handle"] == "orderbridge" for h in fo["holds"])


async def shop_order_of(s: Stack, order_id: str) -> dict[str, Any]:
    """The Shopify order of a TikTok order, as the Shopify sandbox holds it."""
    link = s.link(order_id)
    assert link is not None
    assert link.shopify_order_id, s.story(order_id)
    return await s.control.shopify_order(link.shopify_order_id)


def engine_settings(db_url: str, info: dict[str, Any], port: int, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url, "secret_key": generate_key(), "host": "127.0.0.1", "port": port,
        "base_url": f"http://127.0.0.1:{port}", "lease_seconds": 30.0, "workers": 4,
        "poll_interval_seconds": NO_POLL_SECONDS, "log_level": "warning",
        **sandbox_settings(info),
    }
    values.update(extra)
    return Settings(**values)


@contextlib.asynccontextmanager
async def engine_stack(db_url: str, *, seed: int, rate: float = 0.0, **settings: Any) -> AsyncIterator[Stack]:
    """Sandboxes (thread) + the engine with its web app (this loop), connected."""
    world = SandboxWorld(seed=seed, start=T0, rate=rate)
    with running_sandboxes(world) as (running, _thread):
        info = running.info()
        port = free_port()
        async with httpx.AsyncClient(timeout=15.0) as http:
            services = Services.create(engine_settings(db_url, info, port, **settings),
                                       clock=world.clock, http=http, migrate_db=False)
            stop = asyncio.Event()
            task: asyncio.Task[None] | None = None
            try:
                control = ControlClient(info["control_url"], http)
                connection = await connect_sandbox(services, info)
                await control.shopify_shop_settings(connection.shopify_domain, plan="enterprise",
                                                    bucket_size=50_000, create_cap=0)
                await import_catalogues(services, connection)
                up = asyncio.Event()
                task = asyncio.create_task(run(services, "all", stop, ready=lambda _info: up.set()))
                await asyncio.wait_for(up.wait(), timeout=15)
                stack = Stack(running, info, http, control, services, connection)
                await stack.settle()  # the poller's first look at start-up finds nothing
                yield stack
            finally:
                stop.set()
                if task is not None:
                    await asyncio.wait_for(task, timeout=30)
                services.db.dispose()


@pytest.fixture
def stack_factory(migrated_db_url: str) -> Callable[..., contextlib.AbstractAsyncContextManager[Stack]]:
    def make(**kwargs: Any) -> contextlib.AbstractAsyncContextManager[Stack]:
        return engine_stack(migrated_db_url, **kwargs)

    return make


def paid_time(order: dict[str, Any]) -> datetime | None:
    value = order.get("paid_time")
    return None if not value else datetime.fromtimestamp(int(value), UTC)


def after(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)
