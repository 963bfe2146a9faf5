"""OAuth for TikTok Shop: the authorize link, token calls, and a refreshing token manager.

Token calls are unsigned GETs to the auth host (``https://auth.tiktok-shops.com``):
``/api/v2/token/get`` (an authorization code, single-use, 30 min) and
``/api/v2/token/refresh``. Expiry fields are absolute Unix timestamps on the wire and
aware UTC datetimes here. Whether TikTok rotates refresh tokens is unconfirmed, so the
refresh token returned by every refresh is always stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Protocol

import httpx
from pydantic import BeforeValidator, Field

from orderbridge.adapters.tiktok._base import Text, TikTokModel, UnixTime, none_as_list
from orderbridge.adapters.tiktok._http import Prepared, RetryPolicy, Runtime, TikTokCallExecutor
from orderbridge.adapters.tiktok.codes import API_NAME, InvalidResponse
from orderbridge.clock import from_unix
from orderbridge.errors import AuthError, PermanentError, RetryableError

__all__ = [
    "DEFAULT_AUTHORIZE_BASE",
    "DEFAULT_AUTH_BASE",
    "DEFAULT_REFRESH_MARGIN",
    "TOKEN_CACHE_SECONDS",
    "MemoryTokenStore",
    "TikTokAuth",
    "TokenGrant",
    "TokenManager",
    "TokenSet",
    "TokenStore",
    "authorize_url",
]

DEFAULT_AUTH_BASE = "https://auth.tiktok-shops.com"
DEFAULT_AUTHORIZE_BASE = "https://services.tiktokshops.us/open/authorize"  # US sellers
DEFAULT_REFRESH_MARGIN = timedelta(days=1)
# How long ordinary calls reuse the tokens read from the store (real seconds).
TOKEN_CACHE_SECONDS = 1.0
# A proactive refresh that fails for a temporary reason falls back on the current token
# only if it stays valid at least this long (enough for the call about to be made).
MIN_REMAINING_VALIDITY = timedelta(minutes=5)
# Expiry values below this are durations, not timestamps (defensive; TikTok sends
# absolute timestamps, but a duration would otherwise look like 1970).
_EPOCH_THRESHOLD = 1_000_000_000


def authorize_url(base: str, service_id: str, state: str) -> str:
    """The seller-facing authorize link: ``base?service_id=…&state=…`` (``state`` comes
    back on the redirect with ``code``; use it against CSRF)."""
    return str(httpx.URL(base).copy_merge_params({"service_id": service_id, "state": state}))


@dataclass(frozen=True, slots=True)
class TokenSet:
    """The tokens of one authorisation (one seller), with absolute expiry instants."""

    access_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_token: str = field(repr=False)
    refresh_expires_at: datetime
    open_id: str = ""
    seller_name: str = ""
    granted_scopes: tuple[str, ...] = ()


class TokenStore(Protocol):
    """Where a seller's tokens live (the database in production)."""

    async def load(self) -> TokenSet | None: ...

    async def save(self, tokens: TokenSet) -> None: ...


class MemoryTokenStore:
    """Keeps the tokens in memory (tests, the demo)."""

    def __init__(self, tokens: TokenSet | None = None) -> None:
        self.tokens = tokens
        self.saves = 0

    async def load(self) -> TokenSet | None:
        return self.tokens

    async def save(self, tokens: TokenSet) -> None:
        self.tokens = tokens
        self.saves += 1


def _expiry(value: datetime | None, now: float, what: str) -> datetime:
    if value is None:
        raise InvalidResponse(f"TikTok token response without {what}", api=API_NAME)
    seconds = value.timestamp()
    return from_unix(now + seconds) if seconds < _EPOCH_THRESHOLD else value


class TokenGrant(TikTokModel):
    """The ``data`` of a token response."""

    access_token: Text = ""
    access_token_expire_in: UnixTime = None  # absolute, despite the name
    refresh_token: Text = ""
    refresh_token_expire_in: UnixTime = None  # absolute, despite the name
    open_id: Text = ""
    seller_name: Text = ""
    seller_base_region: Text = ""
    user_type: int | None = None  # 0 seller, 1 creator, 3 partner
    granted_scopes: Annotated[list[str], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )

    def to_token_set(self, now: float, previous: TokenSet | None = None) -> TokenSet:
        """A ``TokenSet``; a missing refresh token keeps ``previous``'s (never lose one)."""
        if not self.access_token:
            raise InvalidResponse("TikTok token response without access_token", api=API_NAME)
        refresh_token = self.refresh_token
        refresh_expiry = self.refresh_token_expire_in
        if not refresh_token and previous is not None:
            refresh_token, refresh_expiry = previous.refresh_token, previous.refresh_expires_at
        if not refresh_token:
            raise InvalidResponse("TikTok token response without refresh_token", api=API_NAME)
        return TokenSet(
            access_token=self.access_token,
            access_expires_at=_expiry(self.access_token_expire_in, now, "access expiry"),
            refresh_token=refresh_token,
            refresh_expires_at=_expiry(refresh_expiry, now, "refresh expiry"),
            open_id=self.open_id or (previous.open_id if previous else ""),
            seller_name=self.seller_name or (previous.seller_name if previous else ""),
            granted_scopes=tuple(self.granted_scopes)
            or (previous.granted_scopes if previous else ()),
        )


