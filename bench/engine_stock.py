"""Live burst: a product with 50 units, 200 TikTok buyers within 30 s while the Shopify store
sells 10 more (issue 12): does anyone oversell, and how late does TikTok's number follow
Shopify's stock?

The whole engine runs as in production (``engine_stack``: webhooks, workers, the stock
pusher of ``orderbridge run``), the clock at real speed. Oversell is counted from the
sandboxes' answers: orders TikTok accepted plus sales the store accepted, against the 50
units. Lag is on the sandbox clock: from each Shopify stock change of the SKU (the
``inventory_levels/update`` Shopify emitted, whatever caused it: a store sale, or the
engine's own order claiming stock) to the next quantity TikTok's Update Inventory wrote for
the SKU (``GET /tiktok/instants``).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

from bench.clients import Result
from bench.engine_stack import Stack, engine_stack
from bench.stats import percentile, stock_lags
from orderbridge.adapters.db import stock as stock_db
from orderbridge.adapters.db import transaction
from orderbridge.devkit import SandboxError
from orderbridge.engine.policy_store import set_policy
from orderbridge.engine.skus import import_catalogues

LIVE_SKU = "LIVE-BOWL"
FULL: dict[str, Any] = {"units": 50, "buyers": 200, "seconds": 30.0, "store_sales": 10}
QUICK: dict[str, Any] = {"units": 20, "buyers": 40, "seconds": 8.0, "store_sales": 4}
SETTLE_SECONDS = 20.0
# What a seller running a live sale is advised to set (docs/configuration.md#stock-shopify-to-tiktok):
# a one-unit buffer covers an order TikTok accepts while a push is in flight, a 1 s window
# keeps a store sale from waiting long behind the pushes the burst's own orders cause.
LIVE_POLICY = {"buffer_units": 1, "debounce_seconds": 1}


async def _live_product(st: Stack, units: int) -> tuple[str, str]:
    set_policy(st.services, st.connection, "stock", json.dumps(LIVE_POLICY))
    return await _stocked(st, units)


async def _stocked(st: Stack, units: int) -> tuple[str, str]:
    """A TikTok product (default 500 units there) and a Shopify variant with ``units``; the
    initial sync pushes Shopify's number. Returns (TikTok SKU id, Shopify inventory item)."""
    product = await st.control.call("POST", f"/tiktok/shops/{st.shop_id}/products", {
        "title": "Live bowl", "skus": [{"name": LIVE_SKU, "seller_sku": LIVE_SKU, "price": "20.00", "stock": 500}]})
    sku_id = str(product["skus"][0]["id"])
    await st.control.call("POST", f"/shopify/shops/{st.domain}/variants",
                          {"sku": LIVE_SKU, "title": LIVE_SKU, "price": "20.00", "available": units})
    await import_catalogues(st.services, st.connection)
    with transaction(st.services.db) as conn:
        linked = [s for s in stock_db.linked_skus(conn, st.connection.id) if s.tiktok_sku_id == sku_id]
        stock_db.mark_due(conn, linked, now=st.clock.now(), due=st.clock.now())
    await _until(lambda: _tiktok_units(st, sku_id), lambda n: n == units - LIVE_POLICY["buffer_units"], 30.0)
    return sku_id, str(linked[0].inventory_item_id)


async def _tiktok_units(st: Stack, sku_id: str) -> int:
    for product in await st.control.tiktok_products(st.shop_id):
        for sku in product["skus"]:
            if sku["id"] == sku_id:
                return sum(int(i["quantity"]) for i in sku["inventory"])
    return -1


