"""Benchmarks of the API clients against the sandboxes over real HTTP (loopback).

- TikTok: latency of signed Get Order Detail calls (50 ids a call), sequential.
- Shopify: orderCreate throughput on the Standard plan preset (100 points/s restore,
  bucket 1000) with 20 concurrent callers, against the ceiling the restore rate allows for
  the measured cost per create; and how many requests Shopify throttled (the client waits
  before sending, so this should be 0 or near it).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bench.stats import Goal, percentile
from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.shopify import LineItemSpec, OrderSpec, ThrottleRegistry
from orderbridge.devkit import ControlClient, shopify_client, tiktok_client
from orderbridge.sandbox.runner import SandboxWorld, running_sandboxes

START = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)


@dataclass
class Result:
    """One benchmark's figures, the goals it checks (each a ratio in this run) and the
    command that reproduces it."""

    name: str
    figures: dict[str, Any]
    command: str = "make bench"
    goals: list[Goal] = field(default_factory=list)
    about: str = ""  # what was run, how it was timed (Markdown, printed above the table)


def _pct(values: list[float], q: float) -> float:
    return percentile(values, q)


async def _tiktok_latency(info: dict[str, Any], world: SandboxWorld, calls: int) -> Result:
    async with httpx.AsyncClient(timeout=10) as http:
        control = ControlClient(info["control_url"], http)
        ids = [(await control.place_order(items=[{"seller_sku": "BOWL-WHT", "units": 2}]))["id"] for _ in range(50)]
        client = tiktok_client(info, http, world.clock)
        await client.get_orders(ids)  # warm up
        samples = []
        for _ in range(calls):
            began = time.perf_counter()
            orders = await client.get_orders(ids)
            samples.append((time.perf_counter() - began) * 1000)
            assert len(orders) == len(ids)
    return Result("TikTok Get Order Detail, 50 orders a call, signed, loopback", {
        "calls": calls, "p50_ms": round(_pct(samples, 0.5), 2), "p99_ms": round(_pct(samples, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
    }, "python -m bench --only clients")


async def _shopify_throughput(info: dict[str, Any], orders: int, concurrency: int) -> Result:
    recorder = MemoryRecorder()
    async with httpx.AsyncClient(timeout=30) as http:
        control = ControlClient(info["control_url"], http)
        domain = info["shopify"]["shops"][0]["domain"]
        await control.shopify_shop_settings(domain, plan="standard", bucket_size=1000)
        # The ceiling from the plan the sandbox reports, not from figures written here.
        reported = await control.call("GET", f"/shopify/shops/{domain}/settings")
        client = shopify_client(info, http, recorder=recorder, registry=ThrottleRegistry())
        [variant] = await client.find_variants_by_sku("BOWL-WHT")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(orders):
            queue.put_nowait(n)

        async def caller() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                await client.create_order(OrderSpec(
                    currency="USD", processed_at=START - timedelta(minutes=1), source_identifier=f"bench-{n}",
                    line_items=[LineItemSpec(quantity=1, unit_price=Decimal("18.00"), variant_id=variant.id)],
                    tags=[f"tiktok-bench-{n}"],
                ))

        began = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    restore, bucket = float(reported["restore_rate"]), float(reported["bucket_size"])
    creates = [c for c in recorder.calls if c.operation == "orderCreate"]
    throttled = [c for c in recorder.calls if (c.code or "").upper() == "THROTTLED" or c.status == 429]
    costs = [float(c.details.get("actual_cost") or c.details.get("cost") or 0) for c in creates if c.ok]
    cost = statistics.fmean([c for c in costs if c > 0]) if any(costs) else 10.0
    # The bucket's points are there at the start; after that the restore rate rules.
    ceiling_elapsed = max(0.0, (orders * cost - bucket) / restore)
    return Result(f"Shopify orderCreate, {reported['plan']} plan ({restore:g} pts/s, bucket {bucket:g}), 20 callers", {
        "orders": orders, "seconds": round(elapsed, 2), "orders_per_s": round(orders / elapsed, 2),
        "cost_per_create": round(cost, 1), "ceiling_seconds": round(ceiling_elapsed, 2),
        "share_of_ceiling": round(ceiling_elapsed / elapsed, 3) if elapsed else None,
        "throttled_responses": len(throttled),
    }, "python -m bench --only clients")


def run(quick: bool = False) -> list[Result]:
    world = SandboxWorld(seed=3, start=START, rate=0.0)
    with running_sandboxes(world) as (running, _thread):
        info = running.info()

        async def main() -> list[Result]:
            return [
                await _tiktok_latency(info, world, 30 if quick else 200),
                await _shopify_throughput(info, 150 if quick else 400, 20),
            ]

        return asyncio.run(main())
