"""The dashboard at scale: seed many orders in bulk, then time its pages (p50/p95) and memory.

Seeds as many orders as fit in ``SEED_SECONDS`` (up to ``--dashboard-orders``, default a
million) with one multi-row insert per batch (``adapters/db/seed.py``): two connections,
orders spread over 90 days in every state, a tracking number on shipped ones, a seller SKU in
every stored TikTok order, an open exception on one in a hundred. Then drives the real app
in-process (``httpx.ASGITransport``: no sockets, the HTML rendered as for a browser) signed in
as an operator granted one connection (every query scoped), and times:

- **list**: the first page of the order list and the next pages by keyset cursor;
- **list filtered**: by state, and by open exception;
- **search id**: a TikTok order id (indexed);
- **search tracking / SKU**: a tracking number and a seller SKU (the JSON text of memory and
  TikTok order: a scan narrowed by the scope; reported, no goal);
- **detail**: one order's page (reconciliation, timer, timeline);
- **overview**: counts by state, exceptions, health per connection (aggregates over every
  order of the scope: reported, no goal).

Goal: p95 under 200 ms for the list and detail pages. Memory: the process's peak RSS.
The database is a fresh SQLite file, or ``ORDERBRIDGE_BENCH_DASHBOARD_URL`` (e.g. a
PostgreSQL database of its own: its tables are created by migration, and it is left seeded).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.clients import Result
from bench.stats import Goal, percentile
from orderbridge.adapters.db import connections, generate_key, transaction
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role, add_user
from orderbridge.adapters.db.seed import insert_exceptions, insert_links
from orderbridge.adapters.db.web_sessions import set_password_hash
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.settings import Settings
from orderbridge.web import passwords
from orderbridge.web.app import create_app

SEED_SECONDS = 60.0
FULL_ORDERS = 1_000_000
QUICK_ORDERS = 5_000
BATCH = 5_000
GOAL_MS = 200.0
PASSWORD = "bench password 1"
BASE = "http://orderbridge.bench"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STATES = ("new", "created_held", "released", "released", "released", "done", "cancelled")
STATUS = {"new": "UNPAID", "created_held": "ON_HOLD", "released": "IN_TRANSIT", "done": "DELIVERED",
          "cancelled": "CANCELLED"}


def _row(cid: int, n: int) -> dict[str, Any]:
    state = STATES[n % len(STATES)]
    row: dict[str, Any] = {
        "connection_id": cid, "tiktok_order_id": f"57{cid}{n:015d}", "state": state,
        "tiktok_status": STATUS[state], "first_seen_at": NOW - timedelta(seconds=(FULL_ORDERS - n) * 7.776),
        "tiktok_snapshot": {"id": f"57{cid}{n:015d}", "line_items": [{"seller_sku": f"SKU-{n % 997}"}]},
    }
    if state != "new":
        row.update(shopify_order_id=f"gid://shopify/Order/{cid}{n:012d}", shopify_order_name=f"#{cid}{n}")
    if state in ("released", "done"):
        row["memory"] = {"packages": [{"fulfillment_id": f"gid://shopify/Fulfillment/{cid}{n:012d}",
                                       "tracking_number": f"1ZBENCH{cid}{n:011d}", "provider_id": "7117858858072016686",
                                       "line_ids": [f"{n}1"], "pushed_at": NOW.isoformat()}]}
    return row


def _seed(services: Services, wanted: int, budget: float) -> tuple[int, float, list[int]]:
    """Seed up to ``wanted`` orders (half per connection) within ``budget`` seconds."""
    started = time.perf_counter()
    with transaction(services.db) as conn:
        cids = [connections.create_connection(conn, services.cipher, name=f"shop-{i}", tiktok_shop_id=f"71{i}",
                                              shopify_domain=f"shop-{i}.myshopify.com", now=NOW).id
                for i in (1, 2)]
        user = add_user(conn, "olive", Role.OPERATOR, now=NOW)
        set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=NOW)
        grant_connection(conn, user.id, cids[0], now=NOW)
    seeded, n = 0, 0
    while seeded < wanted and time.perf_counter() - started < budget:
        size = min(BATCH, wanted - seeded)
        with transaction(services.db) as conn:
            for cid in cids:
                half = size // 2 or 1
                ids = insert_links(conn, [_row(cid, n + i) for i in range(half)], now=NOW)
                insert_exceptions(conn, [{"link_id": i, "code": "UNMAPPED_SKU", "message": "no variant"}
                                         for i in ids[::100]], now=NOW)
                seeded += half
        n += size // 2 or 1
    return seeded, time.perf_counter() - started, cids


async def _timed(http: httpx.AsyncClient, url: str, times: list[float]) -> str:
    began = time.perf_counter()
    answer = await http.get(url)
    times.append((time.perf_counter() - began) * 1000)
    assert answer.status_code == 200, f"{url}: {answer.status_code}"
    return answer.text


async def _measure(services: Services, per_connection: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in ("list", "list filtered", "search id", "search tracking",
                                                     "search SKU", "detail", "overview")}
    rng = random.Random(7)
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        signed = await http.post("/dashboard/login", headers={"Origin": BASE},
                                 data={"name": "olive", "password": PASSWORD, "next": "/dashboard"})
        assert signed.status_code == 303, signed.text
        for _ in range(rounds):
            url: str | None = "/dashboard/orders"
            for _page in range(3):  # the first page and two more by cursor
                assert url is not None
                text = await _timed(http, url, times["list"])
                found = re.search(r'rel="next" href="([^"]+)"', text)
                url = found.group(1).replace("&amp;", "&") if found else None
                if url is None:
                    break
            await _timed(http, "/dashboard/orders?state=released", times["list filtered"])
            await _timed(http, "/dashboard/orders?exception=UNMAPPED_SKU", times["list filtered"])
            n = rng.randrange(per_connection)
            await _timed(http, f"/dashboard/orders?q=571{n:015d}", times["search id"])
            ids = re.findall(r'href="/dashboard/orders/(\d+)"', text)
            await _timed(http, f"/dashboard/orders/{rng.choice(ids)}", times["detail"])
            await _timed(http, "/dashboard", times["overview"])
        for _ in range(max(1, rounds // 5)):
            n = rng.randrange(per_connection // 7) * 7 + 2  # a released one: it has a tracking number
            await _timed(http, f"/dashboard/orders?q=1ZBENCH1{n:011d}", times["search tracking"])
            await _timed(http, f"/dashboard/orders?q=SKU-{rng.randrange(997)}", times["search SKU"])
    return times


def run(quick: bool = False, orders: int | None = None) -> list[Result]:
    wanted = orders or (QUICK_ORDERS if quick else FULL_ORDERS)
    budget = 10.0 if quick else SEED_SECONDS
    with tempfile.TemporaryDirectory(prefix="ob-bench-dash-") as tmp:
        url = os.environ.get("ORDERBRIDGE_BENCH_DASHBOARD_URL") or f"sqlite:///{Path(tmp) / 'dash.db'}"
        settings = Settings(database_url=url, secret_key=generate_key(), base_url=BASE)
        services = Services.create(settings, clock=ManualClock(NOW))
        try:
            seeded, seconds, _cids = _seed(services, wanted, budget)
            times = asyncio.run(_measure(services, seeded // 2, 5 if quick else 40))
        finally:
            asyncio.run(services.aclose())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures: dict[str, Any] = {"orders seeded": f"{seeded:,} in {seconds:.0f} s ({seeded / seconds:,.0f}/s)",
                               "database": url.split(":", 1)[0], "peak RSS": f"{peak_mb:.0f} MB"}
    for name, values in times.items():
        figures[f"{name} p50 / p95"] = (f"{percentile(values, 0.5):.1f} / {percentile(values, 0.95):.1f} ms "
                                        f"({len(values)} pages)")
    goals = [Goal(f"dashboard {name} p95 at {seeded:,} orders", percentile(times[name], 0.95), GOAL_MS, "ms",
                  at_most=True) for name in ("list", "detail")]
    command = "python -m bench --only dashboard" + (f" --dashboard-orders {orders}" if orders else "")
    return [Result("Dashboard pages", figures, command, goals,
                   about="Order list, filters, searches and an order's page, timed in-process against a "
                         "bulk-seeded database (bench/dashboard.py), signed in as an operator scoped to one "
                         "of two connections.")]
