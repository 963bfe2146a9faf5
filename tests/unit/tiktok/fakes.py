"""Test doubles for the TikTok client: a fake TikTok over httpx.MockTransport, fake time."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.tiktok import (
    MemoryTokenStore,
    RetryPolicy,
    Runtime,
    TikTokClient,
    TokenSet,
)
from orderbridge.clock import from_unix

NOW = 1_700_000_000
APP_KEY = "6abc123"
APP_SECRET = "s3cr3t"
CIPHER = "ROW_cipherX"
API_BASE = "https://api.test"
AUTH_BASE = "https://auth.test"

Reply = httpx.Response | Exception


class FakeTime:
    """Wall clock and monotonic clock that only move when something sleeps."""

    def __init__(self, now: float = NOW) -> None:
        self.now = float(now)
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.mono += seconds


def envelope(
    data: Any = None, *, code: int = 0, message: str = "Success", request_id: str = "rid-1"
) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": request_id, "data": data}


def ok(data: Any = None, **kw: Any) -> httpx.Response:
    return httpx.Response(200, json=envelope(data if data is not None else {}, **kw))


def fail(code: int, message: str = "nope", status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json=envelope(None, code=code, message=message), headers=headers or None
    )


def tokens(
    *, access_in: float = 7 * 86400, refresh_in: float = 30 * 86400, suffix: str = "1"
) -> TokenSet:
    return TokenSet(
        access_token=f"access-{suffix}",
        access_expires_at=from_unix(NOW + access_in),
        refresh_token=f"refresh-{suffix}",
        refresh_expires_at=from_unix(NOW + refresh_in),
    )


def token_reply(suffix: str, now: float = NOW) -> httpx.Response:
    return ok(
        {
            "access_token": f"access-{suffix}",
            "access_token_expire_in": int(now) + 7 * 86400,
            "refresh_token": f"refresh-{suffix}",
            "refresh_token_expire_in": int(now) + 60 * 86400,
            "open_id": "open-1",
            "seller_name": "Matcha Co",
            "granted_scopes": ["seller.order.info"],
        }
    )


@dataclass
class FakeTikTok:
    """Answers requests from a queue (or a router); keeps every request it saw."""

    replies: list[Reply] = field(default_factory=list)
    router: Callable[[httpx.Request], Reply | Awaitable[Reply]] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.router is not None:
            reply = self.router(request)
            if not isinstance(reply, httpx.Response | Exception):
                reply = await reply
        else:
            assert self.replies, f"unexpected request {request.method} {request.url}"
            reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "api.test"]

    def auth_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "auth.test"]


@dataclass
class Harness:
    client: TikTokClient
    fake: FakeTikTok
    time: FakeTime
    recorder: MemoryRecorder
    store: MemoryTokenStore
    http: httpx.AsyncClient


def make_harness(
    *replies: Reply,
    router: Callable[[httpx.Request], Reply | Awaitable[Reply]] | None = None,
    token_set: TokenSet | None = None,
    shop_cipher: str | None = CIPHER,
    api_base: str = API_BASE,
    max_attempts: int = 4,
    refresh_margin: timedelta = timedelta(days=1),
    fanout: int = 4,
    draw: float = 1.0,
) -> Harness:
    fake = FakeTikTok(list(replies), router)
    time = FakeTime()
    recorder = MemoryRecorder()
    store = MemoryTokenStore(token_set or tokens())
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake.handle))
    runtime = Runtime(
        clock=time.clock,
        monotonic=time.monotonic,
        sleep=time.sleep,
        random=lambda: draw,  # 1.0 = full jitter at its upper bound: predictable delays
        recorder=recorder,
    )
    client = TikTokClient(
        http,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        token_store=store,
        api_base=api_base,
        auth_base=AUTH_BASE,
        shop_cipher=shop_cipher,
        shop_id="shop-1",
        runtime=runtime,
        retry=RetryPolicy(max_attempts=max_attempts),
        refresh_margin=refresh_margin,
        fanout=fanout,
    )
    return Harness(client, fake, time, recorder, store, http)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None
