"""The signed-request machinery under ``TikTokClient``: common parameters, shop cipher
rules, JSON encoding, paging and bounded fan-out."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Self, TypeVar

import httpx

from orderbridge.adapters import jsontext
from orderbridge.adapters.limiter import RateLimiter
from orderbridge.adapters.tiktok._http import Prepared, RetryPolicy, Runtime, TikTokCallExecutor
from orderbridge.adapters.tiktok.auth import (
    DEFAULT_AUTH_BASE,
    DEFAULT_REFRESH_MARGIN,
    TikTokAuth,
    TokenManager,
    TokenStore,
)
from orderbridge.adapters.tiktok.codes import API_NAME, InvalidResponse
from orderbridge.adapters.tiktok.signing import sign_request
from orderbridge.adapters.tiktok.versions import versioned_path
from orderbridge.errors import ConfigurationError

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_FANOUT",
    "ClientCore",
    "check_page_size",
    "encode_json",
    "paginate",
    "takes_shop_cipher",
]

T = TypeVar("T")

DEFAULT_API_BASE = "https://open-api.tiktokglobalshop.com"
DEFAULT_FANOUT = 4  # concurrent requests when one call is split into batches
# Endpoints that refuse a shop_cipher (TikTok answers 36009004 "Unexpected identifier").
NO_CIPHER_PREFIXES = (
    "/authorization/",
    "/seller/",
    "/product/202309/global_products",
    "/product/202309/images/upload",
    "/product/202309/files/upload",
)
# Path parameters are ids; anything else would make the signed path ambiguous.
_SEGMENT = re.compile(r"^[A-Za-z0-9_.~-]+$")


def takes_shop_cipher(path_template: str) -> bool:
    """Whether an endpoint is shop-scoped (gets ``shop_cipher``)."""
    return not path_template.startswith(NO_CIPHER_PREFIXES)


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Serialise once; these exact bytes are both signed and sent."""
    return jsontext.dumps_bytes(body)


def _segment(value: str) -> str:
    if not _SEGMENT.match(value):
        raise ValueError(f"not a valid id for a URL path: {value!r}")
    return value


class ClientCore:
    """Holds credentials, tokens, limiter and retry policy; sends signed requests."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_key: str,
        app_secret: str,
        token_store: TokenStore,
        api_base: str = DEFAULT_API_BASE,
        auth_base: str = DEFAULT_AUTH_BASE,
        shop_cipher: str | None = None,
        shop_id: str | None = None,
        runtime: Runtime | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        fanout: int = DEFAULT_FANOUT,
    ) -> None:
        if not app_key or not app_secret:
            raise ConfigurationError("TikTok app_key and app_secret are required")
        if fanout < 1:
            raise ValueError("fanout must be at least 1")
        self.app_key = app_key
        self._app_secret = app_secret
        self.shop_cipher = shop_cipher
        self.shop_id = shop_id
        self.runtime = runtime or Runtime()
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter(
            monotonic=self.runtime.monotonic, sleep=self.runtime.sleep
        )
        self.fanout = fanout
        self.api_base = api_base.rstrip("/")
        # A base with a path prefix (a sandbox mounted under /tiktok) is part of the path
        # the server sees, so it is part of the signed path too.
        self._base_path = httpx.URL(self.api_base).path.rstrip("/")
        self._http = http
        self.auth = TikTokAuth(
            http,
            app_key=app_key,
            app_secret=app_secret,
            auth_base=auth_base,
            runtime=self.runtime,
            retry=self.retry,
        )
        self.tokens = TokenManager(self.auth, token_store, refresh_margin=refresh_margin)
        self._executor = TikTokCallExecutor(http, self.runtime, self.retry, self.limiter)

    def for_shop(self, shop_cipher: str, shop_id: str | None = None) -> Self:
        """A client for one shop of the same seller, sharing tokens, limiter and policy."""
        clone = copy.copy(self)
        clone.shop_cipher = shop_cipher
        clone.shop_id = shop_id
        return clone

    async def _call(
        self,
        operation: str,
        method: str,
        template: str,
        *,
        idempotent: bool,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        body: Mapping[str, Any] | None = None,
        order_ref: str | None = None,
    ) -> dict[str, Any]:
        """Send one signed call; return TikTok's ``data``."""
        template = versioned_path(operation, template)
        segments = {k: _segment(v) for k, v in (path_params or {}).items()}
        path = self._base_path + template.format(**segments)
        url = self.api_base + template.format(**segments)
        cipher: str | None = None
        if takes_shop_cipher(template):
            if not self.shop_cipher:
                raise ConfigurationError(
                    f"TikTok {operation} is shop-scoped: this client has no shop_cipher "
                    "(use for_shop())"
                )
            cipher = self.shop_cipher
        content = b"" if method == "GET" else encode_json(body or {})
        fixed = {k: str(v) for k, v in (query or {}).items() if v is not None}

        async def build() -> Prepared:
            token = await self.tokens.access_token()
            params = {**fixed, "app_key": self.app_key, "timestamp": str(int(self.runtime.clock()))}
            if cipher is not None:
                params["shop_cipher"] = cipher
            params["sign"] = sign_request(self._app_secret, path, params, content)
            request = self._http.build_request(
                method,
                url,
                params=params,
                content=content or None,
                headers={"x-tts-access-token": token, "content-type": "application/json"},
            )
            return Prepared(request, token)

        envelope = await self._executor.run(
            operation=operation,
            build=build,
            idempotent=idempotent,
            limiter_key=(self.shop_id or self.shop_cipher or "", template),
            on_token_expired=self.tokens.token_expired,
            order_ref=order_ref,
        )
        return envelope.data

    async def _fan_out(
        self, batches: Sequence[T], fetch: Callable[[T], Awaitable[list[Any]]]
    ) -> list[Any]:
        """Run ``fetch`` per batch, at most ``fanout`` at once; results in batch order.

        On the first failure the other batches are cancelled and the error is raised.
        """
        semaphore = asyncio.Semaphore(self.fanout)

        async def run(batch: T) -> list[Any]:
            async with semaphore:
                return await fetch(batch)

        tasks = [asyncio.ensure_future(run(batch)) for batch in batches]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [item for batch_result in results for item in batch_result]


async def paginate(
    fetch: Callable[[str | None], Awaitable[tuple[Sequence[T], str]]], operation: str
) -> AsyncIterator[T]:
    """Yield every item of every page; stop when the next page token is empty."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        items, next_token = await fetch(token)
        for item in items:
            yield item
        if not next_token:
            return
        if next_token in seen:
            raise InvalidResponse(
                f"TikTok {operation}: page token repeats", api=API_NAME, operation=operation
            )
        seen.add(next_token)
        token = next_token


def check_page_size(page_size: int, maximum: int) -> int:
    if not 1 <= page_size <= maximum:
        raise ValueError(f"page_size must be between 1 and {maximum}")
    return page_size
