"""The composition root: the one place that reads settings and wires everything.

``Services.create(settings)`` builds the shared parts (database engine, token cipher, clock,
HTTP client, Shopify throttle registry) and hands out, per connection, the TikTok and
Shopify clients and the domain policy. Everything else (engine workers, web app, CLI
commands) receives a ``Services`` and never reads settings or builds clients itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx

from orderbridge.adapters.alert_channels import AlertChannel, EmailChannel, WebhookChannel
from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.calls import CallRecorder, NullRecorder
from orderbridge.adapters.db import ConnectionRow, Database, TokenCipher, make_engine, migrate
from orderbridge.adapters.http import make_http_client
from orderbridge.adapters.retry import Runtime as RestRuntime
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shopify import ShopifyClient, ThrottleRegistry
from orderbridge.adapters.shopify.oauth import ShopifyOAuth
from orderbridge.adapters.tiktok import Runtime, TikTokClient
from orderbridge.adapters.us_calendar import us_business_calendar
from orderbridge.clock import Clock, RemoteClock, SystemClock
from orderbridge.domain.policy import Policy
from orderbridge.domain.sla import BusinessCalendar
from orderbridge.engine.metrics import Metrics, ObservingRecorder
from orderbridge.engine.policy_config import policy_from_json
from orderbridge.engine.shopify_tokens import ShopifyTokenSource
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
    db: Database
    http: httpx.AsyncClient
    throttle: ThrottleRegistry
    # This process's Prometheus registry (``/metrics``); every client's calls are counted.
    metrics: Metrics = field(default_factory=Metrics)
    _cipher: TokenCipher | None = field(default=None, repr=False)
    # One Shopify token refresh at a time per connection in this process (engine/shopify_tokens.py).
    _refresh_locks: dict[int, asyncio.Lock] = field(default_factory=dict, repr=False)

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

    @cached_property
    def sla_calendar(self) -> BusinessCalendar:
        """The SLA desk's calendar: US federal holidays (``holidays`` package), Pacific cut-off."""
        return us_business_calendar()

    def alert_channels(self) -> list[AlertChannel]:
        """The configured SLA alert channels (none: alerts go on the timeline only)."""
        s = self.settings
        channels: list[AlertChannel] = []
        if s.sla_webhook_url:
            channels.append(WebhookChannel(s.sla_webhook_url, self.http))
        recipients = s.sla_email_recipients
        if recipients:
            if not s.sla_smtp_host:
                raise ConfigurationError(
                    "ORDERBRIDGE_SLA_EMAIL_TO is set but ORDERBRIDGE_SLA_SMTP_HOST is not: "
                    "name the SMTP server that sends the SLA alert emails")
            channels.append(EmailChannel(
                s.sla_smtp_host, s.sla_smtp_port, s.sla_email_from, recipients,
                username=s.sla_smtp_username, password=s.sla_smtp_password,
                starttls=s.sla_smtp_starttls,
            ))
        return channels

    @cached_property
    def amazon_mcf(self) -> AmazonMcfClient | None:
        """The Amazon MCF account's client (one per process: one quota), or None when unset."""
        s = self.settings
        if not (s.amazon_mcf_client_id and s.amazon_mcf_client_secret and s.amazon_mcf_refresh_token):
            return None
        return AmazonMcfClient(
            self.http, endpoint=s.amazon_mcf_endpoint, lwa_token_url=s.amazon_mcf_lwa_token_url,
            client_id=s.amazon_mcf_client_id, client_secret=s.amazon_mcf_client_secret,
            refresh_token=s.amazon_mcf_refresh_token, runtime=RestRuntime.on(self.clock))

    @cached_property
    def shipbob(self) -> ShipBobClient | None:
        """The ShipBob account's client (one per process: one quota), or None when unset."""
        s = self.settings
        if not s.shipbob_token:
            return None
        return ShipBobClient(self.http, api_base=s.shipbob_api_base, token=s.shipbob_token,
                             channel_id=s.shipbob_channel_id, runtime=RestRuntime.on(self.clock))

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

    def shopify_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None, *,
                       timeout: float | None = None, retries: bool = True) -> ShopifyClient:
        """The connection's Shopify client; an expiring token is refreshed before it expires.

        ``timeout`` and ``retries=False``: one quick attempt (a check made while Shopify
        waits for our answer to its webhook).
        """
        if not connection.shopify_token:
            raise ConfigurationError(f"connection {connection.name!r} has no Shopify token: run `orderbridge connect shopify`")
        source = ShopifyTokenSource(self, connection) if connection.shopify_refresh_token else None
        limits: dict[str, Any] = {} if retries else {
            "max_throttle_retries": 0, "max_server_retries": 0, "max_timeout_retries": 0}
        return ShopifyClient(
            token_source=source.current if source is not None else None,
            timeout=timeout,
            **limits,
            shop_domain=connection.shopify_domain,
            access_token=connection.shopify_token,
            http=self.http,
            api_version=self.settings.shopify_api_version,
            endpoint_template=self.settings.shopify_endpoint_template,
            recorder=self._observed(recorder, connection),
            registry=self.throttle,
            clock=self.clock,  # call records on the engine's clock, like every timeline entry
        )

    def shopify_oauth(self) -> ShopifyOAuth:
        """The Shopify app's token endpoint (install and refresh)."""
        s = self.settings
        if not s.shopify_client_id or not s.shopify_client_secret:
            raise ConfigurationError(
                "ORDERBRIDGE_SHOPIFY_CLIENT_ID and ORDERBRIDGE_SHOPIFY_CLIENT_SECRET are required for the "
                "Shopify OAuth install and token refresh")
        return ShopifyOAuth(self.http, client_id=s.shopify_client_id, client_secret=s.shopify_client_secret,
                            admin_url_template=s.shopify_admin_url_template)

    def shopify_refresh_lock(self, connection_id: int) -> asyncio.Lock:
        """The lock that makes this process's refreshes of one connection's Shopify token take turns."""
        return self._refresh_locks.setdefault(connection_id, asyncio.Lock())

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
