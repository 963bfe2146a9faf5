"""A client that disconnects while the sandbox reads its request body (an engine stopping
mid-call) is one debug line, not a traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.requests import ClientDisconnect

from orderbridge.sandbox.common.server import QuietDisconnect


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


async def _call(app: Any) -> list[dict[str, Any]]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/echo", "raw_path": b"/echo", "query_string": b"", "root_path": "",
             "headers": [(b"content-length", b"10")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_without_the_wrapper_the_disconnect_escapes() -> None:
    with pytest.raises(ClientDisconnect):
        await _call(_app())


async def test_a_disconnect_is_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="orderbridge.sandbox.common.server"):
        await _call(QuietDisconnect(_app(), "tiktok"))
    lines = [r for r in caplog.records if r.name == "orderbridge.sandbox.common.server"]
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (logging.DEBUG, "tiktok sandbox: the client went away during POST /echo")]
