"""Builds and serves every sandbox: TikTok Shop, Shopify and the control API.

``SandboxWorld`` owns the shared clock, scheduler and fault plan and the sandbox objects.
``serve()`` starts them on their ports in the running loop and returns a ``RunningSandboxes``
with the base URLs and credentials (the info document). ``start_in_thread()`` does the same
in a background thread (tests, the demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orderbridge.clock import ScaledClock
from orderbridge.private_files import write_private
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.server import ServedApp, ServerGroup, ServerThread
from orderbridge.sandbox.control import build_control_app
from orderbridge.sandbox.shopify import ShopifySandbox
from orderbridge.sandbox.tiktok import TikTokSandbox

__all__ = ["DEFAULT_PORTS", "RunningSandboxes", "SandboxWorld", "running_sandboxes"]

# Fixed defaults so a person can remember them; 0 means "any free port" (tests).
DEFAULT_PORTS = {"tiktok": 9001, "shopify": 9002, "control": 9000}


@dataclass
class SandboxWorld:
    """Everything the sandboxes share, and the sandboxes themselves."""

    seed: int = 0
    start: datetime | None = None
    rate: float = 1.0
    clock: ScaledClock = field(init=False)
    scheduler: Scheduler = field(init=False)
    faults: FaultPlan = field(init=False)
    tiktok: TikTokSandbox = field(init=False)
    shopify: ShopifySandbox = field(init=False)

    def __post_init__(self) -> None:
        self.clock = ScaledClock(start=self.start, rate=self.rate)
        self.scheduler = Scheduler(self.clock)
        self.faults = FaultPlan(seed=self.seed)
        self.tiktok = TikTokSandbox(
            clock=self.clock, scheduler=self.scheduler, faults=self.faults, seed=self.seed
        )
        self.shopify = ShopifySandbox(
            clock=self.clock, scheduler=self.scheduler, faults=self.faults, seed=self.seed
        )


@dataclass
class RunningSandboxes:
    world: SandboxWorld
    urls: dict[str, str]

    def info(self) -> dict[str, Any]:
        """Base URLs and test credentials (the ``--info-file`` document)."""
        return {
            "control_url": self.urls["control"],
            "clock": {"now": self.world.clock.now().isoformat(), "rate": self.world.clock.rate},
            "seed": self.world.seed,
            "tiktok": self.world.tiktok.info(self.urls["tiktok"]),
            "shopify": self.world.shopify.info(self.urls["shopify"]),
        }

    def write_info(self, path: Path) -> None:
        """The info file (URLs, and the app secrets and tokens of the sandboxes: mode 0600)."""
        write_private(path, json.dumps(self.info(), indent=2, sort_keys=True) + "\n")


async def serve(
    world: SandboxWorld, ports: dict[str, int] | None = None, host: str = "127.0.0.1"
) -> tuple[RunningSandboxes, Callable[[], Awaitable[None]]]:
    """Start every sandbox in the running loop; returns the handle and a stop function."""
    chosen = {**DEFAULT_PORTS, **(ports or {})}
    holder: dict[str, RunningSandboxes] = {}
    control = build_control_app(
        clock=world.clock, scheduler=world.scheduler, faults=world.faults,
        parts=[world.tiktok, world.shopify], info=lambda: holder["running"].info(),
    )
    group = ServerGroup([
        ServedApp("tiktok", world.tiktok.app, host, chosen["tiktok"]),
        ServedApp("shopify", world.shopify.app, host, chosen["shopify"]),
        ServedApp("control", control, host, chosen["control"]),
    ])
    await world.tiktok.start()
    await world.shopify.start()
    await group.start()
    running = RunningSandboxes(world, group.urls())
    holder["running"] = running
    ticker = asyncio.create_task(world.scheduler.run(), name="sandbox scheduler")

    async def stop() -> None:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await group.stop()
        await world.tiktok.stop()
        await world.shopify.stop()
        world.scheduler.close()

    return running, stop


@contextlib.contextmanager
def running_sandboxes(
    world: SandboxWorld | None = None, ports: dict[str, int] | None = None
) -> Iterator[tuple[RunningSandboxes, ServerThread]]:
    """Serve the sandboxes from a background thread (any free ports by default)."""
    the_world = world or SandboxWorld()
    result: dict[str, RunningSandboxes] = {}

    async def setup() -> Callable[[], Awaitable[None]]:
        running, stop = await serve(the_world, ports or {"tiktok": 0, "shopify": 0, "control": 0})
        result["running"] = running
        return stop

    thread = ServerThread(setup)
    with thread.running():
        yield result["running"], thread
