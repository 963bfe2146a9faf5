"""Sandboxes served over real HTTP from a background thread, with clients pointed at them."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.calls import ApiCall, MemoryRecorder
from orderbridge.adapters.retry import Runtime
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.clock import ScaledClock
from orderbridge.devkit import (
    ControlClient,
    amazon_mcf_client,
    shipbob_client,
    shopify_client,
    tiktok_client,
)
from orderbridge.sandbox.runner import RunningSandboxes, SandboxWorld, running_sandboxes

# A Monday morning, US Pacific business hours.
T0 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)


@dataclass
class Kit:
    running: RunningSandboxes
    info: dict[str, Any]
    http: httpx.AsyncClient
    control: ControlClient
    tiktok: TikTokClient
    shopify: ShopifyClient
    recorder: MemoryRecorder

    @property
    def world(self) -> SandboxWorld:
        return self.running.world


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def served() -> Iterator[RunningSandboxes]:
    world = SandboxWorld(seed=1, start=T0, rate=0.0)  # frozen: tests move time explicitly
    with running_sandboxes(world) as (running, _thread):
        yield running


@pytest.fixture
async def kit(served: RunningSandboxes) -> AsyncIterator[Kit]:
    info = served.info()
    recorder = MemoryRecorder()
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield Kit(
            running=served,
            info=info,
            http=http,
            control=ControlClient(info["control_url"], http),
            tiktok=tiktok_client(info, http, served.world.clock, recorder=recorder, sleep=_no_sleep),
            shopify=shopify_client(info, http, recorder=recorder),
            recorder=recorder,
        )


@dataclass
class Warehouses:
    """The 3PL sandboxes with clients on the sandbox's frozen clock: waiting (back-off,
    limiter) advances that clock, so quotas refill exactly as they would in real time."""

    running: RunningSandboxes
    info: dict[str, Any]
    control: ControlClient
    runtime: Runtime
    recorder: MemoryRecorder
    sleeps: list[float]
    http: httpx.AsyncClient

    @property
    def clock(self) -> ScaledClock:
        return self.running.world.clock

    def mcf(self, **options: Any) -> AmazonMcfClient:
        return amazon_mcf_client(self.info, self.http, self.runtime, **options)

    def shipbob(self, **options: Any) -> ShipBobClient:
        return shipbob_client(self.info, self.http, self.runtime, **options)

    def calls(self, operation: str) -> list[ApiCall]:
        return [c for c in self.recorder.calls if c.operation == operation]


@pytest.fixture
async def tpl(served: RunningSandboxes) -> AsyncIterator[Warehouses]:
    info = served.info()
    clock = served.world.clock
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    recorder = MemoryRecorder()
    runtime = Runtime(clock=lambda: clock.now().timestamp(), monotonic=lambda: clock.now().timestamp(),
                      sleep=sleep, random=lambda: 0.5, recorder=recorder)
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield Warehouses(served, info, ControlClient(info["control_url"], http), runtime, recorder, sleeps, http)