class TikTokAuth:
    """The token endpoints. Any permanent failure there is an ``AuthError``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_key: str,
        app_secret: str,
        auth_base: str = DEFAULT_AUTH_BASE,
        runtime: Runtime | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.app_key = app_key
        self._app_secret = app_secret
        self.auth_base = auth_base.rstrip("/")
        self.runtime = runtime or Runtime()
        self._executor = TikTokCallExecutor(http, self.runtime, retry or RetryPolicy())
        self._http = http

    async def get_token(self, auth_code: str) -> TokenGrant:
        """Exchange the redirect's ``code`` for tokens (single use; not retried on an
        unknown outcome)."""
        params = {"auth_code": auth_code, "grant_type": "authorized_code"}
        return await self._call("auth.token_get", "/api/v2/token/get", params, idempotent=False)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """New tokens from a refresh token."""
        params = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        # Retrying is no worse than refreshing later: either the old refresh token still
        # works, or a lost rotation already needs the seller to re-authorise.
        return await self._call(
            "auth.token_refresh", "/api/v2/token/refresh", params, idempotent=True
        )

    async def _call(
        self, operation: str, path: str, params: dict[str, str], *, idempotent: bool
    ) -> TokenGrant:
        query = {"app_key": self.app_key, "app_secret": self._app_secret, **params}

        async def build() -> Prepared:
            return Prepared(self._http.build_request("GET", self.auth_base + path, params=query))

        try:
            envelope = await self._executor.run(
                operation=operation, build=build, idempotent=idempotent
            )
        except PermanentError as exc:
            if isinstance(exc, AuthError | InvalidResponse):
                raise
            raise AuthError(
                str(exc),
                api=exc.api,
                operation=exc.operation,
                code=exc.code,
                request_id=exc.request_id,
                status=exc.status,
            ) from exc
        return TokenGrant.model_validate(envelope.data)


class TokenManager:
    """Hands out a valid access token, refreshing it when needed.

    - proactive: a token expiring within ``refresh_margin`` is refreshed before use;
    - reactive: after TikTok says 105002, ``token_expired`` refreshes (once per stale token);
    - refreshes are serialised by a lock, and a caller that waited re-reads the store so
      N concurrent callers cause one refresh. (Across processes, the store must serialise.)
    - the tokens read from the store are reused for ``cache_seconds`` (real time) by
      ordinary calls, which would otherwise each read the store (a database read per API
      call); every refresh decision (expiring, 105002, ``refresh_now``) reads it afresh,
      so a token refreshed by another process is seen there, and at most a second later
      elsewhere.
    """

    def __init__(
        self,
        auth: TikTokAuth,
        store: TokenStore,
        *,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        cache_seconds: float = TOKEN_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth = auth
        self.store = store
        self.refresh_margin = refresh_margin
        self.cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cached: tuple[float, TokenSet] | None = None
        self._clock = auth.runtime.clock
        self._lock = asyncio.Lock()

    def _now(self) -> datetime:
        return from_unix(self._clock())

    def _expiring(self, tokens: TokenSet) -> bool:
        return tokens.access_expires_at - self.refresh_margin <= self._now()

    async def _load(self, *, fresh: bool = True) -> TokenSet:
        cached = self._cached
        if not fresh and cached is not None and self._monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        tokens = await self.store.load()
        if tokens is None:
            raise AuthError(
                "no TikTok tokens: the seller must authorise the app",
                api=API_NAME,
                operation="tokens",
                code="not_authorised",
            )
        self._cached = (self._monotonic(), tokens)
        return tokens

    async def access_token(self) -> str:
        """A usable access token (refreshed first if it expires within the margin)."""
        tokens = await self._load(fresh=False)
        if not self._expiring(tokens):
            return tokens.access_token
        async with self._lock:
            tokens = await self._load()
            if not self._expiring(tokens):
                return tokens.access_token  # refreshed while we waited
            try:
                return (await self._refresh(tokens)).access_token
            except RetryableError:
                # The token is still good for a while: use it, refresh on a later call.
                if tokens.access_expires_at - MIN_REMAINING_VALIDITY > self._now():
                    return tokens.access_token
                raise

    async def token_expired(self, stale_access_token: str | None) -> None:
        """TikTok rejected ``stale_access_token`` as expired: refresh unless done already."""
        async with self._lock:
            tokens = await self._load()
            if stale_access_token is not None and tokens.access_token != stale_access_token:
                return
            await self._refresh(tokens)

    async def refresh_now(self) -> TokenSet:
        """Refresh unconditionally (e.g. on UPCOMING_AUTHORIZATION_EXPIRATION)."""
        async with self._lock:
            return await self._refresh(await self._load())

    async def _refresh(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_expires_at <= self._now():
            raise AuthError(
                "TikTok refresh token expired: the seller must re-authorise the app",
                api=API_NAME,
                operation="auth.token_refresh",
                code="refresh_token_expired",
            )
        grant = await self.auth.refresh(tokens.refresh_token)
        fresh = grant.to_token_set(self._clock(), previous=tokens)
        await self.store.save(fresh)
        self._cached = (self._monotonic(), fresh)
        return fresh
