"""Shopify's OAuth authorization code grant, as the app side (written from Shopify's docs).

1. The merchant is sent to ``https://{shop}/admin/oauth/authorize`` with ``client_id``,
   ``scope`` (comma-separated), ``redirect_uri``, ``state`` and ``grant_options[]`` (empty:
   an *offline* token, the one background work needs).
2. Shopify redirects to ``redirect_uri`` with ``code``, ``hmac``, ``host``, ``shop``,
   ``state`` and ``timestamp``. ``hmac`` is the hex HMAC-SHA256, keyed with the app's
   client secret, of the other parameters sorted by name and joined as ``k=v&k=v``
   (``verify_callback``): compare in constant time, check the shop's domain format
   (``valid_shop_domain``) and that the timestamp is recent.
3. ``POST https://{shop}/admin/oauth/access_token`` with ``client_id``, ``client_secret``,
   ``code`` and ``expiring=1`` answers ``access_token`` and ``scope`` (the granted scopes,
   comma-separated), plus, for an expiring offline token (December 2025 on), ``expires_in``
   (3600 s), ``refresh_token`` and ``refresh_token_expires_in``.
4. Before the access token expires, ``POST`` the same URL with ``grant_type=refresh_token``,
   ``refresh_token``, ``client_id`` and ``client_secret``: a new access token *and* a new
   refresh token (store both; the old refresh token is spent).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from orderbridge.errors import AuthError, Rejected, UpstreamUnavailable

__all__ = [
    "CALLBACK_MAX_AGE",
    "CALLBACK_PARAMS",
    "OAuthGrant",
    "ShopifyOAuth",
    "authorize_url",
    "callback_hmac",
    "valid_shop_domain",
    "verify_callback",
]

API_NAME: Final = "shopify_oauth"
# Shopify's documented shape of a store's permanent domain.
SHOP_DOMAIN: Final = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
MAX_SHOP_DOMAIN_LENGTH: Final = 255
# The redirect follows the merchant's click at once; allow for clock skew and a slow browser.
CALLBACK_MAX_AGE: Final = timedelta(minutes=10)
CALLBACK_FUTURE_SKEW: Final = timedelta(minutes=2)
CALLBACK_PARAMS: Final = ("code", "hmac", "shop", "state", "timestamp")
OAUTH_TIMEOUT_SECONDS: Final = 15.0


def valid_shop_domain(shop: str | None) -> str | None:
    """``shop`` in lower case if it is a ``*.myshopify.com`` domain, else None."""
    if not shop or len(shop) > MAX_SHOP_DOMAIN_LENGTH or not SHOP_DOMAIN.fullmatch(shop):
        return None
    return shop.lower()


def authorize_url(admin_base: str, client_id: str, scopes: Iterable[str], redirect_uri: str, state: str) -> str:
    """Where to send the merchant to approve the app (an offline token: ``grant_options[]`` empty)."""
    query = urlencode([("client_id", client_id), ("scope", ",".join(scopes)), ("redirect_uri", redirect_uri),
                       ("state", state), ("grant_options[]", "")])
    return f"{admin_base.rstrip('/')}/oauth/authorize?{query}"


def _escape(text: str, *, key: bool) -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if key else text


def callback_hmac(secret: str, params: Iterable[tuple[str, str]]) -> str:
    """The hex HMAC-SHA256 Shopify puts in a redirect's ``hmac`` (``hmac`` and ``signature`` left out)."""
    pairs = sorted(f"{_escape(k, key=True)}={_escape(v, key=False)}"
                   for k, v in params if k not in ("hmac", "signature"))
    return hmac.new(secret.encode("utf-8"), "&".join(pairs).encode("utf-8"), hashlib.sha256).hexdigest()


def verify_callback(secret: str, params: Iterable[tuple[str, str]], now: datetime) -> str | None:
    """Why a redirect from Shopify must be refused, or None if its ``hmac`` and timestamp hold."""
    items = list(params)
    given = [v for k, v in items if k == "hmac"]
    if len(given) != 1:
        return "the redirect carries no single hmac"
    if len({k for k, _ in items}) != len(items):
        return "a parameter is repeated"
    expected = callback_hmac(secret, items)
    if not hmac.compare_digest(expected.encode("ascii"), given[0].strip().lower().encode("utf-8", "replace")):
        return "the hmac does not match (not signed by Shopify with this app's secret)"
    stamp = dict(items).get("timestamp", "")
    if not stamp.isdigit() or len(stamp) > 12:
        return "the timestamp is missing or malformed"
    age = now.timestamp() - int(stamp)
    if age > CALLBACK_MAX_AGE.total_seconds() or -age > CALLBACK_FUTURE_SKEW.total_seconds():
        return "the redirect is too old (or from the future): install again"
    return None


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What the token endpoint answered."""

    access_token: str = field(repr=False)
    scopes: tuple[str, ...]
    expires_at: datetime | None = None  # None: a non-expiring offline token
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _grant(body: Any, now: datetime, operation: str) -> OAuthGrant:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise Rejected("the token endpoint answered without an access_token", api=API_NAME, operation=operation)
    scope = body.get("scope")
    scopes = tuple(s.strip() for s in scope.split(",") if s.strip()) if isinstance(scope, str) else ()
    expires_in, refresh_in = _seconds(body.get("expires_in")), _seconds(body.get("refresh_token_expires_in"))
    refresh = body.get("refresh_token")
    return OAuthGrant(
        access_token=body["access_token"], scopes=scopes,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
    )


class ShopifyOAuth:
    """The token endpoint of the stores under ``admin_url_template`` (``{shop}`` filled in)."""

    def __init__(self, http: httpx.AsyncClient, *, client_id: str, client_secret: str,
                 admin_url_template: str) -> None:
        self._http, self._id, self._secret, self._template = http, client_id, client_secret, admin_url_template

    def admin_base(self, shop: str) -> str:
        return self._template.format(shop=shop).rstrip("/")

    async def exchange_code(self, shop: str, code: str, now: datetime) -> OAuthGrant:
        """Trade a redirect's single-use ``code`` for an expiring offline token."""
        form = {"client_id": self._id, "client_secret": self._secret, "code": code, "expiring": "1"}
        return _grant(await self._post(shop, form, "exchange_code"), now, "exchange_code")

    async def refresh(self, shop: str, refresh_token: str, now: datetime) -> OAuthGrant:
        """A new access token (and refresh token) for an expiring offline token."""
        form = {"client_id": self._id, "client_secret": self._secret, "grant_type": "refresh_token",
                "refresh_token": refresh_token}
        return _grant(await self._post(shop, form, "refresh_token"), now, "refresh_token")

    async def _post(self, shop: str, form: Mapping[str, str], operation: str) -> Any:
        url = f"{self.admin_base(shop)}/oauth/access_token"
        try:
            response = await self._http.post(url, data=dict(form), headers={"Accept": "application/json"},
                                             timeout=OAUTH_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{type(exc).__name__}: {exc}", api=API_NAME, operation=operation) from exc
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status >= 500 or status == 429:
            raise UpstreamUnavailable(f"HTTP {status} from the token endpoint", api=API_NAME,
                                      operation=operation, status=status)
        if status >= 400:
            detail = body if isinstance(body, dict) else {}
            message = str(detail.get("error_description") or detail.get("error") or response.text[:200])
            kind = AuthError if status in (400, 401, 403) else Rejected
            raise kind(f"Shopify refused the token request (HTTP {status}): {message}", api=API_NAME,
                       operation=operation, status=status, code=detail.get("error"))
        return body
