"""OAuth: token calls, reactive (105002) and proactive refresh, serialised refreshes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.tiktok import (
    MemoryTokenStore,
    Runtime,
    TikTokAuth,
    TokenExpired,
    TokenManager,
    TokenSet,
    authorize_url,
)
from orderbridge.clock import from_unix
from orderbridge.errors import AuthError
from tests.unit.tiktok.fakes import (
    APP_KEY,
    AUTH_BASE,
    NOW,
    FakeTime,
    Harness,
    fail,
    ok,
    token_reply,
    tokens,
)


async def test_expired_token_is_refreshed_once_then_the_call_retried(
    make: Callable[..., Harness],
) -> None:
    h = make(fail(105002, "access token expired"), token_reply("2"), ok({"shops": []}))
    await h.client.get_authorized_shops()
    first, refresh, retry = h.fake.requests
    assert first.headers["x-tts-access-token"] == "access-1"
    assert (refresh.method, refresh.url.host, refresh.url.path) == (
        "GET",
        "auth.test",
        "/api/v2/token/refresh",
    )
    assert dict(refresh.url.params) == {
        "app_key": APP_KEY,
        "app_secret": "s3cr3t",
        "refresh_token": "refresh-1",
        "grant_type": "refresh_token",
    }
    assert "x-tts-access-token" not in refresh.headers
    assert "sign" not in refresh.url.params
    assert retry.headers["x-tts-access-token"] == "access-2"
    stored = h.store.tokens
    assert stored is not None
    assert stored.refresh_token == "refresh-2"  # the new refresh token is kept
    assert stored.access_expires_at == from_unix(NOW + 7 * 86400)
    assert stored.seller_name == "Matcha Co"


async def test_expired_twice_gives_up(make: Callable[..., Harness]) -> None:
    h = make(fail(105002, "expired"), token_reply("2"), fail(105002, "expired again"))
    with pytest.raises(TokenExpired):
        await h.client.get_authorized_shops()
    assert len(h.fake.requests) == 3


async def test_proactive_refresh_within_the_margin(make: Callable[..., Harness]) -> None:
    h = make(token_reply("2"), ok({"shops": []}), token_set=tokens(access_in=3600))
    await h.client.get_authorized_shops()
    refresh, call = h.fake.requests
    assert refresh.url.path == "/api/v2/token/refresh"
    assert call.headers["x-tts-access-token"] == "access-2"


async def test_no_refresh_outside_the_margin(make: Callable[..., Harness]) -> None:
    h = make(ok({"shops": []}), token_set=tokens(access_in=86400 + 60))
    await h.client.get_authorized_shops()
    assert h.fake.auth_requests() == []


async def test_concurrent_calls_share_one_refresh(make: Callable[..., Harness]) -> None:
    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            await asyncio.sleep(0)  # let the others pile up on the lock
            return token_reply("2")
        return ok({"shops": []})

    h = make(router=route, token_set=tokens(access_in=60))
    await asyncio.gather(*(h.client.get_authorized_shops() for _ in range(5)))
    assert len(h.fake.auth_requests()) == 1
    assert {r.headers["x-tts-access-token"] for r in h.fake.api_requests()} == {"access-2"}
    assert h.store.saves == 1


async def test_concurrent_105002_share_one_refresh(make: Callable[..., Harness]) -> None:
    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            await asyncio.sleep(0)
            return token_reply("2")
        if request.headers["x-tts-access-token"] == "access-1":
            await asyncio.sleep(0)
            return fail(105002, "expired")
        return ok({"shops": []})

    h = make(router=route)
    await asyncio.gather(*(h.client.get_authorized_shops() for _ in range(3)))
    assert len(h.fake.auth_requests()) == 1


async def test_proactive_refresh_failure_falls_back_on_a_valid_token(
    make: Callable[..., Harness],
) -> None:
    h = make(*[httpx.Response(503)] * 4, ok({"shops": []}), token_set=tokens(access_in=3600))
    await h.client.get_authorized_shops()
    assert h.fake.api_requests()[0].headers["x-tts-access-token"] == "access-1"
    assert h.store.saves == 0


async def test_expired_refresh_token_needs_reauthorisation(make: Callable[..., Harness]) -> None:
    h = make(token_set=tokens(access_in=-10, refresh_in=-5))
    with pytest.raises(AuthError) as caught:
        await h.client.get_authorized_shops()
    assert caught.value.code == "refresh_token_expired"
    assert h.fake.requests == []


async def test_no_tokens_is_an_auth_error(make: Callable[..., Harness]) -> None:
    h = make()
    h.store.tokens = None
    with pytest.raises(AuthError, match="authorise"):
        await h.client.get_authorized_shops()


async def test_refresh_rejection_is_an_auth_error(make: Callable[..., Harness]) -> None:
    h = make(fail(36004004, "refresh token invalid"), token_set=tokens(access_in=10))
    with pytest.raises(AuthError) as caught:
        await h.client.get_authorized_shops()
    assert caught.value.code == 36004004
    assert "refresh token invalid" in str(caught.value)


async def test_get_token_from_auth_code() -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return token_reply("9")

    time = FakeTime()
    recorder = MemoryRecorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
        auth = TikTokAuth(
            http,
            app_key=APP_KEY,
            app_secret="s3cr3t",
            auth_base=AUTH_BASE + "/",
            runtime=Runtime(clock=time.clock, monotonic=time.monotonic, recorder=recorder),
        )
        grant = await auth.get_token("CODE-1")
    (request,) = requests
    assert str(request.url).startswith("https://auth.test/api/v2/token/get?")
    assert dict(request.url.params) == {
        "app_key": APP_KEY,
        "app_secret": "s3cr3t",
        "auth_code": "CODE-1",
        "grant_type": "authorized_code",
    }
    token_set = grant.to_token_set(time.now)
    assert token_set.access_token == "access-9"
    assert token_set.granted_scopes == ("seller.order.info",)
    assert "access-9" not in repr(token_set)  # tokens never show in logs
    assert "CODE-1" not in repr(recorder.calls)
    store = MemoryTokenStore()
    await store.save(token_set)
    assert await store.load() == token_set


def test_relative_expiry_is_tolerated() -> None:
    from orderbridge.adapters.tiktok import TokenGrant

    grant = TokenGrant.model_validate(
        {
            "access_token": "a",
            "access_token_expire_in": 604800,
            "refresh_token": "r",
            "refresh_token_expire_in": NOW + 10,
        }
    )
    token_set = grant.to_token_set(NOW)
    assert token_set.access_expires_at == from_unix(NOW + 604800)
    assert token_set.refresh_expires_at == from_unix(NOW + 10)


def test_authorize_url() -> None:
    url = authorize_url("https://services.tiktokshops.us/open/authorize", "svc 1", "st&ate")
    assert url == ("https://services.tiktokshops.us/open/authorize?service_id=svc+1&state=st%26ate")
    assert authorize_url("https://x.test/a?lang=en", "1", "s") == (
        "https://x.test/a?lang=en&service_id=1&state=s"
    )


class _CountingStore(MemoryTokenStore):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.loads = 0

    async def load(self) -> TokenSet | None:
        self.loads += 1
        return await super().load()


async def test_ordinary_calls_reuse_the_tokens_for_a_second(make: Callable[..., Harness]) -> None:
    """A database read per API call is avoided: tokens read from the store serve ordinary
    calls for ``cache_seconds`` of real time; afterwards, and for every refresh decision,
    the store is read again (another process may have refreshed them)."""
    h = make(ok({"shops": []}))
    store = _CountingStore(tokens(access_in=86400 * 3))
    ticks = [100.0]
    manager = TokenManager(h.client.auth, store, monotonic=lambda: ticks[0])
    assert [await manager.access_token() for _ in range(5)] == ["access-1"] * 5
    assert store.loads == 1
    store.tokens = dataclasses.replace(tokens(access_in=86400 * 3), access_token="access-other")
    ticks[0] += 0.5
    assert await manager.access_token() == "access-1"  # still within the second
    ticks[0] += 0.6
    assert await manager.access_token() == "access-other"  # another process's refresh, seen
    assert store.loads == 2
    await manager.token_expired("access-stale")  # a refresh decision reads the store afresh
    assert store.loads == 3
    assert h.fake.auth_requests() == []  # the token had changed already: no refresh
