"""Expiring Shopify offline tokens: refreshed before they expire, written back encrypted.

A token from the OAuth install lasts an hour and comes with a refresh token
(``adapters/shopify/oauth.py``). ``ShopifyTokenSource.current()`` is the client's
``token_source``: it answers the stored access token, and once that token is within
``REFRESH_MARGIN`` of its expiry it first trades the refresh token for a new pair and saves
both (Shopify spends the old refresh token). Refreshes of one connection take turns inside a
process (a lock shared through ``Services``), and each reads the row afresh first, so a
refresh another worker or process already made is used rather than repeated. A token pasted
by hand (no refresh token, no expiry) is answered as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from orderbridge.adapters.db import connections, run_sync, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.shopify.oauth import OAuthGrant
from orderbridge.errors import AuthError, ConfigurationError
from orderbridge.logs import get_logger

if TYPE_CHECKING:
    from orderbridge.engine.ports import Process

__all__ = ["REFRESH_MARGIN", "ShopifyTokenSource", "save_grant_fields"]

log = get_logger(__name__)

# Shopify's offline tokens last 60 min; refresh with a margin for slow calls and clock skew.
REFRESH_MARGIN: Final = timedelta(minutes=5)
# Ordinary calls reuse the token last read for this long instead of reading the database.
TOKEN_CACHE_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True)
class _Held:
    token: str
    expires_at: datetime | None
    read_at: float


def save_grant_fields(grant: OAuthGrant) -> connections.ConnectionFields:
    """The connection fields that store ``grant`` (tokens as plaintext: the repository encrypts)."""
    return {"shopify_token": grant.access_token, "shopify_token_expires_at": grant.expires_at,
            "shopify_refresh_token": grant.refresh_token,
            "shopify_refresh_token_expires_at": grant.refresh_expires_at}


class ShopifyTokenSource:
    """The current Shopify access token of one connection (see the module docstring)."""

    def __init__(self, services: Process, connection: ConnectionRow) -> None:
        self._services = services
        self._id = connection.id
        self._domain = connection.shopify_domain
        self._held: _Held | None = None
        if connection.shopify_token:
            self._held = _Held(connection.shopify_token, connection.shopify_token_expires_at, time.monotonic())

    def _fresh(self, held: _Held | None, now: datetime) -> bool:
        return held is not None and (held.expires_at is None or held.expires_at - now > REFRESH_MARGIN)

    async def current(self) -> str:
        """The access token to send now (refreshed first when it is about to expire)."""
        now = self._services.clock.now()
        held = self._held
        if held is not None and self._fresh(held, now) and time.monotonic() - held.read_at < TOKEN_CACHE_SECONDS:
            return held.token
        async with self._services.shopify_refresh_lock(self._id):
            row = await run_sync(self._services.db, self._load)
            if not row.shopify_token:
                raise ConfigurationError(f"connection {row.name!r} has no Shopify token")
            loaded = _Held(row.shopify_token, row.shopify_token_expires_at, time.monotonic())
            if self._fresh(loaded, now):
                self._held = loaded
                return loaded.token
            refresh = row.shopify_refresh_token
            if not refresh or (row.shopify_refresh_token_expires_at is not None
                               and row.shopify_refresh_token_expires_at <= now):
                raise AuthError(f"the Shopify token of {self._domain} has expired and cannot be refreshed: "
                                "install the app again (orderbridge connect shopify)",
                                api="shopify_oauth", operation="refresh_token")
            grant = await self._services.shopify_oauth().refresh(self._domain, refresh, now)
            await run_sync(self._services.db, self._save, grant)
            log.info("shopify_token_refreshed", connection_id=self._id, shop=self._domain,
                     expires_at=grant.expires_at.isoformat() if grant.expires_at else None)
            self._held = _Held(grant.access_token, grant.expires_at, time.monotonic())
            return grant.access_token

    def _load(self) -> ConnectionRow:
        with transaction(self._services.db, write=False) as conn:
            row = connections.get_connection(conn, self._services.cipher, self._id)
        if row is None:
            raise ConfigurationError(f"connection {self._id} no longer exists")
        return row

    def _save(self, grant: OAuthGrant) -> None:
        with transaction(self._services.db) as conn:
            connections.update_connection(conn, self._services.cipher, self._id, now=self._services.clock.now(),
                                          **save_grant_fields(grant))
