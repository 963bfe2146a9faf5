"""The whole engine against the sandboxes, as in production, for the engine benchmarks.

The sandboxes run in a **child process** (``orderbridge sandbox`` on free ports), so this
process's CPU time and memory are the engine's own (plus the small benchmark driver). The
engine is ``engine.runner.run(services, "all", ...)``: its web app on a free port receives
the sandboxes' webhooks (``connect_sandbox`` registers them), its workers and poller do the
rest. SQLite, the embedded default.

The engine's clock is a ``ScaledClock`` anchored on the sandbox clock (read from the
control API) at the same rate, so signatures and timers agree.

Real-time stamps are taken by wrapping the engine's Shopify client (``Tap``): the monotonic
time at which ``orderCreate``, ``fulfillmentOrderHold`` and ``fulfillmentOrderReleaseHold``
succeeded, and every Shopify call's actual query cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from orderbridge.adapters.calls import ApiCall, CallRecorder, NullRecorder
from orderbridge.adapters.db import generate_key
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.http import make_http_client
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import run
from orderbridge.clock import ScaledClock
from orderbridge.devkit import ControlClient
from orderbridge.engine.sandbox_connection import connect_sandbox, sandbox_settings
from orderbridge.engine.skus import import_catalogues
from orderbridge.settings import Settings

# A product of our own with stock for any run (the default catalogue has 100-500 units).
BENCH_SKUS = ("BENCH-A", "BENCH-B", "BENCH-C")
BENCH_STOCK = 1_000_000
STARTUP_SECONDS = 30.0


@dataclass
class Tap:
    """Real (monotonic) times of the engine's Shopify successes, and every call's cost."""

    created: dict[str, float] = field(default_factory=dict)  # TikTok order id -> t
    held: dict[str, float] = field(default_factory=dict)  # fulfilment order id -> t
    released: dict[str, float] = field(default_factory=dict)  # fulfilment order id -> t
    calls: list[tuple[str, bool, float]] = field(default_factory=list)  # operation, ok, actual cost


class _Tee:
    def __init__(self, inner: CallRecorder, tap: Tap) -> None:
        self.inner, self.tap = inner, tap

    def record(self, call: ApiCall) -> None:
        self.inner.record(call)
        cost = call.details.get("actual_cost") or call.details.get("requested_cost") or 0.0
        self.tap.calls.append((call.operation, call.ok, float(cost)))


@dataclass
class TappedServices(Services):
    """``Services`` whose Shopify clients report to ``tap``."""

    tap: Tap = field(default_factory=Tap)

    def shopify_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None) -> ShopifyClient:
        client = super().shopify_client(connection, _Tee(recorder or NullRecorder(), self.tap))
        tap = self.tap
        create, hold, release = client.create_order, client.hold_fulfillment_order, client.release_fulfillment_holds

        async def create_order(spec: Any, **kw: Any) -> Any:
            out = await create(spec, **kw)
            tap.created.setdefault(str(spec.source_identifier), time.monotonic())
            return out

        async def hold_fulfillment_order(fo_id: str, **kw: Any) -> Any:
            out = await hold(fo_id, **kw)
            tap.held.setdefault(fo_id, time.monotonic())
            return out

        async def release_fulfillment_holds(fo_id: str, hold_ids: Any, **kw: Any) -> Any:
            out = await release(fo_id, hold_ids, **kw)
            tap.released.setdefault(fo_id, time.monotonic())
            return out

        client.create_order = create_order  # type: ignore[method-assign]
        client.hold_fulfillment_order = hold_fulfillment_order  # type: ignore[method-assign]
        client.release_fulfillment_holds = release_fulfillment_holds  # type: ignore[method-assign]
        return client


@dataclass
class Stack:
    info: dict[str, Any]
    control: ControlClient
    services: TappedServices
    connection: ConnectionRow
    domain: str
    shop_id: str
    clock_ref: tuple[float, datetime, float]  # (monotonic, sandbox now, rate) read together
    clock: ScaledClock  # the engine's clock (advanced with the sandbox's by ``advance``)

    @property
    def tap(self) -> Tap:
        return self.services.tap

    def real_at(self, instant: datetime) -> float:
        """The monotonic time at which the sandbox clock shows ``instant``."""
        mono, now, rate = self.clock_ref
        return mono + (instant - now).total_seconds() / rate

    @property
    def rate(self) -> float:
        return self.clock_ref[2]

    async def advance(self, seconds: float) -> None:
        """Jump both clocks: the sandbox's (its due timers run before it answers), then the
        engine's at once (the engine's signed calls are refused while they disagree; it retries)."""
        await self.control.call("POST", "/clock/advance", {"seconds": seconds})
        self.clock.advance(seconds)

    async def place(self, n: int, sku: str | None = None) -> tuple[str, float, dict[str, Any]]:
        """A paid order of one unit; returns (id, monotonic time of the answer, raw order)."""
        order = await self.control.place_order(
            items=[{"seller_sku": sku or BENCH_SKUS[n % len(BENCH_SKUS)], "units": 1}], shop=self.shop_id,
        )
        return str(order["id"]), time.monotonic(), order


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_sandboxes(workdir: Path, rate: float) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    info_file = workdir / "sandbox-info.json"
    cmd = [sys.executable, "-c", "from orderbridge.cli.main import main; main()", "sandbox",
           "--info-file", str(info_file), "--rate", str(rate), "--seed", "3",
           "--control-port", "0", "--tiktok-port", "0", "--shopify-port", "0",
           "--amazon-mcf-port", "0", "--shipbob-port", "0"]
    with open(workdir / "sandbox.log", "wb") as log:  # the child keeps its own copy of the fd
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not info_file.exists() or not info_file.read_text().strip().endswith("}"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the sandboxes did not start: {(workdir / 'sandbox.log').read_text()[-2000:]}")
        time.sleep(0.05)
    return proc, json.loads(info_file.read_text())


async def _add_stock(control: ControlClient, shop_id: str, domain: str) -> None:
    await control.call("POST", f"/tiktok/shops/{shop_id}/products", {
        "title": "Benchmark bowl", "skus": [
            {"name": sku, "seller_sku": sku, "price": "18.00", "stock": BENCH_STOCK} for sku in BENCH_SKUS
        ],
    })
    for sku in BENCH_SKUS:
        await control.call("POST", f"/shopify/shops/{domain}/variants",
                           {"sku": sku, "title": sku, "price": "18.00", "available": BENCH_STOCK})


@contextlib.asynccontextmanager
async def engine_stack(*, rate: float = 1.0, workers: int | None = None) -> AsyncIterator[Stack]:
    """Sandboxes (child process) + the engine (this process, role ``all``), connected."""
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as tmp:
        workdir = Path(tmp)
        proc, info = _start_sandboxes(workdir, rate)
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        services: TappedServices | None = None
        try:
            async with httpx.AsyncClient(timeout=60.0) as http:
                control = ControlClient(info["control_url"], http)
                before = time.monotonic()
                clock = await control.clock()
                mono = (before + time.monotonic()) / 2
                now = datetime.fromisoformat(clock["now"])
                engine_clock = ScaledClock(start=now, rate=rate)
                port = _free_port()
                extra = {"workers": workers} if workers else {}
                settings = Settings(
                    database_url=f"sqlite:///{workdir / 'orderbridge.db'}", secret_key=generate_key(),
                    base_url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port, log_level="warning",
                    **{**sandbox_settings(info), **extra},
                )
                engine_http = make_http_client(timeout=30.0)  # the client production builds
                services = TappedServices.create(settings, clock=engine_clock, http=engine_http)
                tt, sh = info["tiktok"]["shops"][0], info["shopify"]["shops"][0]
                await _add_stock(control, tt["shop_id"], sh["domain"])
                started = asyncio.Event()
                task = asyncio.create_task(run(services, "all", stop, ready=lambda _info: started.set()))
                await asyncio.wait_for(started.wait(), STARTUP_SECONDS)
                connection = await connect_sandbox(services, info)
                await import_catalogues(services, connection)
                yield Stack(info, control, services, connection, sh["domain"], tt["shop_id"],
                            (mono, now, rate), engine_clock)
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 30)
            if services is not None:
                with contextlib.suppress(Exception):
                    await services.aclose()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def rss_mb() -> float:
    """This process's resident set size now (Linux /proc), in MB."""
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    """This process's CPU time so far (user + system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
