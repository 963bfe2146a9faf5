"""The sandbox's OAuth: Shopify's authorization code grant, as the store serves it.

- ``GET /{shop}/admin/oauth/authorize`` (or ``/admin/oauth/authorize`` with the store in
  ``Host``) with ``client_id``, ``scope``, ``redirect_uri``, ``state``, ``grant_options[]``:
  the merchant approves at once (there is no page to click) and the browser is sent with a
  302 to ``redirect_uri`` with ``code``, ``hmac``, ``host``, ``shop``, ``state`` and
  ``timestamp``. ``hmac`` is the hex HMAC-SHA256 of the other parameters, sorted and joined
  ``k=v&…``, keyed with the app's client secret. An unknown client id, a scope that does not
  exist, a redirect URI the app did not list (when it lists any) or an online-token request
  (``grant_options[]=per-user``, not emulated) get an error page, no redirect.
- ``POST /{shop}/admin/oauth/access_token`` (form or JSON): with ``client_id``,
  ``client_secret`` and ``code`` (single use, ``CODE_LIFETIME``, this store's) answers an
  offline token and the granted ``scope``; with ``expiring=1`` the token expires after
  ``ACCESS_LIFETIME`` and comes with ``refresh_token`` (``REFRESH_LIFETIME``). With
  ``grant_type=refresh_token`` a refresh token buys a new access token and a new refresh
  token (the old refresh token is spent; the old access token lasts until its expiry).
  Errors are 400 ``{"error", "error_description"}``.
- Uninstalling the app (control API) revokes its tokens and refresh tokens at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from orderbridge.clock import Clock
from orderbridge.sandbox.shopify.state import FULL_SCOPES, App, Token, World

__all__ = ["ACCESS_LIFETIME", "CODE_LIFETIME", "REFRESH_LIFETIME", "OAuthServer", "sign_query"]

ACCESS_LIFETIME: Final = timedelta(hours=1)
REFRESH_LIFETIME: Final = timedelta(days=90)
CODE_LIFETIME: Final = timedelta(minutes=10)
MYSHOPIFY: Final = ".myshopify.com"
# Scopes a store knows: what the sandbox's own tokens hold, plus a few Shopify documents.
KNOWN_SCOPES: Final = frozenset(FULL_SCOPES) | {
    "read_marketplace_orders", "write_marketplace_orders", "read_shipping", "write_shipping",
}


def sign_query(secret: str, params: dict[str, str]) -> str:
    """The hex HMAC Shopify puts on a redirect: sorted ``k=v`` pairs joined with ``&``."""
    def esc(text: str, key: bool) -> str:
        text = text.replace("%", "%25").replace("&", "%26")
        return text.replace("=", "%3D") if key else text

    message = "&".join(sorted(f"{esc(k, True)}={esc(v, False)}" for k, v in params.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class AuthCode:
    app_id: int
    shop: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class RefreshGrant:
    app_id: int
    shop: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class OAuthServer:
    """Codes and refresh tokens, on the sandbox clock."""

    world: World
    clock: Clock
    codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshGrant] = field(default_factory=dict)
    redirect_urls: dict[int, list[str]] = field(default_factory=dict)  # app id -> allowed (empty: any)

    def _shop(self, request: Request) -> str | None:
        domain = str(request.path_params.get("shop_domain") or request.headers.get("host", "").split(":")[0])
        if domain and "." not in domain:
            domain += MYSHOPIFY
        return domain if domain in self.world.shops else None

    def _app(self, client_id: str | None) -> App | None:
        return next((a for a in self.world.apps.values() if client_id and a.api_key == client_id), None)

    async def authorize(self, request: Request) -> Response:
        shop = self._shop(request)
        if shop is None:
            return _page("There is no store at this address.", 404)
        q = request.query_params
        app = self._app(q.get("client_id"))
        if app is None:
            return _page("Oauth error invalid_request: The client_id is invalid.", 400)
        redirect = q.get("redirect_uri") or ""
        parts = urlsplit(redirect)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return _page("Oauth error invalid_request: The redirect_uri is missing or not an absolute URL.", 400)
        allowed = self.redirect_urls.get(app.id) or []
        if allowed and redirect.split("?")[0] not in allowed:
            return _page("Oauth error invalid_request: The redirect_uri is not whitelisted.", 400)
        scopes = frozenset(s.strip() for s in (q.get("scope") or "").split(",") if s.strip())
        unknown = sorted(scopes - KNOWN_SCOPES)
        if unknown:
            return _page(f"Oauth error invalid_scope: {', '.join(unknown)}", 400)
        if "per-user" in q.getlist("grant_options[]"):
            return _page("The sandbox issues offline tokens only (grant_options[]=per-user is not emulated).", 400)
        now = self.clock.now()
        code = secrets.token_hex(16)
        self.codes[code] = AuthCode(app.id, shop, scopes, now + CODE_LIFETIME)
        store = shop.removesuffix(MYSHOPIFY)
        params = {"code": code, "host": base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode(),
                  "shop": shop, "state": q.get("state") or "", "timestamp": str(int(now.timestamp()))}
        params["hmac"] = sign_query(app.client_secret, params)
        joiner = "&" if parts.query else "?"
        return RedirectResponse(f"{redirect}{joiner}{urlencode(params)}", status_code=302)

    async def access_token(self, request: Request) -> Response:
        shop = self._shop(request)
        if shop is None:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        form = await _form(request)
        app = self._app(form.get("client_id"))
        if app is None or not hmac.compare_digest(app.client_secret.encode(), form.get("client_secret", "").encode()):
            return _error("invalid_client", "The client_id or client_secret is invalid.")
        now = self.clock.now()
        if form.get("grant_type") == "refresh_token":
            grant = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if grant is None or grant.app_id != app.id or grant.shop != shop or grant.expires_at <= now:
                return _error("invalid_grant", "The refresh token is invalid, expired or already used.")
            return self._issue(app, shop, grant.scopes, expiring=True, now=now)
        code = self.codes.pop(form.get("code", ""), None)
        if code is None or code.app_id != app.id or code.shop != shop or code.expires_at <= now:
            return _error("invalid_request", "The authorization code was not found or was already used.")
        return self._issue(app, shop, code.scopes, expiring=form.get("expiring") == "1", now=now)

    def _issue(self, app: App, shop: str, scopes: frozenset[str], *, expiring: bool, now: datetime) -> Response:
        token = f"shpat_{secrets.token_hex(16)}"
        expires_at = now + ACCESS_LIFETIME if expiring else None
        self.world.tokens[token] = Token(token, app.id, shop, scopes, expires_at)
        body: dict[str, object] = {"access_token": token, "scope": ",".join(sorted(scopes))}
        if expiring:
            refresh = f"shprt_{secrets.token_hex(16)}"
            self.refresh_tokens[refresh] = RefreshGrant(app.id, shop, scopes, now + REFRESH_LIFETIME)
            body |= {"expires_in": int(ACCESS_LIFETIME.total_seconds()), "refresh_token": refresh,
                     "refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds())}
        return JSONResponse(body)

    def revoke(self, shop: str, app_id: int) -> int:
        """Uninstall: every token and refresh token of ``app_id`` on ``shop`` stops working."""
        tokens = [t for t, v in self.world.tokens.items() if v.shop == shop and v.app_id == app_id]
        refresh = [t for t, v in self.refresh_tokens.items() if v.shop == shop and v.app_id == app_id]
        for key in tokens:
            del self.world.tokens[key]
        for key in refresh:
            del self.refresh_tokens[key]
        for key in [c for c, v in self.codes.items() if v.shop == shop and v.app_id == app_id]:
            del self.codes[key]
        return len(tokens) + len(refresh)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    merged = dict(parse_qsl(raw.decode("utf-8", "replace")))
    merged.update({k: v for k, v in request.query_params.items() if k not in merged})
    return merged


def _error(code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=400)


def _page(message: str, status: int) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>Shopify</title><p>{html.escape(message)}</p>", status_code=status)
