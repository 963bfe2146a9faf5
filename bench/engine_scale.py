"""Scale-out on PostgreSQL: one web process and K worker processes, K = 1, 2, 4.

Designed for a two-core machine. Every API call takes 200 ms on both sandboxes (a child
process), Shopify is not throttled (a big enterprise bucket, no create cap), and each worker
process is capped at a small concurrency (one worker of ``CLAIM_BATCH`` links: one pass of
up to that many links at a time). One process is then bound by that cap, not by CPU, so
adding processes should add throughput in proportion, as adding machines would: the goal is
K processes >= 0.85 x K x one.

Each K gets a fresh database and fresh sandboxes: ``orderbridge connect sandbox`` and
``skus import`` as an operator would, then ``orderbridge run --role web`` and K x ``--role
worker`` (real processes, following the sandbox clock). The driver places ``ORDERS`` paid
orders as fast as the sandbox takes them and times first placed -> last mirrored (created
and held, as the Shopify sandbox records it). Calls per order come from the
engine's timeline (every API call is recorded there); CPU per order from the engine
processes' /proc accounting.

PostgreSQL is ``ORDERBRIDGE_BENCH_PG_URL`` (default the test server, trust auth); each run
creates a database ``ob_bench_scale_*`` and drops it.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from bench.clients import Result
from bench.engine import _place_at_rate
from bench.engine_stack import BENCH_SKUS, _add_stock, _free_port
from bench.facts import instants
from bench.stats import Goal
from orderbridge.adapters.db import generate_key, make_engine, transaction
from orderbridge.adapters.db.tables import events
from orderbridge.devkit import ControlClient

PG_URL_ENV = "ORDERBRIDGE_BENCH_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ORDERS = 300
QUICK_ORDERS = 60
PROCESSES = (1, 2, 4)
LATENCY_MS = [200, 200]
# The per-process cap: one worker (one pass at a time) of up to this many links.
WORKERS_PER_PROCESS = 1
CLAIM_BATCH = 2
GOAL = 0.85
# Throughput is measured between these shares of the orders held (see ``steady_rate``).
STEADY_FROM = 0.1
STEADY_TO = 0.9
# As fast as the sandbox takes them: placing is never what limits the engine here.
PLACE_RATE = 1000.0
START_SECONDS = 60.0
# Give up when nothing was mirrored for this long (a stuck engine, not a slow one).
STALL_SECONDS = 60.0


@dataclass
class Run:
    """One K: the processes, and what the driver measured."""

    k: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    doubled: int = 0
    done: bool = False


def _admin() -> str:
    url = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _database(name: str, *, drop: bool = False) -> None:
    with psycopg.connect(_admin(), autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    with open(logs / f"{name}.log", "wb") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen([sys.executable, "-m", "orderbridge", *args], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=logs)


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while text not in (path.read_text(errors="replace") if path.exists() else ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{path.name}: did not start:\n{path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True, env=env,
                          cwd=cwd, stdin=subprocess.DEVNULL, timeout=120, check=False)
    if done.returncode:
        raise RuntimeError(f"orderbridge {' '.join(args)}: {done.stdout.decode()}{done.stderr.decode()}")


def _api_calls(db: Engine) -> Counter[str]:
    """Every API call on the timeline, by "<api> <operation>"."""
    with transaction(db, write=False) as conn:
        rows = conn.execute(select(events.c.summary, func.count()).where(events.c.kind == "api_call")
                            .group_by(events.c.summary)).all()
    out: Counter[str] = Counter()
    for summary, n in rows:
        out[str(summary).split(":")[0]] += int(n)
    return out


async def _until_held(control: ControlClient, shop_id: str, domain: str, placed: set[str]) -> bool:
    """Until every placed order is created *and held* on the Shopify sandbox (its records)."""
    seen, last_change = -1, time.monotonic()
    while True:
        held = len(placed & set((await instants(control, shop_id, domain)).held))
        if held >= len(placed):
            return True
        if held != seen:
            seen, last_change = held, time.monotonic()
        if time.monotonic() - last_change > STALL_SECONDS:
            return False
        await asyncio.sleep(0.25)


async def one_k(k: int, orders: int, work: Path) -> Run:
    """Fresh database and sandboxes; web + k workers; ``orders`` placed and mirrored."""
    run = Run(k)
    name = f"ob_bench_scale_{secrets.token_hex(4)}"
    _database(name)
    db_url = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)).set(database=name).render_as_string(
        hide_password=False)
    db = make_engine(db_url)
    port = _free_port()
    env = {key: v for key, v in os.environ.items() if not key.startswith("ORDERBRIDGE_")}
    env.update(ORDERBRIDGE_DATABASE_URL=db_url, ORDERBRIDGE_SECRET_KEY=generate_key(),
               ORDERBRIDGE_CONFIG=str(work / "orderbridge.toml"), ORDERBRIDGE_PORT=str(port),
               ORDERBRIDGE_BASE_URL=f"http://127.0.0.1:{port}", ORDERBRIDGE_LOG_LEVEL="warning",
               ORDERBRIDGE_WORKERS=str(WORKERS_PER_PROCESS), ORDERBRIDGE_CLAIM_BATCH=str(CLAIM_BATCH))
    info_file = work / "sandbox-info.json"
    try:
        sandbox = _start("sandbox", ["sandbox", "--info-file", str(info_file), "--rate", "1", "--seed", "3",
                                     "--control-port", "0", "--tiktok-port", "0", "--shopify-port", "0",
                                     "--amazon-mcf-port", "0", "--shipbob-port", "0"],
                         env, work)
        run.procs["sandbox"] = sandbox
        deadline = time.monotonic() + START_SECONDS
        while not info_file.exists() or not info_file.read_text().strip().endswith("}"):
            if sandbox.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandboxes did not start")
            await asyncio.sleep(0.05)
        info = json.loads(info_file.read_text())
        env["ORDERBRIDGE_CLOCK_SOURCE"] = f"sandbox:{info['control_url']}"
        async with httpx.AsyncClient(timeout=60.0) as http:
            control = ControlClient(info["control_url"], http)
            tt, sh = info["tiktok"]["shops"][0], info["shopify"]["shops"][0]
            await _add_stock(control, tt["shop_id"], sh["domain"])
            _cli(["connect", "sandbox", "--info-file", str(info_file), "--write-config", env["ORDERBRIDGE_CONFIG"]],
                 env, work)
            _cli(["skus", "import"], env, work)
            await control.shopify_shop_settings(sh["domain"], plan="enterprise", bucket_size=50_000, create_cap=0)
            for side in ("tiktok", "shopify"):
                await control.add_fault(side, "*", latency_ms=LATENCY_MS)
            roles = {"web": "web", **{f"worker-{i}": "worker" for i in range(1, k + 1)}}
            for proc_name, role in roles.items():
                run.procs[proc_name] = _start(proc_name, ["run", "--role", role], env, work)
            for proc_name in roles:
                await asyncio.to_thread(_wait_for, work / f"{proc_name}.log", "orderbridge running",
                                        run.procs[proc_name])
            engine_pids = [p.pid for n, p in run.procs.items() if n != "sandbox"]
            cpu0 = sum(_cpu_seconds(pid) for pid in engine_pids)
            calls0 = _api_calls(db)
            began = time.monotonic()
            placed = await _place_at_rate(_Placer(control, tt["shop_id"]), orders, PLACE_RATE)  # type: ignore[arg-type]
            placing = time.monotonic() - began
            run.done = await _until_held(control, tt["shop_id"], sh["domain"], set(placed))
            elapsed = time.monotonic() - began
            cpu = sum(_cpu_seconds(pid) for pid in engine_pids) - cpu0
            await asyncio.sleep(2)  # the last passes record their calls
            run.calls = _api_calls(db) - calls0
            per_source = Counter(str(o.get("source_identifier"))
                                 for o in await control.shopify_orders(shop=sh["domain"]))
            run.lost = sum(1 for oid in placed if per_source.get(oid, 0) == 0)
            run.doubled = sum(1 for oid in placed if per_source.get(oid, 0) > 1)
            seen = await instants(control, tt["shop_id"], sh["domain"])
            run.figures = {"rate": orders / elapsed, "elapsed": elapsed, "placing": placing,
                           "cpu_per_order_ms": cpu / orders * 1000,
                           "steady": steady_rate([seen.held[o] for o in placed if o in seen.held])}
    finally:
        for proc in reversed(list(run.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in run.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.dispose()
        _database(name, drop=True)
    return run


class _Placer:
    """What ``_place_at_rate`` needs of a stack: ``place(n)``."""

    def __init__(self, control: ControlClient, shop_id: str) -> None:
        self.control, self.shop_id = control, shop_id

    async def place(self, n: int) -> tuple[str, float, dict[str, Any]]:
        order = await self.control.place_order(
            items=[{"seller_sku": BENCH_SKUS[n % len(BENCH_SKUS)], "units": 1}], shop=self.shop_id)
        return str(order["id"]), time.monotonic(), order


def steady_rate(held: list[datetime]) -> float:
    """Orders held per second between the 10th and the 90th percent of the orders held
    (the Shopify sandbox's own instants): throughput without the start and the drain.

    The last orders of a run wait a fixed time for their fulfilment orders and their hold
    (about 2 s whatever K is), which is latency, not throughput; measured over the whole run
    it would weigh more the faster the run, and so understate scaling."""
    if len(held) < 10:
        return math.nan
    ordered = sorted(held)
    low, high = int(len(ordered) * STEADY_FROM), int(len(ordered) * STEADY_TO) - 1
    span = (ordered[high] - ordered[low]).total_seconds()
    return (high - low) / span if span > 0 else math.nan


def _per_order(calls: Counter[str], orders: int, prefix: str) -> float:
    return sum(n for key, n in calls.items() if key.startswith(prefix)) / orders


async def scale(quick: bool) -> Result:
    orders = QUICK_ORDERS if quick else ORDERS
    runs: list[Run] = []
    for k in PROCESSES:
        with tempfile.TemporaryDirectory(prefix=f"orderbridge-scale-{k}-") as tmp:
            runs.append(await one_k(k, orders, Path(tmp)))
    one = runs[0].figures["steady"]
    overall_one = runs[0].figures["rate"]
    figures: dict[str, Any] = {
        "setup": (f"PostgreSQL; 1 web + K worker processes, each {WORKERS_PER_PROCESS} worker x "
                  f"{CLAIM_BATCH} links; {LATENCY_MS[0]} ms per API call; Shopify unthrottled"),
        "orders per run": orders,
    }
    for run in runs:
        rate = run.figures["steady"]
        ratio = rate / one
        goal = "" if run.k == 1 else f", {ratio / (GOAL * run.k):.2f} of the goal {GOAL * run.k:.2f}x"
        figures[f"K={run.k}: orders held per second, steady (10-90 %)"] = (
            f"{rate:.2f} ({ratio:.2f}x one{goal})" + ("" if run.done else " (stalled)"))
        overall = run.figures["rate"]
        figures[f"K={run.k}: orders per second over the whole run"] = (
            f"{overall:.2f} ({overall / overall_one:.2f}x one)")
        figures[f"K={run.k}: first placed -> last mirrored"] = (
            f"{run.figures['elapsed']:.1f} s (placing took {run.figures['placing']:.1f} s)")
        figures[f"K={run.k}: TikTok calls / Shopify order reads per order"] = (
            f"{_per_order(run.calls, orders, 'tiktok'):.2f} / {run.calls.get('shopify Order', 0) / orders:.2f}")
        figures[f"K={run.k}: all API calls per order"] = f"{sum(run.calls.values()) / orders:.2f}"
        figures[f"K={run.k}: engine CPU per order (web + workers)"] = f"{run.figures['cpu_per_order_ms']:.1f} ms"
        figures[f"K={run.k}: lost / duplicated"] = f"{run.lost} / {run.doubled}"
    goals = [Goal(f"scale-out, K={run.k} processes vs {GOAL:g} x K x one", run.figures["steady"] / one,
                  GOAL * run.k, "x", at_most=False) for run in runs if run.k > 1]
    return Result(f"Engine scale-out on PostgreSQL: 1 web + K worker processes, {orders} orders", figures,
                  "python -m bench --only scale" + (" --quick" if quick else ""), goals=goals)


def run(quick: bool = False) -> list[Result]:
    return [asyncio.run(scale(quick))]
