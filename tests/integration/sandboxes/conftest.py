"""Sandboxes served over real HTTP from a background thread, with clients pointed at them."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.devkit import ControlClient, shopify_client, tiktok_client
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
