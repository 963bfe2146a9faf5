"""Fixtures: the sandbox in-process on a ManualClock, a signing API client written from the doc."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orderbridge.clock import ManualClock, to_unix
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok import TikTokSandbox

BASE = "http://tiktok.test"


def doc_sign(secret: str, path: str, params: dict[str, str], body: bytes = b"") -> str:
    """The official recipe, written independently of the sandbox's signer."""
    s = path + "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    wrapped = secret.encode() + s.encode() + body + secret.encode()
    return hmac.new(secret.encode(), wrapped, hashlib.sha256).hexdigest()


class Client:
    """A minimal signed TikTok API client for tests."""

    def __init__(self, http: httpx.AsyncClient, sandbox: TikTokSandbox, clock: ManualClock) -> None:
        self.http = http
        self.sandbox = sandbox
        self.clock = clock
        info = sandbox.info(BASE)
        self.info = info
        self.app_key = info["app_key"]
        self.secret = info["app_secret"]
        self.shop = info["shops"][0]
        self.shop2 = info["shops"][1]
        self.token = self.shop["access_token"]
        self.cipher = self.shop["shop_cipher"]

    async def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        raw_body: bytes | None = None,
        cipher: str | None = "default",
        token: str | None = "default",
        timestamp: int | None = None,
        sign: str | None = "auto",
        app_key: str | None = "default",
        secret: str | None = None,
    ) -> httpx.Response:
        params: dict[str, str] = {k: str(v) for k, v in (query or {}).items()}
        if app_key is not None:
            params["app_key"] = self.app_key if app_key == "default" else app_key
        params["timestamp"] = str(timestamp if timestamp is not None else to_unix(self.clock.now()))
        if cipher is not None:
            params["shop_cipher"] = self.cipher if cipher == "default" else cipher
        content = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else b"")
        if sign == "auto":
            params["sign"] = doc_sign(secret or self.secret, path, params, content)
        elif sign is not None:
            params["sign"] = sign
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["x-tts-access-token"] = self.token if token == "default" else token
        return await self.http.request(method, BASE + path, params=params, content=content, headers=headers)

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = await self.call(method, path, **kw)
        payload = resp.json()
        assert payload["code"] == 0, payload
        return payload["data"]

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = await self.http.request(method, BASE + "/_control/tiktok" + path, json=body)
        assert resp.status_code < 300, resp.text
        return resp.json()

    async def order(self, **body: Any) -> dict[str, Any]:
        body.setdefault("items", [{"seller_sku": "MW-SET-NAT", "units": 1}])
        result: dict[str, Any] = await self.control("POST", "/orders", body)
        return result

    async def detail(self, order_id: str) -> dict[str, Any]:
        data = await self.ok("GET", "/order/202309/orders", query={"ids": order_id})
        order: dict[str, Any] = data["orders"][0]
        return order


def make_app(sandbox: TikTokSandbox) -> FastAPI:
    outer = FastAPI()
    outer.include_router(sandbox.control, prefix="/_control/tiktok")
    outer.mount("/", sandbox.app)
    return outer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def scheduler(clock: ManualClock) -> Scheduler:
    return Scheduler(clock)


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan(seed=1)


@pytest.fixture
def received() -> list[httpx.Request]:
    return []


@pytest.fixture
def webhook_status() -> list[int]:
    return [200]


@pytest.fixture
async def sandbox(
    clock: ManualClock, scheduler: Scheduler, faults: FaultPlan,
    received: list[httpx.Request], webhook_status: list[int],
) -> AsyncIterator[TikTokSandbox]:
    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(webhook_status[0])

    hooks = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    box = TikTokSandbox(clock=clock, scheduler=scheduler, faults=faults, seed=0, http=hooks)
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
async def api(sandbox: TikTokSandbox, clock: ManualClock) -> AsyncIterator[Client]:
    transport = httpx.ASGITransport(app=make_app(sandbox))
    async with httpx.AsyncClient(transport=transport) as http:
        yield Client(http, sandbox, clock)
