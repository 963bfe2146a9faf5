"""The benchmarks' buyers and merchant, in a process of their own (``python -m bench.driver JOB``).

Apart from the engine's process so that its CPU figures are the engine's alone and its
event loop never delays an order being placed. Buyers place paid orders through the
sandbox control API at a steady rate; the merchant (optional) fulfils batches of given
Shopify orders with USPS tracking numbers at a fixed interval, each batch at once, as a
bulk fulfilment in the admin does.

JOB is JSON: ``{"control_url", "shop_id", "skus", "count", "per_second",
"fulfil": {"orders": [gid...], "batch", "every", "serial"} | null}``. The answer, on
stdout, is JSON: the TikTok ids placed, how far behind schedule placement ran at worst,
and the orders fulfilled with their tracking numbers. Timing itself is not taken here:
the sandboxes record every instant.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx

from orderbridge.devkit import ControlClient, usps_number

# Buyers placing orders at once (thousands of queued requests would make httpcore's pool
# scan quadratic and starve the driver).
PLACERS = 8


async def _place(control: ControlClient, job: dict[str, Any], out: dict[str, Any]) -> None:
    count, per_second, skus = int(job["count"]), float(job["per_second"]), job["skus"]
    began = time.monotonic()
    numbers = iter(range(count))

    async def buyer() -> None:
        for n in numbers:
            due = began + n / per_second
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            out["behind_max"] = max(out["behind_max"], time.monotonic() - due)
            order = await control.place_order(items=[{"seller_sku": skus[n % len(skus)], "units": 1}],
                                              shop=job["shop_id"])
            out["placed"].append(str(order["id"]))

    await asyncio.gather(*(buyer() for _ in range(min(PLACERS, count))))
    out["placing_seconds"] = time.monotonic() - began


async def _fulfil(control: ControlClient, job: dict[str, Any], out: dict[str, Any]) -> None:
    orders, batch, every, serial = job["orders"], int(job["batch"]), float(job["every"]), int(job["serial"])
    began = time.monotonic()
    for k, start in enumerate(range(0, len(orders), batch)):
        await asyncio.sleep(max(0.0, began + k * every - time.monotonic()))
        chosen = orders[start:start + batch]

        async def one(i: int, gid: str, first: int = start) -> None:
            number = usps_number(serial + first + i)
            await control.fulfil(gid, "USPS", number)
            out["fulfilled"].append({"order": gid, "tracking": number})

        await asyncio.gather(*(one(i, gid) for i, gid in enumerate(chosen)))


async def drive(job: dict[str, Any]) -> dict[str, Any]:
    """Run the buyers (and the merchant) of ``job``; what they did."""
    out: dict[str, Any] = {"placed": [], "behind_max": 0.0, "fulfilled": [], "placing_seconds": 0.0}
    async with httpx.AsyncClient(timeout=60.0) as http:
        control = ControlClient(job["control_url"], http)
        tasks = [_place(control, job, out)]
        if job.get("fulfil"):
            tasks.append(_fulfil(control, job["fulfil"], out))
        await asyncio.gather(*tasks)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(drive(json.loads(sys.argv[1])))))
