"""Serving sandbox apps over real HTTP, each on its own port, in one event loop.

``ServerGroup`` starts several ASGI apps with uvicorn inside the running loop and reports
the ports they bound (port 0 = any free port). ``ServerThread`` runs a coroutine-built
group in a background thread with its own loop, for tests and the CLI demo, so that
synchronous test code can talk to real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect

__all__ = ["QuietDisconnect", "ServedApp", "ServerGroup", "ServerThread"]

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 20.0


@dataclass
class ServedApp:
    name: str
    app: Any
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class QuietDisconnect:
    """ASGI wrapper: a client that goes away while its request is read (an engine stopping
    mid-call) is one debug line, not an "Exception in ASGI application" traceback."""

    def __init__(self, app: Any, name: str) -> None:
        self.app, self.name = app, name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            log.debug("%s sandbox: the client went away during %s %s", self.name, scope.get("method"),
                      scope.get("path"))


class ServerGroup:
    """Several uvicorn servers in the current event loop."""

    def __init__(self, apps: list[ServedApp], log_level: str = "warning") -> None:
        self.apps = apps
        self._servers: list[uvicorn.Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._log_level = log_level

    async def start(self) -> None:
        for served in self.apps:
            config = uvicorn.Config(
                QuietDisconnect(served.app, served.name),
                host=served.host,
                port=served.port,
                log_level=self._log_level,
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
            server = uvicorn.Server(config)
            # The owner (CLI or test) handles signals for the whole group.
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            self._servers.append(server)
            self._tasks.append(asyncio.create_task(server.serve()))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        for served, server, task in zip(self.apps, self._servers, self._tasks, strict=True):
            while not server.started:
                if task.done():
                    task.result()  # re-raise the start-up error (port in use, ...)
                    raise RuntimeError(f"{served.name} server stopped during start-up")
                if loop.time() > deadline:
                    raise TimeoutError(f"{served.name} server did not start")
                await asyncio.sleep(0.01)
            sockets = [s for srv in server.servers for s in srv.sockets]
            served.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        for task in self._tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
        self._servers.clear()
        self._tasks.clear()

    def urls(self) -> dict[str, str]:
        return {a.name: a.url for a in self.apps}


class ServerThread:
    """Runs ``setup`` (which starts servers and background tasks) in a thread's own loop.

    ``setup`` is awaited in the new loop and returns a teardown coroutine function; the
    thread keeps the loop running until ``stop()``.
    """

    def __init__(self, setup: Callable[[], Awaitable[Callable[[], Awaitable[None]]]]) -> None:
        self._setup = setup
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop_event: asyncio.Event | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "not started"
        return self._loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_SECONDS + 5):
            raise TimeoutError("sandbox thread did not start")
        if self._error is not None:
            raise RuntimeError("sandbox failed to start") from self._error

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._amain())
        finally:
            loop.close()

    async def _amain(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            teardown = await self._setup()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await teardown()

    def call(self, fn: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 30) -> Any:
        """Run a coroutine function in the sandbox loop and return its result."""
        return asyncio.run_coroutine_threadsafe(fn(), self.loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._stop_event is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_event.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    @contextlib.contextmanager
    def running(self) -> Iterator[ServerThread]:
        self.start()
        try:
            yield self
        finally:
            self.stop()
