"""What the sandboxes recorded, read through their control API, and the driver process.

Every time and every Shopify point in the engine benchmarks comes from here, not from the
engine: both sandboxes run on one clock in one child process and stamp their own records
(TikTok: order created, package shipped; Shopify: order created, hold placed, fulfilment
created; and the points each request was charged).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from orderbridge.devkit import ControlClient

APP = "orderbridge"
REPO = Path(__file__).resolve().parents[1]
# The leanest read that finds an order's fulfilment orders (ids, and the status that says
# whether a hold can be placed); priced by the sandbox when the run is over.
LEAN_READ = "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status } } } }"


@dataclass
class Instants:
    """Sandbox-clock instants, keyed by TikTok order id."""

    placed: dict[str, datetime] = field(default_factory=dict)  # TikTok created the order
    created: dict[str, datetime] = field(default_factory=dict)  # Shopify order committed
    held: dict[str, datetime] = field(default_factory=dict)  # first hold placed (our app's)
    fulfilled: dict[str, datetime] = field(default_factory=dict)  # first Shopify fulfilment
    shipped: dict[str, datetime] = field(default_factory=dict)  # TikTok package (tracking arrived)
    shopify_ids: dict[str, str] = field(default_factory=dict)  # TikTok id -> Shopify order gid


async def instants(control: ControlClient, shop_id: str, domain: str) -> Instants:
    """Both sandboxes' records for one shop pair."""
    out = Instants()
    tiktok = await control.call("GET", "/tiktok/instants", shop=shop_id)
    for oid, row in tiktok["orders"].items():
        out.placed[oid] = datetime.fromisoformat(row["created"])
    for package in tiktok["packages"]:
        for oid in package["orders"]:
            shipped = datetime.fromisoformat(package["shipped"])
            out.shipped[oid] = min(shipped, out.shipped.get(oid, shipped))
    for row in await control.call("GET", "/shopify/instants", shop=domain):
        oid = str(row["source_identifier"])
        out.shopify_ids[oid] = row["id"]
        out.created[oid] = datetime.fromisoformat(row["created"])
        holds = [datetime.fromisoformat(h["placed"]) for h in row["holds"] if h["placed"]]
        if holds:
            out.held[oid] = min(holds)
        if row["fulfillments"]:
            out.fulfilled[oid] = min(datetime.fromisoformat(f["created"]) for f in row["fulfillments"])
    return out


async def plan(control: ControlClient, domain: str) -> dict[str, Any]:
    """The shop's plan as the Shopify sandbox reports it (restore rate, bucket, cost model)."""
    answer: dict[str, Any] = await control.call("GET", f"/shopify/shops/{domain}/settings")
    return answer


async def costs(control: ControlClient, domain: str) -> dict[str, dict[str, int]]:
    """Our app's requests by root field, as the Shopify sandbox charged them (cumulative)."""
    rows = await control.call("GET", "/shopify/costs", shop=domain)
    return {r["operation"]: {k: int(r[k]) for k in ("requests", "throttled", "actual_points")}
            for r in rows if r["app"] == APP}


def cost_delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """What was charged between two readings of ``costs``."""
    zero = {"requests": 0, "throttled": 0, "actual_points": 0}
    delta = {op: {k: v - before.get(op, zero)[k] for k, v in row.items()} for op, row in after.items()}
    return {op: row for op, row in delta.items() if row["requests"]}


def mean_cost(delta: dict[str, dict[str, int]], operation: str) -> float:
    """Mean points actually charged per executed request of ``operation``."""
    row = delta.get(operation)
    executed = row["requests"] - row["throttled"] if row else 0
    return row["actual_points"] / executed if row and executed else float("nan")


async def cheapest_read(info: dict[str, Any], order_gid: str) -> float:
    """The points the Shopify sandbox charges for ``LEAN_READ`` of one mirrored order."""
    shop = info["shopify"]["shops"][0]
    async with httpx.AsyncClient(timeout=30.0) as http:
        answer = await http.post(shop["graphql_url"], json={"query": LEAN_READ, "variables": {"id": order_gid}},
                                 headers={"X-Shopify-Access-Token": shop["access_token"]})
    body = answer.json()
    if not body.get("data", {}).get("order", {}).get("fulfillmentOrders", {}).get("nodes"):
        raise RuntimeError(f"the lean read found no fulfilment orders: {body}")
    return float(body["extensions"]["cost"]["actualQueryCost"])


async def drive(control_url: str, shop_id: str, skus: Sequence[str], count: int, per_second: float,
                fulfil: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run ``bench/driver.py`` in its own process and return its answer."""
    job = {"control_url": control_url, "shop_id": shop_id, "skus": list(skus), "count": count,
           "per_second": per_second, "fulfil": fulfil}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.driver", json.dumps(job), cwd=REPO,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the driver failed: {stderr.decode()[-2000:]}")
    answer: dict[str, Any] = json.loads(stdout)
    return answer
