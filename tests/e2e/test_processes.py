"""OrderBridge as an operator runs it: real processes, real signals, PostgreSQL and SQLite.

``orderbridge sandbox --rate 60`` and ``orderbridge run`` are subprocesses (``python -m
orderbridge``, logs to files in ``tmp_path``, every process killed in teardown). The engine
processes follow the sandbox clock through ``ORDERBRIDGE_CLOCK_SOURCE=sandbox:<control URL>``
(``orderbridge.clock.RemoteClock``): without it a sandbox running an hour a minute would
refuse their TikTok signatures as stale within a minute, and a ``/clock/advance`` would
never wake their timers. The test plays buyers and the merchant through the control API
and reads the engine's database.

Leases are measured on the engine's clock, so at rate 60 ``LEASE_SECONDS`` virtual seconds
are ``LEASE_SECONDS / 60`` real ones: long enough for a 3 s call, short enough that a killed
worker's order is taken over within seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine, select

from orderbridge.adapters.db import events, generate_key, make_engine, transaction
from orderbridge.adapters.db.tables import order_links
from orderbridge.bootstrap import Services
from orderbridge.devkit import ControlClient, usps_number
from orderbridge.invariants import check_invariants
from orderbridge.settings import load_settings

T = TypeVar("T")

HOUR = 3600.0
RATE = 60.0
START_TIMEOUT = 30.0
LEASE_SECONDS = 480  # virtual: 8 real seconds at rate 60
LEASE_REAL = LEASE_SECONDS / RATE
# The hung call of the kill tests, in real milliseconds (well inside the lease).
HANG_MS = 3000
# Per order, the minimum on a paid order's way to released: create, hold, address, payment, release.
MINIMUM = {"orderCreate": 1, "fulfillmentOrderHold": 1, "orderUpdate": 1,
           "orderCreateManualPayment": 1, "fulfillmentOrderReleaseHold": 1}
TAX_RESTORE = {"orderEditBegin": 1, "orderEditAddCustomItem": 1, "orderEditCommit": 1}

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])




@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    out: IO[bytes]

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def owner_pid(self) -> int:
        return self.popen.pid


@dataclass
class World:
    """The sandbox process, the engine's settings, and every process started."""

    tmp: Path
    env: dict[str, str]
    info: dict[str, Any]
    http: httpx.Client
    db: Engine
    procs: list[Proc] = field(default_factory=list)
    placed: list[str] = field(default_factory=list)

    # --- processes ---

    def start(self, name: str, *args: str, ready: str | None = "orderbridge running") -> Proc:
        log = self.tmp / f"{name}.log"
        out = log.open("wb")
        popen = subprocess.Popen([sys.executable, "-m", "orderbridge", *args], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.tmp)
        proc = Proc(name, popen, log, out)
        self.procs.append(proc)
        if ready is not None:
            wait(lambda: None if ready in proc.text() else _exited(proc), START_TIMEOUT, f"{name} starting",
                 self.logs)
        return proc

    def stop(self, proc: Proc, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if proc.popen.poll() is None:
            proc.popen.send_signal(sig)
        try:
            return proc.popen.wait(timeout=timeout)
        finally:
            proc.out.close()

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True,
                              stdin=subprocess.DEVNULL, env=self.env, cwd=self.tmp, timeout=60, check=False)
        assert done.returncode == 0, f"orderbridge {' '.join(args)}: {done.stdout.decode()}{done.stderr.decode()}"
        return done.stdout.decode()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()}):\n{p.text()[-3000:]}" for p in self.procs)

    # --- the control API ---

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, self.info["control_url"] + path, json=body)
        assert answer.status_code < 400, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def run(self, work: Callable[[ControlClient], Awaitable[T]]) -> T:
        """Run ``work`` with the devkit's (async) ControlClient."""
        async def main() -> T:
            async with httpx.AsyncClient(timeout=30.0) as http:
                return await work(ControlClient(self.info["control_url"], http))

        return asyncio.run(main())

    def sandbox_now(self) -> datetime:
        return datetime.fromisoformat(self.control("GET", "/clock")["now"])

    def place(self, **order: Any) -> str:
        order.setdefault("items", [{"seller_sku": "MW-SET-NAT", "units": 1}])
        order.setdefault("payment", "paid")
        order_id = str(self.control("POST", "/tiktok/orders", order)["id"])
        self.placed.append(order_id)
        return order_id

    def shopify_orders(self, order_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control("GET", f"/shopify/orders?source_identifier={order_id}")
        return found

    def shopify_order(self, order_id: str) -> dict[str, Any]:
        [order] = self.shopify_orders(order_id)
        found: dict[str, Any] = self.control("GET", f"/shopify/orders/{order['id']}")
        return found

    # --- the engine's database ---

    def link(self, order_id: str) -> Any:
        with transaction(self.db, write=False) as conn:
            return conn.execute(select(order_links).where(order_links.c.tiktok_order_id == order_id)).first()

    def actions(self, order_id: str) -> list[str]:
        """Successful actions on the order's timeline, in order."""
        link = self.link(order_id)
        if link is None:
            return []
        with transaction(self.db, write=False) as conn:
            story = events.timeline(conn, link.id)
        return [e.summary.split(":")[0] for e in story if e.kind == "action" and ": success" in e.summary]

    def story(self, order_id: str) -> str:
        link = self.link(order_id)
        if link is None:
            return f"{order_id}: no link"
        with transaction(self.db, write=False) as conn:
            story = events.timeline(conn, link.id)
        lines = [f"{e.at:%H:%M:%S} {e.kind} {e.summary}" for e in story if e.kind != "api_call"]
        return "\n  ".join([f"{order_id}: state={link.state} lease={link.lease_owner} due={link.next_due_at}",
                            *lines[-20:]])

    def held(self, ids: list[str]) -> Callable[[], str | None]:
        """Every order mirrored and under our hold (the hold follows the fulfilment orders,
        which the Shopify sandbox makes a little after the order)."""
        created = self.state_is(ids, "created_held")

        def check() -> str | None:
            why = created()
            if why is not None:
                return why
            for order_id in ids:
                if "place_hold" not in self.actions(order_id):
                    return self.story(order_id)
            return None

        return check

    def state_is(self, ids: list[str], state: str) -> Callable[[], str | None]:
        def check() -> str | None:
            for order_id in ids:
                link = self.link(order_id)
                if link is None or link.state != state:
                    return self.story(order_id)
            return None

        return check


def _exited(proc: Proc) -> str:
    code = proc.popen.poll()
    if code is not None:
        raise AssertionError(f"{proc.name} exited with {code}:\n{proc.text()[-3000:]}")
    return f"{proc.name} not ready yet"


def wait(check: Callable[[], str | None], timeout: float, what: str,
         context: Callable[[], str] | None = None) -> None:
    """Poll ``check`` (None = done, else why not) for ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    why: str | None = "never looked"
    while time.monotonic() < deadline:
        why = check()
        if why is None:
            return
        time.sleep(0.1)
    extra = f"\n{context()}" if context is not None else ""
    raise AssertionError(f"{what}: not within {timeout:.0f} s: {why}{extra}")


@pytest.fixture
def world(tmp_path: Path, migrated_db_url: str) -> Iterator[World]:
    """The sandbox process (rate 60) started and connected (webhooks to the web port), SKUs
    imported; the engine's environment follows the sandbox clock."""
    info_file = tmp_path / "sandbox-info.json"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBRIDGE_") and k != "DATABASE_URL"}
    env.update(ORDERBRIDGE_DATABASE_URL=migrated_db_url, ORDERBRIDGE_SECRET_KEY=generate_key(),
               ORDERBRIDGE_CONFIG=str(tmp_path / "orderbridge.toml"), ORDERBRIDGE_PORT=str(port),
               ORDERBRIDGE_BASE_URL=f"http://127.0.0.1:{port}", ORDERBRIDGE_LEASE_SECONDS=str(LEASE_SECONDS),
               ORDERBRIDGE_WORKERS="2", ORDERBRIDGE_LOG_LEVEL="warning", COLUMNS="200")
    db = make_engine(migrated_db_url)
    with httpx.Client(timeout=10.0) as http:
        w = World(tmp_path, env, {}, http, db)
        try:
            sandbox = w.start("sandbox", "sandbox", "--info-file", str(info_file), "--rate", str(RATE),
                              "--seed", "5", "--control-port", "0", "--tiktok-port", "0",
                              "--shopify-port", "0", "--amazon-mcf-port", "0", "--shipbob-port", "0",
                              ready=None)
            wait(lambda: None if info_file.exists() and info_file.stat().st_size else _exited(sandbox),
                 START_TIMEOUT, "the sandbox starting", w.logs)
            w.info = json.loads(info_file.read_text())
            env["ORDERBRIDGE_CLOCK_SOURCE"] = f"sandbox:{w.info['control_url']}"
            w.cli("connect", "sandbox", "--info-file", str(info_file), "--write-config", env["ORDERBRIDGE_CONFIG"])
            w.cli("skus", "import")
            domain = w.info["shopify"]["shops"][0]["domain"]
            w.control("PUT", f"/shopify/shops/{domain}/settings",
                      {"plan": "enterprise", "bucket_size": 50_000, "create_cap": 0})
            yield w
        finally:
            for proc in reversed(w.procs):
                if proc.popen.poll() is None:
                    proc.popen.kill()
                proc.popen.wait(timeout=30)
                proc.out.close()
            db.dispose()


def _services(w: World) -> Services:
    """A Services on the engine's database and clock (for the invariant checker)."""
    old = dict(os.environ)
    try:
        os.environ.update({k: v for k, v in w.env.items() if k.startswith("ORDERBRIDGE_")})
        return Services.create(load_settings(), migrate_db=False)
    finally:
        os.environ.clear()
        os.environ.update(old)


def _check_invariants(w: World) -> None:
    async def check(control: ControlClient) -> list[str]:
        services = _services(w)
        try:
            report = await check_invariants(control, services, 1, now=services.clock.now())
        finally:
            await services.aclose()
        assert all(r.checked for r in report.results[:2]), report.lines()
        return [] if report.passed else report.lines()

    failing = w.run(check)
    assert not failing, "invariants broken:\n" + "\n".join(failing)


def _per_order_mutations(w: World, order_id: str) -> dict[str, int]:
    [order] = w.shopify_orders(order_id)
    counts: dict[str, dict[str, int]] = w.control("GET", "/shopify/mutation-counts")["per_order"]
    return counts.get(f"gid://shopify/Order/{order['id']}", {})


def _released_once(w: World, order_id: str) -> None:
    """One Shopify order, one manual payment, our hold gone, each write action once (lookups
    such as fetch_shipping_providers may repeat)."""
    orders = w.shopify_orders(order_id)
    assert len(orders) == 1, w.story(order_id)
    shop = w.shopify_order(order_id)
    payments = [t for t in shop["transactions"] if t["manual"]]
    assert len(payments) == 1, f"{payments}\n{w.story(order_id)}"
    assert not [h for fo in shop["fulfillment_orders"] for h in fo["holds"]], w.story(order_id)
    actions = Counter(a for a in w.actions(order_id) if not a.startswith("fetch_"))
    assert actions["release_hold"] == 1, f"{actions}\n{w.story(order_id)}"
    assert max(actions.values()) == 1, f"{actions}\n{w.story(order_id)}"


class OwnerSampler:
    """Which lease owners held links while the engine worked (a background thread)."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self.seen: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with transaction(self.db, write=False) as conn:
                owners = conn.execute(select(order_links.c.lease_owner)
                                      .where(order_links.c.lease_owner.is_not(None))).scalars().all()
            self.seen.update(str(o) for o in owners)

    def __enter__(self) -> OwnerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _pid_of(owner: str) -> int:
    """The process id in a lease owner (``engine.worker.default_owner``: host:pid:role)."""
    return int(owner.split(":")[-2])


PG = [pytest.param("postgresql", marks=pytest.mark.postgres)]
SQLITE = [pytest.param("sqlite")]


@pytest.mark.parametrize("db_url", PG, indirect=True)
def test_two_worker_processes_share_the_work_without_double_processing(world: World) -> None:
    w = world
    w.start("web", "run", "--role", "web")
    # One worker task per process, so a process busy with a pass cannot take new orders and
    # the other process must: that both take part is then certain, not a race won by chance
    # (an idle process is woken by the NOTIFY of each mark-due, a busy one claims after its pass).
    w.env["ORDERBRIDGE_WORKERS"] = "1"
    workers = [w.start(f"worker-{i}", "run", "--role", "worker") for i in (1, 2)]
    # The first orderCreate hangs HANG_MS: whichever process took the first order is busy
    # that long while the next orders arrive (every 0.4 s). Every other call takes 150 ms.
    _hang_next(w, "orderCreate")
    w.control("POST", "/faults/endpoints", {"sandbox": "shopify", "match": "*", "latency_ms": [150, 150]})
    with OwnerSampler(w.db) as sampler:
        ids = []
        for _ in range(10):
            ids.append(w.place())
            time.sleep(0.4)
        wait(w.held(ids), 40, "every order mirrored and held", w.logs)
        w.control("POST", "/clock/advance", {"seconds": HOUR + 60})  # past the remorse window
        wait(w.state_is(ids, "released"), 30, "every order released after the window", w.logs)
    owners = {_pid_of(o) for o in sampler.seen}
    assert owners == {p.popen.pid for p in workers}, f"lease owners seen: {sampler.seen}"

    for n, order_id in enumerate(ids):
        shop_id = str(w.shopify_orders(order_id)[0]["id"])
        w.run(lambda c, s=shop_id, n=n: c.fulfil(s, "USPS", usps_number(22319742800 + n)))  # type: ignore[misc]

    def tracked() -> str | None:
        packages = w.control("GET", "/tiktok/packages")
        done = {o for p in packages for o in p["orders"] if p.get("tracking_number")}
        missing = [i for i in ids if i not in done]
        return f"no tracking on TikTok for {missing}" if missing else None

    wait(tracked, 30, "the merchant's tracking numbers pushed to TikTok", w.logs)
    _check_invariants(w)
    for order_id in ids:
        _released_once(w, order_id)
        # The minimum, plus the merchant's own fulfilment (control API), plus, for an order
        # with tax, the one edit that adds back the tax Shopify recalculated away when the
        # address was written (the sandbox store collects no tax itself).
        counts = _per_order_mutations(w, order_id)
        edit = {k: counts.pop(k) for k in [k for k in counts if k.startswith("orderEdit")]}
        assert counts == {**MINIMUM, "admin:fulfill": 1}, w.story(order_id)
        assert edit in ({}, TAX_RESTORE), w.story(order_id)
    for proc in workers:
        assert proc.popen.poll() is None, proc.text()


def _hang_next(w: World, mutation: str) -> None:
    """The next ``mutation`` on the Shopify sandbox takes HANG_MS."""
    w.control("POST", "/faults/endpoints", {"sandbox": "shopify", "match": mutation,
                                           "latency_ms": [HANG_MS, HANG_MS], "limit": 1})


def _one_order_to_the_release(w: World) -> str:
    """An order mirrored and held, then the clock past its window; the payment hangs."""
    order_id = w.place()
    wait(w.held([order_id]), 20, "the order mirrored and held", w.logs)
    _hang_next(w, "orderCreateManualPayment")
    w.control("POST", "/clock/advance", {"seconds": HOUR + 60})
    return order_id


def _kill_mid_release(w: World, order_id: str, candidates: list[Proc]) -> Proc:
    """Wait until the hung call has reached Shopify, then SIGKILL the process whose lease
    holds the order (read from order_links.lease_owner)."""
    def hung() -> str | None:
        rules = w.control("GET", "/faults")["endpoints"]
        return None if any(r["hits"] for r in rules) else "the payment not sent yet"

    wait(hung, 15, "the manual payment reaching Shopify", w.logs)
    link = w.link(order_id)
    assert link is not None, w.story(order_id)
    assert link.lease_owner is not None, w.story(order_id)
    pid = _pid_of(str(link.lease_owner))
    [victim] = [p for p in candidates if p.popen.pid == pid]
    victim.popen.send_signal(signal.SIGKILL)
    assert victim.popen.wait(timeout=10) == -signal.SIGKILL
    victim.out.close()
    return victim


@pytest.mark.parametrize("db_url", PG, indirect=True)
def test_a_worker_killed_mid_release_is_finished_by_the_other(world: World) -> None:
    w = world
    w.start("web", "run", "--role", "web")
    workers = [w.start(f"worker-{i}", "run", "--role", "worker") for i in (1, 2)]
    order_id = _one_order_to_the_release(w)
    victim = _kill_mid_release(w, order_id, workers)
    killed_at = time.monotonic()
    survivor = next(p for p in workers if p is not victim)
    wait(w.state_is([order_id], "released"), LEASE_REAL + 15,
         f"the order finished by {survivor.name} after the lease expired", w.logs)
    assert time.monotonic() - killed_at >= LEASE_REAL - 1.0, "taken over before the lease expired"
    _released_once(w, order_id)
    counts = _per_order_mutations(w, order_id)
    assert counts.get("fulfillmentOrderReleaseHold") == 1, f"{counts}\n{w.story(order_id)}"
    assert survivor.popen.poll() is None, survivor.text()
    _check_invariants(w)


@pytest.mark.parametrize("db_url", PG, indirect=True)
def test_a_restart_releases_the_orders_whose_timers_passed_while_down(world: World) -> None:
    w = world
    engine = [w.start("web", "run", "--role", "web"),
              *(w.start(f"worker-{i}", "run", "--role", "worker") for i in (1, 2))]
    ids = [w.place() for _ in range(5)]
    wait(w.held(ids), 30, "every order mirrored and held", w.logs)
    for proc in engine:
        assert w.stop(proc) == 0, proc.text()
    pending = w.control("GET", "/clock")["pending_timers"]
    assert pending, "the sandbox has no timers pending (the ON_HOLD window)"
    w.control("POST", "/clock/advance", {"seconds": HOUR + 120})  # TikTok's webhooks find nobody
    started = time.monotonic()
    w.start("worker-again", "run", "--role", "worker")
    wait(w.state_is(ids, "released"), 15, "the releases after the restart", w.logs)
    took = time.monotonic() - started
    assert took < 15
    for order_id in ids:
        _released_once(w, order_id)
    _check_invariants(w)


@pytest.mark.parametrize("db_url", SQLITE, indirect=True)
def test_one_process_on_sqlite_killed_mid_release_then_restarted(world: World) -> None:
    """SQLite: one ``--role all`` process. SIGKILL it mid-release, start it again: it finishes
    the order (after the dead lease expires); then stop it with timers pending, move the
    clock past them, start it again: the releases happen within seconds."""
    w = world
    first = w.start("all-1", "run", "--role", "all")
    order_id = _one_order_to_the_release(w)
    _kill_mid_release(w, order_id, [first])
    second = w.start("all-2", "run", "--role", "all")
    wait(w.state_is([order_id], "released"), LEASE_REAL + 15, "the order finished after a restart", w.logs)
    _released_once(w, order_id)

    ids = [w.place() for _ in range(3)]
    wait(w.held(ids), 20, "the new orders mirrored and held", w.logs)
    assert w.stop(second) == 0, second.text()
    w.control("POST", "/clock/advance", {"seconds": HOUR + 120})
    started = time.monotonic()
    w.start("all-3", "run", "--role", "all")
    wait(w.state_is(ids, "released"), 15, "the releases after the restart", w.logs)
    assert time.monotonic() - started < 15
    for placed in ids:
        _released_once(w, placed)
    _check_invariants(w)