async def _until(read: Any, ok: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ok(await read()):
            return True
        await asyncio.sleep(0.1)
    return False


async def _burst(st: Stack, size: dict[str, Any]) -> tuple[int, int]:
    """Buyers and store sales spread over the window; (TikTok units sold, store units sold)."""
    sold = {"tiktok": 0, "store": 0}
    began = time.monotonic()

    async def buyer(n: int) -> None:
        await asyncio.sleep(max(0.0, began + n * size["seconds"] / size["buyers"] - time.monotonic()))
        try:
            await st.control.place_order(items=[{"seller_sku": LIVE_SKU, "units": 1}], shop=st.shop_id)
            sold["tiktok"] += 1
        except SandboxError:
            pass  # TikTok refused: out of stock there

    async def store(n: int) -> None:
        await asyncio.sleep(max(0.0, began + (n + 0.5) * size["seconds"] / size["store_sales"] - time.monotonic()))
        try:
            await st.control.merchant_sale(st.domain, LIVE_SKU, 1)
            sold["store"] += 1
        except SandboxError:
            pass  # the store refused: nothing left in Shopify

    await asyncio.gather(*(buyer(n) for n in range(size["buyers"])),
                         *(store(n) for n in range(size["store_sales"])))
    return sold["tiktok"], sold["store"]


async def _changes(st: Stack, item_gid: str) -> list[tuple[datetime, str]]:
    """Shopify's stock changes of the item: when each inventory_levels/update was emitted."""
    number = item_gid.rsplit("/", 1)[-1]
    found: dict[str, datetime] = {}
    for row in await st.control.deliveries(sandbox="shopify", topic="inventory_levels/update"):
        body = json.loads((await st.control.delivery(row["id"]))["body"])
        if str(body.get("inventory_item_id")) == number:
            headers = {k.lower(): v for k, v in row["headers"].items()}
            key = headers.get("x-shopify-event-id") or str(row["id"])  # one per change, not per attempt
            at = datetime.fromisoformat(row["created_at"])
            found[key] = min(at, found.get(key, at))
    return [(at, "sku") for at in found.values()]


async def live_burst(quick: bool) -> Result:
    size = QUICK if quick else FULL
    async with engine_stack() as st:
        sku_id, item = await _live_product(st, size["units"])
        start_updates = len((await st.control.call("GET", "/tiktok/instants", shop=st.shop_id))["stock_updates"])
        tiktok_sold, store_sold = await _burst(st, size)
        # Let the engine mirror the last orders and push the last number.
        await asyncio.sleep(SETTLE_SECONDS)
        final_tiktok = await _tiktok_units(st, sku_id)
        seen = await st.control.call("GET", "/tiktok/instants", shop=st.shop_id)
        updates = [(datetime.fromisoformat(u["at"]), "sku") for u in seen["stock_updates"][start_updates:]
                   if u["sku_id"] == sku_id]
        changes = await _changes(st, item)
    lags, missed = stock_lags(changes, updates)
    sold = tiktok_sold + store_sold
    oversold = max(0, sold - size["units"])
    p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
    figures = {
        "stock": f"{size['units']} units", "policy.stock": json.dumps(LIVE_POLICY), "TikTok buyers": f"{size['buyers']} within {size['seconds']:g} s",
        "store sales tried": size["store_sales"], "sold on TikTok": tiktok_sold, "sold by the store": store_sold,
        "oversold (goal 0)": oversold, "TikTok's number at the end": final_tiktok,
        "Shopify stock changes": len(changes), "TikTok updates": len(updates),
        "lag p50": f"{p50:.3f} s", "lag p99": f"{p99:.3f} s",
        "changes with no later update": missed,
    }
    about = ("A product with the stock below in Shopify; TikTok starts at its 500 and is synced first. "
             "Buyers place one-unit orders on TikTok evenly over the window while the store sells "
             "units itself; the engine (`orderbridge run`, SQLite) mirrors the orders and pushes "
             "Shopify's stock with the policy shown (a one-unit buffer, a 1 s debounce). Lag: sandbox clock, from each `inventory_levels/update` "
             "Shopify emitted for the SKU to the next quantity TikTok's Update Inventory wrote.")
    return Result("Live burst: Shopify stock -> TikTok", figures,
                  "python -m bench --only stock" + (" --quick" if quick else ""), [], about)


def run(quick: bool = False) -> list[Result]:
    return [asyncio.run(live_burst(quick))]
