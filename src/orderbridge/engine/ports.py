"""What the engine and the web layer need from the composition root, as small protocols.

``orderbridge.bootstrap.Services`` wires a process and satisfies all of these structurally,
but only the entry points (``cli/``, ``demo/``, ``bench``) import it: engine and web
modules ask for the narrowest protocol that covers what they use, so the dependency
points one way (bootstrap -> engine/web -> ports) and a test can hand them a fake.

- ``Store``: the database, the clock, the settings and the token cipher (most reads and
  writes);
- ``Clients``: a ``Store`` that also makes the per-connection API clients and policies;
- ``Process``: everything a running process has (HTTP pool, throttle registry, SLA
  calendar and alert channels, Shopify OAuth).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from orderbridge.adapters.alert_channels import AlertChannel
    from orderbridge.adapters.calls import CallRecorder
    from orderbridge.adapters.db import Database, TokenCipher
    from orderbridge.adapters.db.connections import ConnectionRow
    from orderbridge.adapters.shopify import ShopifyClient, ThrottleRegistry
    from orderbridge.adapters.shopify.oauth import ShopifyOAuth
    from orderbridge.adapters.tiktok import TikTokClient
    from orderbridge.clock import Clock
    from orderbridge.domain.policy import Policy
    from orderbridge.domain.sla import BusinessCalendar
    from orderbridge.engine.metrics import Metrics
    from orderbridge.settings import Settings

__all__ = ["Clients", "Process", "Store"]


class Store(Protocol):
    """The database and what reading or writing it needs."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def db(self) -> Database: ...

    @property
    def cipher(self) -> TokenCipher: ...

    @property
    def metrics(self) -> Metrics: ...


class Clients(Store, Protocol):
    """A ``Store`` that also builds each connection's API clients and reads its policy."""

    def policy(self, connection: ConnectionRow) -> Policy: ...

    def tiktok_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None) -> TikTokClient: ...

    def shopify_client(self, connection: ConnectionRow, recorder: CallRecorder | None = None, *,
                       timeout: float | None = None, retries: bool = True) -> ShopifyClient: ...


class Process(Clients, Protocol):
    """Everything a running OrderBridge process holds."""

    @property
    def http(self) -> httpx.AsyncClient: ...

    @property
    def throttle(self) -> ThrottleRegistry: ...

    @property
    def sla_calendar(self) -> BusinessCalendar: ...

    def alert_channels(self) -> list[AlertChannel]: ...

    def shopify_oauth(self) -> ShopifyOAuth: ...

    def shopify_refresh_lock(self, connection_id: int) -> asyncio.Lock: ...
