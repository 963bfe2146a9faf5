"""The composition root: the one place that reads settings and wires everything.

``Services.create(settings)`` builds the shared parts (database engine, token cipher, clock,
HTTP client, Shopify throttle registry) and hands out, per connection, the TikTok and
Shopify clients and the domain policy. Everything else (engine workers, web app, CLI
commands) receives a ``Services`` and never reads settings or builds clients itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from orderbridge.adapters.calls import CallRecorder, NullRecorder
from orderbridge.adapters.db import TokenCipher, make_engine, migrate
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.http import make_http_client
from orderbridge.adapters.shopify import ShopifyClient, ThrottleRegistry
from orderbridge.adapters.tiktok import Runtime, TikTokClient
from orderbridge.clock import Clock, RemoteClock, SystemClock
from orderbridge.domain.policy import Policy
from orderbridge.engine.metrics import Metrics, ObservingRecorder
from orderbridge.engine.policy_config import policy_from_json
from orderbridge.engine.tokens import DbTokenStore
from orderbridge.errors import ConfigurationError
from orderbridge.settings import Settings

__all__ = ["DEFAULT_HTTP_TIMEOUT_SECONDS", "Services"]

DEFAULT_HTTP_TIMEOUT_SECONDS = 30.0


@dataclass
class Services:
    """Shared, long-lived parts of a running OrderBridge process."""

    settings: Settings
    clock: Clock
    db: Engine
    http: httpx.AsyncClient
    throttle: ThrottleRegistry
    # This process's Prometheus registry (``/metrics``); every client's calls are counted.
    metrics: Metrics = field(default_factory=Metrics)
    _cipher: TokenCipher | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.metrics.watch_state(self.db, self.clock.now, self.throttle)

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        migrate_db: bool = True,
    ) -> Services:
        """Wire everything from settings (migrating the database to head by default)."""
        if clock is None:
            clock = _clock_from_settings(settings)
        if migrate_db:
            migrate.upgrade(settings.database_url)
        return cls(
            settings=settings,
            clock=clock,
            db=make_engine(settings.database_url),
            http=http or make_http_client(timeout=DEFAULT_HTTP_TIMEOUT_SECONDS),
            throttle=ThrottleRegistry(),
        )

    @property
    def cipher(self) -> TokenCipher:
        """The token cipher; a missing ORDERBRIDGE_SECRET_KEY is a clear error, never plaintext."""
        if self._cipher is None:
            self._cipher = TokenCipher(self.settings.secret_key)
        return self._cipher

    def policy(self, connection: ConnectionRow) -> Policy:
        return policy_from_json(connection.policy, connection.tiktok_shop_id)

    def tiktok_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None) -> TikTokClient:
        s = self.settings
        if not s.tiktok_app_key or not s.tiktok_app_secret:
            raise ConfigurationError(
                "ORDERBRIDGE_TIKTOK_APP_KEY and ORDERBRIDGE_TIKTOK_APP_SECRET are required to talk to TikTok"
            )
        clock = self.clock
        return TikTokClient(
            self.http,
            app_key=s.tiktok_app_key,
            app_secret=s.tiktok_app_secret,
            token_store=DbTokenStore(self.db, self.cipher, connection.id, clock),
            api_base=s.tiktok_api_base,
            auth_base=s.tiktok_auth_base,
            shop_cipher=connection.tiktok_shop_cipher,
            shop_id=connection.tiktok_shop_id,
            runtime=Runtime.on(clock, self._observed(recorder, connection)),
        )

    def shopify_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None) -> ShopifyClient:
        if not connection.shopify_token:
            raise ConfigurationError(f"connection {connection.name!r} has no Shopify token: run `orderbridge connect shopify`")
        return ShopifyClient(
            shop_domain=connection.shopify_domain,
            access_token=connection.shopify_token,
            http=self.http,
            api_version=self.settings.shopify_api_version,
            endpoint_template=self.settings.shopify_endpoint_template,
            recorder=self._observed(recorder, connection),
            registry=self.throttle,
            clock=self.clock,  # call records on the engine's clock, like every timeline entry
        )

    def _observed(self, recorder: CallRecorder | None, connection: ConnectionRow) -> CallRecorder:
        """``recorder``, with every call also counted in the metrics and failures logged."""
        return ObservingRecorder(recorder or NullRecorder(), self.metrics, connection.id)

    async def aclose(self) -> None:
        if isinstance(self.clock, RemoteClock):
            self.clock.close()
        await self.http.aclose()
        self.db.dispose()

    def describe(self) -> dict[str, Any]:
        """What this process talks to (no secrets)."""
        return {
            "database": self.settings.database_url.split("@")[-1],
            "tiktok_api_base": self.settings.tiktok_api_base,
            "shopify_endpoint_template": self.settings.shopify_endpoint_template,
            "clock": self.settings.clock_source,
        }


def _clock_from_settings(settings: Settings) -> Clock:
    """``clock_source``: the wall clock, or the sandbox's clock followed over its control API."""
    url = settings.sandbox_clock_url
    if url is None:
        return SystemClock()
    try:
        return RemoteClock.from_control_url(url).start()
    except Exception as exc:
        raise ConfigurationError(
            f"ORDERBRIDGE_CLOCK_SOURCE: cannot read the sandbox clock at {url}/clock "
            f"({exc.__class__.__name__}: {exc}); is `orderbridge sandbox` running?"
        ) from exc
