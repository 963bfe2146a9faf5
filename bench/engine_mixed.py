"""Mixed load on the Standard plan (issue 14): new orders while the merchant bulk-fulfils.

2 paid orders/s for 5 minutes from a driver process, while the same process, as the
merchant, fulfils 10 released orders at once every 30 s (USPS tracking numbers valid for
the carrier). Shopify is on the Standard preset (100 points/s, bucket 1000, as the sandbox
reports it), so both streams share one budget, as they do in a shop.

Fulfilment needs released orders, and TikTok holds an order for an hour after payment. So
a pool of orders is placed first and mirrored (created and held), then both clocks jump
an hour and a minute (``Stack.advance``: the sandbox's timers end ON_HOLD, the engine's
release rule comes due) and the engine releases the pool. Only then does the measured
window start, with a full bucket. Orders placed in the window stay in their remorse hour:
the mix is what the issue names, new orders + fulfilments (steady-state releases, an hour
after each order, are not in it). One more batch, released with the pool, is fulfilled on
its own before the window, on an idle budget: the Shopify points it costs per order
(fulfilment, tracking pushed, and every webhook our own actions cause worked) is the
window's demand per fulfilled order, independent of the machine's speed.

Goals, each from the sandboxes' instants: p99 TikTok order created -> Shopify order created
<= 2 s; p99 Shopify fulfilment created -> TikTok package shipped (the tracking arrived) <= 5 s.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from bench.clients import Result
from bench.engine import _place_at_rate, _secs, _until
from bench.engine_stack import BENCH_SKUS, Stack, cpu_seconds, engine_stack
from bench.facts import Instants, cost_delta, costs, drive, instants, plan
from bench.stats import Goal, percentile, seconds_between
from orderbridge.devkit import usps_number

PER_SECOND = 2.0
WINDOW, BATCH, EVERY = 300, 10, 30.0  # seconds of orders; orders per bulk fulfilment; seconds apart
QUICK_WINDOW, QUICK_BATCH, QUICK_EVERY = 45, 5, 15.0
ORDER_GOAL, TRACKING_GOAL = 2.0, 5.0  # p99 seconds
REMORSE_PASSED = 3600.0 + 60.0  # TikTok's ON_HOLD hour and a minute
POOL_RATE = 5.0  # orders/s while the pool is placed (not measured)
SETTLE_SECONDS = 240.0  # the pool mirrored, then released; the window's last tracking pushed
TRACKING_SERIAL = 22319750000  # USPS serials of the merchant's tracking numbers
ALONE_SERIAL = 22319740000  # ... and of the batch fulfilled alone, before the window
QUIET_SECONDS = 3.0  # no Shopify request for this long: the engine has caught up
ECHO_SECONDS = 10.0  # after the batch's last tracking arrived: the echoes' passes are done


async def mixed_load(quick: bool) -> Result:
    window, batch, every = (QUICK_WINDOW, QUICK_BATCH, QUICK_EVERY) if quick else (WINDOW, BATCH, EVERY)
    pool_size = batch * math.ceil(window / every)
    count = int(window * PER_SECOND)
    solo = batch  # fulfilled on their own before the window: the points one fulfilment costs
    async with engine_stack() as st:
        await st.control.shopify_shop_settings(st.domain, plan="standard", bucket_size=1000, create_cap=0)
        reported = await plan(st.control, st.domain)
        placed_pool = list(await _place_at_rate(st, pool_size + solo, POOL_RATE))
        pool, first = placed_pool[:pool_size], placed_pool[pool_size:]
        if not await _until(lambda: all(o in st.tap.created for o in placed_pool)
                            and len(st.tap.held) >= len(placed_pool), SETTLE_SECONDS):
            raise RuntimeError("the pool was not mirrored")
        await st.advance(REMORSE_PASSED)
        if not await _until(lambda: len(st.tap.released) >= len(placed_pool), SETTLE_SECONDS):
            raise RuntimeError(f"the pool was not released: {len(st.tap.released)}/{len(placed_pool)}")
        await _until_quiet(st)  # the releases' own reads and echoes are done
        per_fulfilment = await _points_per_fulfilment(st, first)
        await _until_quiet(st)
        before = await instants(st.control, st.shop_id, st.domain)
        pool_gids = [before.shopify_ids[o] for o in pool]
        # Start on a full bucket, as after any quiet spell, so runs compare.
        await asyncio.sleep(float(reported["bucket_size"]) / float(reported["restore_rate"]))
        costs0, cpu0, began = await costs(st.control, st.domain), cpu_seconds(), time.monotonic()
        driven = await drive(st.info["control_url"], st.shop_id, BENCH_SKUS, count, PER_SECOND, fulfil={
            "orders": pool_gids, "batch": batch, "every": every, "serial": TRACKING_SERIAL})
        placed = driven["placed"]
        await _until(lambda: all(o in st.tap.created for o in placed), SETTLE_SECONDS)
        cpu, wall = cpu_seconds() - cpu0, time.monotonic() - began
        seen = await _until_shipped(st, pool)
        spent = cost_delta(costs0, await costs(st.control, st.domain))
    to_order = seconds_between({o: seen.placed[o] for o in placed if o in seen.placed}, seen.created, st.rate)
    tiktok_of = {gid: oid for oid, gid in seen.shopify_ids.items()}
    fulfilled = [tiktok_of[f["order"]] for f in driven["fulfilled"]]
    to_tracking = seconds_between({o: seen.fulfilled[o] for o in fulfilled if o in seen.fulfilled}, seen.shipped,
                                  st.rate)
    goals = [Goal("mixed load p99, order created -> Shopify order", percentile(to_order, 0.99), ORDER_GOAL, "s",
                  at_most=True),
             Goal("mixed load p99, Shopify fulfilment -> TikTok tracking", percentile(to_tracking, 0.99),
                  TRACKING_GOAL, "s", at_most=True)]
    figures = _figures(window, count, pool_size, batch, every, driven, to_order, to_tracking, spent, cpu, wall)
    figures["Shopify points per bulk-fulfilled order (one batch alone, before the window)"] = per_fulfilment
    # The same measure for the pool, placed before the window at POOL_RATE with nothing else
    # going on: tells the window's queueing apart from the engine's pace on an idle budget.
    alone = seconds_between({o: seen.placed[o] for o in pool}, seen.created, st.rate)
    figures["for comparison, the pool alone: order created -> Shopify order p50 / p99"] = (
        f"{_secs(alone, 0.5)} / {_secs(alone, 0.99)} s ({pool_size} orders at {POOL_RATE:g}/s)")
    about = (f"{count} paid orders at {PER_SECOND:g}/s for {window} s from a driver process while, as the "
             f"merchant, it fulfils {batch} released orders at once every {every:g} s (USPS tracking). "
             f"Shopify on the plan the sandbox reports: {reported['plan']}, {reported['restore_rate']:g} "
             f"points/s, bucket {reported['bucket_size']:g}. The {pool_size} fulfilled orders were placed, "
             "mirrored and held before the window; both clocks then jumped an hour and a minute and the "
             "engine released them; the window starts on a full bucket. Times are the sandboxes' instants "
             "(one clock): TikTok order created -> Shopify order created, and Shopify fulfilment created "
             "-> TikTok package shipped (the tracking arrived). No injected latency.")
    return Result(f"Engine mixed load: {PER_SECOND:g} orders/s + bulk fulfilment, Shopify "
                  f"{reported['plan']} plan", figures,
                  "python -m bench --only mixed" + (" --quick" if quick else ""), goals, about)


async def _points_per_fulfilment(st: Stack, orders: list[str]) -> str:
    """Fulfil ``orders`` at once on an idle budget and price it: the Shopify points charged
    from the fulfilment until its tracking reached TikTok and the echoes (webhooks our own
    actions cause) were worked, per order. CPU-independent, unlike the latencies."""
    seen = await instants(st.control, st.shop_id, st.domain)
    costs0 = await costs(st.control, st.domain)
    for index, order_id in enumerate(orders):
        await st.control.fulfil(seen.shopify_ids[order_id], "USPS", usps_number(ALONE_SERIAL + index))
    await _until_shipped(st, orders)
    await asyncio.sleep(ECHO_SECONDS)
    spent = cost_delta(costs0, await costs(st.control, st.domain))
    points = sum(r["actual_points"] for r in spent.values())
    return (f"{points / len(orders):.1f} ({len(orders)} orders; by operation: "
            + ", ".join(f"{op} {r['requests']} requests {r['actual_points']} points" for op, r in
                        sorted(spent.items(), key=lambda x: -x[1]["actual_points"])) + ")")


async def _until_quiet(st: Stack) -> None:
    """Until the engine has sent Shopify nothing for QUIET_SECONDS (or SETTLE_SECONDS passed):
    what came before (the pool's releases, ~60 points each) is not charged to what follows."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        sent = sum(r["requests"] for r in (await costs(st.control, st.domain)).values())
        if sent != last:
            last, quiet_since = sent, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return
        await asyncio.sleep(0.5)


async def _until_shipped(st: Stack, pool: list[str]) -> Instants:
    """The sandboxes' instants once every fulfilled pool order's tracking reached TikTok
    (or SETTLE_SECONDS passed)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        seen = await instants(st.control, st.shop_id, st.domain)
        pending = [o for o in pool if o in seen.fulfilled and o not in seen.shipped]
        if not pending or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(1.0)


def _figures(window: int, count: int, pool_size: int, batch: int, every: float, driven: dict[str, Any],
             to_order: list[float], to_tracking: list[float], spent: dict[str, dict[str, int]], cpu: float,
             wall: float) -> dict[str, Any]:
    points = sum(r["actual_points"] for r in spent.values())
    return {
        "new orders": f"{count} at {PER_SECOND:g}/s for {window} s (driver at worst "
                      f"{driven['behind_max']:.2f} s behind)",
        "bulk fulfilments": f"{len(driven['fulfilled'])} orders, {batch} every {every:g} s (pool {pool_size})",
        "mirrored": f"{len(to_order)}/{count}",
        "order created -> Shopify order: p50 / p99 (goal ≤ 2 s) / max": (
            f"{_secs(to_order, 0.5)} / {_secs(to_order, 0.99)} / {_secs(to_order, 1.0)} s"),
        "tracking arrived": f"{len(to_tracking)}/{len(driven['fulfilled'])}",
        "Shopify fulfilment -> TikTok tracking: p50 / p99 (goal ≤ 5 s) / max": (
            f"{_secs(to_tracking, 0.5)} / {_secs(to_tracking, 0.99)} / {_secs(to_tracking, 1.0)} s"),
        "Shopify points charged in the window": (
            f"{points} ({points / wall:.0f}/s over {wall:.0f} s; by operation: "
            + ", ".join(f"{op} {r['actual_points']}" for op, r in
                        sorted(spent.items(), key=lambda x: -x[1]["actual_points"])) + ")"),
        "throttled requests": sum(r["throttled"] for r in spent.values()),
        "engine CPU per new order (fulfilments included)": (
            f"{cpu / count * 1000:.1f} ms, {cpu / wall * 100:.0f} % of one core"),
    }
