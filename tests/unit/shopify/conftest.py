"""Fakes for the Shopify client tests: a fake monotonic clock + sleep, and a scripted server."""

from __future__ import annotations

import asyncio
import heapq
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.shopify import ShopifyClient, ThrottleRegistry
from orderbridge.clock import ManualClock

SHOP = "example.myshopify.com"
TOKEN = "shpat_test_token"

T = TypeVar("T")
READY_ROUNDS = 20
MAX_IDLE_ROUNDS = 50

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


class FakeTime:
    """Virtual time: ``sleep`` parks the caller until ``run`` moves the clock to its deadline.

    ``run`` lets every ready task go before advancing time to the earliest sleeper, so
    requests that arrive "during" a wait are seen as they would be in real time.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), self._seq, future))
        await future

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` while driving virtual time."""
        task = asyncio.ensure_future(awaitable)
        idle = 0
        while not task.done():
            for _ in range(READY_ROUNDS):
                await asyncio.sleep(0)
            if task.done():
                break
            if self._sleepers:
                idle = 0
                deadline, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, deadline)
                if not future.done():
                    future.set_result(None)
            else:
                idle += 1
                if idle > MAX_IDLE_ROUNDS:
                    task.cancel()
                    raise AssertionError("deadlock: nothing sleeps and the task does not finish")
        return task.result()


def cost_ext(
    *, available: float = 990.0, maximum: float = 1000.0, rate: float = 50.0, requested: float = 10.0,
    actual: float | None = 10.0,
) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
        }
    }


def gql(data: Any = None, *, errors: Any = None, status: int = 200, request_id: str = "req-1",
        extensions: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"extensions": extensions if extensions is not None else cost_ext()}
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"X-Request-Id": request_id, **(headers or {})})


class Server:
    """Replies with the scripted responses in order and keeps every request."""

    def __init__(self, time: FakeTime) -> None:
        self.replies: list[Reply] = []
        self.requests: list[httpx.Request] = []
        self.sent_at: list[float] = []
        self.time = time

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(self.time.now)
        if not self.replies:
            raise AssertionError("unexpected request")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)


class Harness:
    def __init__(self) -> None:
        self.time = FakeTime()
        self.server = Server(self.time)
        self.recorder = MemoryRecorder()
        self.registry = ThrottleRegistry(monotonic=self.time.monotonic, sleep=self.time.sleep)
        self._http: list[httpx.AsyncClient] = []

    def client(self, **kw: Any) -> ShopifyClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.server.handler))
        self._http.append(http)
        options: dict[str, Any] = {
            "shop_domain": SHOP,
            "access_token": TOKEN,
            "http": http,
            "recorder": self.recorder,
            "registry": self.registry,
            "clock": ManualClock(),
            "rng": random.Random(7),
        }
        options.update(kw)
        return ShopifyClient(**options)

    async def close(self) -> None:
        for http in self._http:
            await http.aclose()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    await h.close()
