"""The HTTP client the adapters share: httpx, with cheaper bookkeeping of pooled connections.

Before every request and after every response, httpcore's pool (1.0.x) walks its
connections. Two costs grew with the 15-45 connections the engine holds to the sandboxes in
a flash sale (measured together ~10 % of the engine's CPU):

- for *each* idle connection it counts *all* connections again (quadratic), and because
  it counts all of them, not the idle ones, it closes idle connections whenever more than
  ``max_keepalive_connections`` exist at all: a burst turned into a new TCP connection for
  most requests. ``_LeanPool`` does the same walk once, keeping up to
  ``max_keepalive_connections`` *idle* connections (what httpx documents the limit to mean);
- it asks each kept-alive connection whether the server has closed it
  (``get_extra_info("is_readable")``), which through httpcore's anyio stream rebuilds
  anyio's table of socket attributes and calls ``getpeername()`` each time. ``_LeanStream``
  keeps the connection's socket from the start and answers with one ``poll()``, as
  httpcore itself does once it has the socket.

Everything else (sending, timeouts, errors, TLS, limits, proxies from the environment) is
httpx's and httpcore's own.
"""

# httpcore's network interface passes timeouts as parameters: its signatures are kept.
# ruff: noqa: ASYNC109

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["LeanTransport", "make_http_client"]


def make_http_client(*, timeout: float) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with httpx's defaults (limits, TLS, environment) on a
    ``LeanTransport``."""
    return httpx.AsyncClient(timeout=timeout, transport=LeanTransport())


class LeanTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose pool checks idle connections cheaply."""

    def __init__(self, *, limits: httpx.Limits | None = None) -> None:
        chosen = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(limits=chosen)
        # The pool httpx builds (no proxy), with the lean bookkeeping and network backend.
        self._pool = _LeanPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=chosen.max_connections,
            max_keepalive_connections=chosen.max_keepalive_connections,
            keepalive_expiry=chosen.keepalive_expiry,
            network_backend=_LeanBackend(),
        )


class _LeanPool(httpcore.AsyncConnectionPool):
    """httpcore's pool whose bookkeeping pass is linear (see the module docstring)."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        # Called (by httpcore, under its lock) whenever a request joins or leaves the pool;
        # returns the connections to close. Drop closed and expired connections and the
        # idle ones beyond the keep-alive limit, then give every queued request the first
        # connection that can take it, else a new one (closing an idle one at the limit).
        closing: list[httpcore.AsyncConnectionInterface] = []
        kept: list[httpcore.AsyncConnectionInterface] = []
        idle = 0
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.has_expired():
                closing.append(connection)
                continue
            if connection.is_idle():
                if idle >= self._max_keepalive_connections:
                    closing.append(connection)
                    continue
                idle += 1
            kept.append(connection)
        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            chosen = next((c for c in kept if c.can_handle_request(origin) and c.is_available()), None)
            if chosen is None:
                if len(kept) >= self._max_connections:
                    spare = next((c for c in kept if c.is_idle()), None)
                    if spare is None:
                        continue  # waits for a connection to come free
                    kept.remove(spare)
                    closing.append(spare)
                chosen = self.create_connection(origin)
                kept.append(chosen)
            pool_request.assign_to_connection(chosen)
        self._connections[:] = kept
        return closing


class _LeanBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, its streams wrapped in ``_LeanStream``."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _LeanStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _LeanStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _LeanStream(httpcore.AsyncNetworkStream):
    """A stream that knows its socket, so "is the idle connection readable" is one poll()."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _LeanStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Data (or the end of the stream) waits on ``sock``; a socket that is gone counts as
    readable, so the pool drops its connection (httpcore's rule)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
