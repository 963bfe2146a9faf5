"""Flash sale: N paid orders placed within one minute, Shopify on the Standard preset.

Every order is paid and stays inside TikTok's one-hour remorse window (clock at real
speed), so its minimal path is: ``orderCreate``, one ``Order`` read (the fulfilment orders
appear after the order, their ids are needed) and one ``fulfillmentOrderHold``. The
ceiling is what the bucket allows for that path, with the actual query costs measured in
this run: (N x minimal points per order - the full bucket at the start) / restore rate.

Also measured here: the engine's CPU time per order (this process; the sandboxes run in a
child process) and its memory (peak RSS, and RSS after 20 % of the orders vs at the end).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from collections import Counter
from typing import Any

from bench.clients import Result
from bench.engine import _place_at_rate
from bench.engine_stack import Stack, cpu_seconds, engine_stack, rss_mb

RESTORE_RATE = 100.0  # Standard preset, points per second
BUCKET = 1000.0
MINIMAL_MUTATIONS = {"orderCreate": 1, "fulfillmentOrderHold": 1}


def _mean_cost(st: Stack, operation: str) -> float:
    costs = [c for op, ok, c in st.tap.calls if op == operation and ok and c > 0]
    return statistics.fmean(costs) if costs else 0.0


def _mirrored(st: Stack) -> int:
    """Orders created and held (one fulfilment order each at one location)."""
    return min(len(st.tap.created), len(st.tap.held))


# Give up when nothing was created or held for this long (a stuck engine, not a slow one).
STALL_SECONDS = 90.0


async def _until_mirrored(st: Stack, count: int, on_fifth: dict[str, float]) -> bool:
    seen, last_change = -1, time.monotonic()
    while True:
        now_mirrored = len(st.tap.created) + len(st.tap.held)
        if now_mirrored != seen:
            seen, last_change = now_mirrored, time.monotonic()
        if not on_fifth and _mirrored(st) >= count // 5:
            on_fifth["rss"] = rss_mb()
        if _mirrored(st) >= count:
            return True
        if time.monotonic() - last_change > STALL_SECONDS:
            return False
        await asyncio.sleep(0.2)


async def flash_sale(quick: bool, orders: int | None = None) -> Result:
    count = orders or (300 if quick else 5000)
    window = 60.0 * count / 5000  # the same placement rate (83/s) in a quick run
    async with engine_stack() as st:
        await st.control.shopify_shop_settings(st.domain, plan="standard", bucket_size=int(BUCKET), create_cap=0)
        calls_before = len(st.tap.calls)
        rss_start, cpu0, began = rss_mb(), cpu_seconds(), time.monotonic()
        placed = await _place_at_rate(st, count, count / window)
        placing = time.monotonic() - began
        fifth: dict[str, float] = {}
        done = await _until_mirrored(st, count, fifth)
        cpu = cpu_seconds() - cpu0
        # Orders still due (e.g. the read after the hold) finish their pass.
        await asyncio.sleep(5)
        last = max([*st.tap.created.values(), *st.tap.held.values()], default=began)
        elapsed = last - began
        rss_end = rss_mb()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = await st.control.mutation_counts(shop=st.domain)
        shopify_orders = await st.control.shopify_orders(shop=st.domain)
        figures = _figures(st, count, placing, elapsed, done, counts, shopify_orders, placed, calls_before)
        figures.update({
            "engine CPU per order": f"{cpu / count * 1000:.1f} ms ({cpu:.0f} s CPU for {count} orders)",
            "engine peak RSS (ru_maxrss)": f"{peak:.0f} MB",
            "engine RSS: start / after 20 % / end": (
                f"{rss_start:.0f} / {fifth.get('rss', float('nan')):.0f} / {rss_end:.0f} MB"),
        })
    return Result(f"Engine flash sale: {count} orders in {window:.0f} s, Shopify Standard preset "
                  f"({RESTORE_RATE:g} points/s, bucket {BUCKET:g})", figures,
                  "python -m bench --only flash" + (" --quick" if quick else "")
                  + (f" --flash-orders {orders}" if orders else ""))


def _figures(st: Stack, count: int, placing: float, elapsed: float, done: bool, counts: dict[str, Any],
             orders: list[dict[str, Any]], placed: dict[str, Any], calls_before: int) -> dict[str, Any]:
    create, read, hold = (_mean_cost(st, op) for op in ("OrderCreate", "Order", "FulfillmentOrderHold"))
    minimal = create + read + hold
    ceiling_s = max(0.0, (count * minimal - BUCKET) / RESTORE_RATE)
    calls = Counter(op for op, ok, _ in st.tap.calls[calls_before:])
    spent = sum(c for _, ok, c in st.tap.calls[calls_before:])
    per_source = Counter(str(o.get("source_identifier")) for o in orders)
    lost = [oid for oid in placed if per_source.get(oid, 0) == 0]
    doubled = [oid for oid in placed if per_source.get(oid, 0) > 1]
    per_order = counts.get("per_order", {})
    mutations = [sum(fields.values()) for fields in per_order.values()]
    extra = Counter(f for fields in per_order.values() for f, n in fields.items()
                    if n > MINIMAL_MUTATIONS.get(f, 0))
    rate = count / elapsed if elapsed else 0.0
    ceiling_rate = count / ceiling_s if ceiling_s else float("inf")
    return {
        "orders placed": f"{count} in {placing:.1f} s",
        "all mirrored (created + held)": "yes" if done else f"no: {_mirrored(st)} (timed out)",
        "first placed -> last mirrored": f"{elapsed:.1f} s",
        "orders mirrored per second": f"{rate:.2f}",
        "measured cost per order (create + read + hold)": f"{create:g} + {read:g} + {hold:g} = {minimal:g} points",
        "ceiling": f"{ceiling_rate:.2f} orders/s ({ceiling_s:.0f} s for {count} orders)",
        "share of ceiling (goal ≥ 90 %)": f"{100 * rate / ceiling_rate:.1f} %",
        "points spent per order (all Shopify calls)": f"{spent / count:.1f}",
        "Shopify calls per order": ", ".join(f"{op} {n / count:.2f}" for op, n in calls.most_common()),
        "lost / duplicated orders": f"{len(lost)} / {len(doubled)}",
        "mutations per order (minimum 2)": (
            f"mean {statistics.fmean(mutations):.2f}, max {max(mutations)}" if mutations else "n/a"),
        "mutations beyond the minimum": dict(extra) or "none",
    }
