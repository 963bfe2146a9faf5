"""``orderbridge run``: the web app, the reconciler workers and the pollers, by role.

- ``all`` (the embedded default, SQLite): one process serves the web app and runs
  ``settings.workers`` worker tasks, the pollers, the retention pass (``retention.py``), the
  SLA alerter (``sla_alerts.py``) and the stock push (``stock_push.py``). A webhook that marks a link due wakes the workers at once
  (the ``WakeOnWrite`` wrapper around the app).
- ``web``: only the web app (PostgreSQL scale-out: put several behind a load balancer).
- ``worker``: only workers, pollers, the retention pass, the SLA alerter and the stock push (PostgreSQL scale-out: as many processes on as many
  machines as you like; the claim's ``SKIP LOCKED`` keeps them off each other's orders, the
  poller lease keeps one poller per shop, and idle workers are woken by the ``NOTIFY`` that
  every mark-due sends on commit, ``adapters/db/wake.py``, with a safety poll every 30 s).

Shutdown (``stop`` set, e.g. by SIGINT/SIGTERM): workers stop claiming, finish the links they
hold (or release them if interrupted), pollers release their leases, uvicorn drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from enum import StrEnum
from functools import partial
from typing import Any, Final

import uvicorn

from orderbridge.bootstrap import Services
from orderbridge.engine.poller import Poller
from orderbridge.engine.retention import Retention
from orderbridge.engine.sla_alerts import SlaAlerter
from orderbridge.engine.stock_push import StockPusher
from orderbridge.engine.worker import Reconciler, default_owner

# A worker heartbeat (the poller's last pass) older than this makes /readyz say not ready.
WORKER_HEARTBEAT_STALE_SECONDS: Final = 120.0

__all__ = ["Role", "WakeOnWrite", "WebServer", "run"]

log = logging.getLogger(__name__)

# How long workers get to finish the links they hold after a stop.
SHUTDOWN_GRACE_SECONDS: Final = 20.0
# uvicorn's own drain time for open requests.
WEB_GRACEFUL_SECONDS: Final = 5
STARTUP_TIMEOUT_SECONDS: Final = 10.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Role(StrEnum):
    """What one ``orderbridge run`` process does."""

    ALL = "all"  # web app + workers + pollers (one process; the SQLite default)
    WEB = "web"  # web app only (scale-out)
    WORKER = "worker"  # workers + pollers only (scale-out)


class WakeOnWrite:
    """ASGI wrapper: after any successful POST (webhooks, operator actions) call ``wake``,
    so in-process workers look at the links it marked due without waiting."""

    def __init__(self, app: ASGIApp, wake: Callable[[], None]) -> None:
        self.app = app
        self.wake = wake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        status: dict[str, int] = {}

        async def watch(message: Message) -> None:
            if message.get("type") == "http.response.start":
                status["code"] = int(message.get("status", 0))
            await send(message)

        await self.app(scope, receive, watch)
        if 200 <= status.get("code", 0) < 300:
            self.wake()


class WebServer:
    """uvicorn in the running loop (signals are handled by ``run``'s caller)."""

    def __init__(self, app: Any, host: str, port: int, log_level: str = "warning") -> None:
        config = uvicorn.Config(
            # log_config=None: uvicorn's records go through the process's one log handler.
            app, host=host, port=port, log_level=log_level, lifespan="off", access_log=False,
            log_config=None,
            timeout_graceful_shutdown=WEB_GRACEFUL_SECONDS,
        )
        self.server = uvicorn.Server(config)
        self.server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Serve; returns the bound port (useful with port 0)."""
        self.task = asyncio.create_task(self.server.serve(), name="orderbridge web")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("the web server stopped during start-up")
            if loop.time() > deadline:
                raise TimeoutError("the web server did not start")
            await asyncio.sleep(0.01)
        sockets = [s for srv in self.server.servers for s in srv.sockets]
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.task, timeout=WEB_GRACEFUL_SECONDS + 1)


def build_web_app(
    services: Services,
    wake: Callable[[], None] | None = None,
    workers: Callable[[], str | None] | None = None,
) -> ASGIApp:
    """The web app, wrapped so its writes wake in-process workers (``workers``: their
    heartbeat check for ``/readyz``)."""
    from orderbridge.web.app import create_app

    app: ASGIApp = create_app(services, workers=workers)
    return WakeOnWrite(app, wake) if wake is not None else app


def _workers_alive(poller: Poller, tasks: list[asyncio.Task[None]]) -> str | None:
    """None when this process's workers are alive (``/readyz``), else why not."""
    dead = [t.get_name() for t in tasks if t.done()]
    if dead:
        return f"worker task(s) stopped: {', '.join(dead)}"
    if poller.last_pass_monotonic is None:
        return None if tasks else "workers not started"  # started; the first pass is under way
    age = time.monotonic() - poller.last_pass_monotonic
    if age > WORKER_HEARTBEAT_STALE_SECONDS:
        return f"no poller pass for {age:.0f} s"
    return None


async def run(
    services: Services,
    role: Role | str,
    stop: asyncio.Event,
    *,
    ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run ``role`` until ``stop`` is set, then shut down gracefully.

    ``ready`` is called once everything is up, with what runs where (the CLI prints it).
    """
    role = Role(role)
    s = services.settings
    owner = default_owner(role.value)
    reconciler = Reconciler(services, owner, batch=s.claim_batch)
    poller = Poller(services, owner, on_due=reconciler.notify)
    web: WebServer | None = None
    # Built before anything starts: a bad alert channel setting fails the start, not later.
    alerter = SlaAlerter(services, owner) if role in (Role.ALL, Role.WORKER) else None
    tasks: list[asyncio.Task[None]] = []
    info: dict[str, Any] = {"role": role.value, "owner": owner, **services.describe()}
    if role in (Role.ALL, Role.WEB):
        wake = reconciler.notify if role is Role.ALL else None
        alive = partial(_workers_alive, poller, tasks) if role is Role.ALL else None
        web = WebServer(build_web_app(services, wake, alive), s.host, s.port, s.log_level)
        info["web"] = f"http://{s.host}:{await web.start()}"
    if role is Role.WORKER and s.metrics_port is not None:  # Prometheus scrapes workers too
        from orderbridge.web.metrics_app import create_metrics_app

        web = WebServer(create_metrics_app(services), s.host, s.metrics_port, s.log_level)
        info["metrics"] = f"http://{s.host}:{await web.start()}/metrics"
    if alerter is not None:
        tasks.append(asyncio.create_task(reconciler.run_forever(stop), name="reconciler"))
        tasks.append(asyncio.create_task(poller.run_forever(stop), name="poller"))
        tasks.append(asyncio.create_task(Retention(services, owner).run_forever(stop), name="retention"))
        tasks.append(asyncio.create_task(alerter.run_forever(stop), name="sla alerter"))
        pusher = StockPusher(db=services.db, clock=services.clock, cipher=services.cipher,
                             tiktok_for=services.tiktok_client, shopify_for=services.shopify_client)
        tasks.append(asyncio.create_task(pusher.run_forever(stop), name="stock push"))
        info["sla_alert_channels"] = [c.name for c in alerter.channels]
        info["workers"] = s.workers
    if ready is not None:
        ready(info)
    try:
        await stop.wait()
    finally:
        stop.set()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in pending:  # interrupted: their passes release what they hold
                task.cancel()
            for task in [*done, *pending]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if web is not None:
            await web.stop()
        log.info("orderbridge %s stopped", role.value)
