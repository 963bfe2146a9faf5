"""The demo's running world: sandboxes + the engine in one process, and a story clock.

``DemoWorld.start()`` serves both sandboxes in the running loop, makes a SQLite database in a
temporary directory, generates a secret key, wires ``Services`` on the sandbox world's clock
(so signatures and timers agree), serves the engine (web app + workers + pollers) on a free
port that both sandboxes deliver webhooks to, connects the sandbox shop and imports the
catalogues, and makes a demo admin with an API token (the engine's API is private). ``tick()`` moves the story clock in steps and waits, after each, until the engine
has caught up: nothing due, nothing leased, no webhook on its way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx

from orderbridge.adapters.db import (
    ConnectionRow,
    connections,
    generate_key,
    operators,
    orders,
    transaction,
)
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import Role, run
from orderbridge.devkit import ControlClient
from orderbridge.domain.policy import ThreePL
from orderbridge.engine.sandbox_connection import connect_sandbox, sandbox_settings
from orderbridge.engine.skus import import_catalogues
from orderbridge.engine.threepl.lookup import threepls_used
from orderbridge.engine.threepl.poll import ThreePLPoller
from orderbridge.private_files import write_private
from orderbridge.sandbox.runner import RunningSandboxes, SandboxWorld, serve
from orderbridge.settings import Settings

__all__ = ["DemoWorld"]

HOST: Final = "127.0.0.1"
# How long the engine may take to catch up after one clock step before the demo gives up.
SETTLE_TIMEOUT_SECONDS: Final = 30.0
SETTLE_POLL_SECONDS: Final = 0.03
# Consecutive quiet looks before the engine counts as caught up.
QUIET_LOOKS: Final = 2
ENGINE_START_TIMEOUT_SECONDS: Final = 15.0
DEMO_ADMIN: Final = "demo-admin"
KEEPALIVE_SECONDS: Final = 2.0
DEMO_TOKEN_DAYS: Final = 7


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether ``port`` can be bound now (the servers bind it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def fixed_ports(wanted: dict[str, int], engine_port: int) -> tuple[dict[str, int], int] | None:
    """The documented ports when every one is free, else None (the caller then takes any free ones)."""
    if all(port_is_free(p) for p in (*wanted.values(), engine_port)):
        return dict(wanted), engine_port
    return None


def free_port(host: str = HOST) -> int:
    """A port nobody listens on now (the engine binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoWorld:
    """Everything the demo runs, and how to move its clock."""

    world: SandboxWorld
    running: RunningSandboxes
    services: Services
    control: ControlClient
    connection: ConnectionRow
    engine_url: str
    admin_token: str = ""  # an API token of the demo admin (the database is thrown away after)
    config_path: str = ""  # orderbridge.toml naming the demo's database (removed when the demo stops)
    _stops: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _next_3pl_poll: datetime | None = None

    @property
    def info(self) -> dict[str, Any]:
        return self.running.info()

    def now(self) -> datetime:
        return self.services.clock.now()

    @classmethod
    async def start(cls, *, seed: int, start: datetime, ports: dict[str, int] | None = None,
                    engine_port: int = 0, workers: int = 4) -> DemoWorld:
        world = SandboxWorld(seed=seed, start=start, rate=0.0)
        running, stop_sandboxes = await serve(world, ports or {"tiktok": 0, "shopify": 0, "control": 0}, HOST)
        stops: list[Callable[[], Awaitable[None]]] = [stop_sandboxes]
        try:
            info = running.info()
            tmp = tempfile.TemporaryDirectory(prefix="orderbridge-demo-")
            port = engine_port or free_port()
            values: dict[str, Any] = {
                "database_url": f"sqlite:///{Path(tmp.name) / 'orderbridge.db'}", "secret_key": generate_key(),
                "base_url": f"http://{HOST}:{port}", "host": HOST, "port": port, "workers": workers,
                "log_level": "warning", **sandbox_settings(info),
            }
            settings = Settings(**values)
            config_path = _write_config(Path(tmp.name), settings)
            # Idle connections are dropped well before the servers' 5 s keep-alive closes them
            # (reusing one the server is closing fails with "Server disconnected").
            http = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS))
            services = Services.create(settings, clock=world.clock, http=http)

            async def close_services() -> None:
                await services.aclose()
                tmp.cleanup()

            stops.append(close_services)
            control = ControlClient(info["control_url"], http)
            # The story is about the lifecycle, not throughput: a roomy Shopify budget, no create cap.
            await control.shopify_shop_settings(info["shopify"]["shops"][0]["domain"], plan="plus",
                                                bucket_size=10_000, create_cap=0)
            connection = await connect_sandbox(services, info, name="demo")
            await import_catalogues(services, connection)
            stop_engine = asyncio.Event()
            started: dict[str, Any] = {}
            ready = asyncio.Event()

            def on_ready(what: dict[str, Any]) -> None:
                started.update(what)
                ready.set()

            engine = asyncio.create_task(run(services, Role.ALL, stop_engine, ready=on_ready), name="engine")

            async def stop_running_engine() -> None:
                stop_engine.set()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await engine

            stops.append(stop_running_engine)
            await asyncio.wait_for(ready.wait(), ENGINE_START_TIMEOUT_SECONDS)
            demo = cls(world, running, services, control, connection, str(started["web"]),
                       _demo_admin(services))
            demo.config_path = str(config_path)
            demo._stops = stops
            return demo
        except BaseException:
            for stop in reversed(stops):
                with contextlib.suppress(Exception):
                    await stop()
            raise

    async def stop(self) -> None:
        """Stop the engine, then the sandboxes (in reverse order of start)."""
        for stop in reversed(self._stops):
            with contextlib.suppress(Exception):
                await stop()
        self._stops.clear()

    # --- time ---------------------------------------------------------------------------

    def _engine_busy(self) -> bool:
        now = self.now()
        with transaction(self.services.db, write=False) as conn:
            return orders.busy_count(conn, self.connection.id, now) > 0

    async def _webhooks_in_flight(self) -> bool:
        deliveries = await self.control.deliveries()
        return any(d.get("status") == "pending" and not d.get("attempts") for d in deliveries)

    async def settle(self) -> None:
        """Wait until the engine has caught up with everything due now."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_SECONDS
        quiet = 0
        while quiet < QUIET_LOOKS:
            if loop.time() > deadline:
                raise TimeoutError("the engine did not catch up within "
                                   f"{SETTLE_TIMEOUT_SECONDS:.0f} s of one clock step")
            await asyncio.sleep(SETTLE_POLL_SECONDS)
            busy = await asyncio.to_thread(self._engine_busy) or await self._webhooks_in_flight()
            quiet = 0 if busy else quiet + 1

    async def tick(self, seconds: float, *, step: float = 600.0) -> None:
        """Advance the story clock by ``seconds`` in steps, letting the engine catch up after each."""
        await self.settle()
        left = seconds
        while left > 0:
            await self.control.advance(min(step, left))
            left -= step
            await self.settle()
            await self.poll()

    async def poll(self) -> None:
        """The 3PL poll on story time, every ``poll_interval_seconds`` of it.

        The engine's poller waits in real time between passes (up to 30 s), far longer than
        a story step takes, so on the story clock it would look at the 3PLs once a day: the
        demo runs the same 3PL poll (``ThreePLPoller``, what the engine's poller calls) after
        each step that reaches its time, then lets the engine catch up.
        """
        now = self.now()
        if self._next_3pl_poll is not None and now < self._next_3pl_poll:
            return
        self._next_3pl_poll = now + timedelta(seconds=self.services.settings.poll_interval_seconds)
        with transaction(self.services.db, write=False) as conn:
            row = connections.get_connection(conn, self.services.cipher, self.connection.id)
        used = threepls_used(self.services.policy(row or self.connection))
        amazon = self.services.amazon_mcf if ThreePL.AMAZON_MCF in used else None
        shipbob = self.services.shipbob if ThreePL.SHIPBOB in used else None
        if amazon is None and shipbob is None:
            return
        poller = ThreePLPoller(self.services.db, self.connection.id, self.services.clock.now,
                               amazon=amazon, shipbob=shipbob)
        if await poller.poll_once():
            await self.settle()


def _write_config(where: Path, settings: Settings) -> Path:
    """An ``orderbridge.toml`` (and its 0600 secrets file) so other commands can open the demo's database."""
    config = where / "orderbridge.toml"
    secrets = where / "orderbridge.secrets.toml"
    write_private(secrets, f"secret_key = {json.dumps(settings.secret_key)}\n")
    config.write_text(f"database_url = {json.dumps(settings.database_url)}\n"
                      f"secrets_file = {json.dumps(secrets.name)}\n", encoding="utf-8")
    return config


def _demo_admin(services: Services) -> str:
    """Make the demo admin; returns its API token (printed by the demo)."""
    now = services.clock.now()
    with transaction(services.db) as conn:
        user = operators.add_user(conn, DEMO_ADMIN, operators.Role.ADMIN, now=now)
        token, _ = operators.create_token(conn, user, "demo", now=now,
                                          expires_at=now + timedelta(days=DEMO_TOKEN_DAYS))
    return token
