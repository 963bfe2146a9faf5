"""The adapters' HTTP client (``adapters.http``) against a real local HTTP/1.1 server.

The server counts the TCP connections it accepts, so reuse and churn are seen from the
other side of the socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from orderbridge.adapters.http import LeanTransport, make_http_client


@dataclass
class Server:
    """Answers ``GET /fast`` at once and ``GET /slow`` once ``release`` is set; keep-alive."""

    accepted: int = 0
    open: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"GET /slow"):
                    await self.release.wait()
                body = b'{"ok":true}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    srv = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield state
        state.release.set()
        for writer in state.writers:
            writer.close()


async def _until(check: Callable[[], bool]) -> None:
    """Wait (at most 5 s) for the server's counters, which its own tasks move."""
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110 - counters, not an event: nothing to wait on
            await asyncio.sleep(0.01)


async def test_idle_connections_are_kept_while_others_are_busy(server: Server) -> None:
    # Keep-alive limit 2: two idle connections are kept while five others are busy
    # (httpcore 1.0's own pool counts all seven against the limit and closes the idle ones).
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=2)
    async with httpx.AsyncClient(transport=LeanTransport(limits=limits), timeout=10) as http:
        busy = [asyncio.create_task(http.get(server.url("/slow"))) for _ in range(5)]
        await _until(lambda: server.accepted == 5)
        await asyncio.gather(*(http.get(server.url("/fast")) for _ in range(2)))
        assert server.accepted == 7
        answers = await asyncio.gather(*(http.get(server.url("/fast")) for _ in range(2)))
        assert [a.json() for a in answers] == [{"ok": True}] * 2
        assert (server.accepted, server.open) == (7, 7)  # the two idle ones were reused
        server.release.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*busy))


async def test_idle_connections_beyond_the_keepalive_limit_are_closed(server: Server) -> None:
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=2)
    async with httpx.AsyncClient(transport=LeanTransport(limits=limits), timeout=10) as http:
        server.release.set()
        await asyncio.gather(*(http.get(server.url("/slow")) for _ in range(6)))
        assert server.accepted == 6
        # The next request drops the four idle connections beyond the limit and reuses one.
        assert (await http.get(server.url("/fast"))).status_code == 200
        await _until(lambda: server.open == 2)
        assert server.accepted == 6


async def test_a_connection_the_server_closed_is_not_reused(server: Server) -> None:
    async with make_http_client(timeout=10) as http:
        assert (await http.get(server.url("/fast"))).status_code == 200
        server.writers[0].close()  # the server drops the idle keep-alive connection
        await _until(lambda: server.open == 0)
        assert (await http.get(server.url("/fast"))).json() == {"ok": True}
        assert server.accepted == 2


async def test_connection_errors_are_httpx_errors() -> None:
    async with make_http_client(timeout=2) as http:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")
