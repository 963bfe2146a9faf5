"""Builds and serves every sandbox: TikTok Shop, Shopify, Amazon MCF, ShipBob and the control API.

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
from orderbridge.sandbox.amazon_mcf import AmazonMcfSandbox
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.server import ServedApp, ServerGroup, ServerThread
from orderbridge.sandbox.control import build_control_app
from orderbridge.sandbox.shipbob import ShipBobSandbox
from orderbridge.sandbox.shopify import ShopifySandbox
from orderbridge.sandbox.tiktok import TikTokSandbox

__all__ = ["DEFAULT_PORTS", "RunningSandboxes", "SandboxWorld", "running_sandboxes"]

# Fixed defaults so a person can remember them; 0 means "any free port" (tests).
DEFAULT_PORTS = {"tiktok": 9001, "shopify": 9002, "amazon_mcf": 9003, "shipbob": 9004, "control": 9000}


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
    amazon_mcf: AmazonMcfSandbox = field(init=False)
    shipbob: ShipBobSandbox = field(init=False)

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
        self.amazon_mcf = AmazonMcfSandbox(
            clock=self.clock, scheduler=self.scheduler, faults=self.faults, seed=self.seed
        )
        self.shipbob = ShipBobSandbox(
            clock=self.clock, scheduler=self.scheduler, faults=self.faults, seed=self.seed
        )

    @property
    def parts(self) -> list[Any]:
        """Every sandbox, in serving order (each has a name, an app and a control router)."""
        return [self.tiktok, self.shopify, self.amazon_mcf, self.shipbob]


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
            "amazon_mcf": self.world.amazon_mcf.info(self.urls["amazon_mcf"]),
            "shipbob": self.world.shipbob.info(self.urls["shipbob"]),
        }

    def write_info(self, path: Path) -> None:
        """The info file (URLs, and the app secrets and tokens of the sandboxes: mode 0600)."""
        write_private(path, json.dumps(self.info(), indent=2, sort_keys=True) + "\n")


async def serve(
    world: SandboxWorld, ports: dict[str, int] | None = None, host: str = "127.0.0.1"
) -> tuple[RunningSandboxes, Callable[[], Awaitable[None]]]:
    """Start every sandbox in the running loop; returns the handle and a stop function.

    ``ports`` None = the default ports; a sandbox missing from a given ``ports`` gets any
    free port (so callers that pick free ports stay free of collisions as sandboxes are added).
    """
    chosen = dict(DEFAULT_PORTS) if ports is None else {name: ports.get(name, 0) for name in DEFAULT_PORTS}
    holder: dict[str, RunningSandboxes] = {}
    control = build_control_app(
        clock=world.clock, scheduler=world.scheduler, faults=world.faults,
        parts=world.parts, info=lambda: holder["running"].info(),
    )
    group = ServerGroup([
        *(ServedApp(part.name, part.app, host, chosen[part.name]) for part in world.parts),
        ServedApp("control", control, host, chosen["control"]),
    ])
    for part in world.parts:
        await part.start()
    await group.start()
    running = RunningSandboxes(world, group.urls())
    holder["running"] = running
    ticker = asyncio.create_task(world.scheduler.run(), name="sandbox scheduler")

    async def stop() -> None:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await group.stop()
        for part in world.parts:
            await part.stop()
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
        running, stop = await serve(the_world, ports or {})
        result["running"] = running
        return stop

    thread = ServerThread(setup)
    with thread.running():
        yield result["running"], thread
