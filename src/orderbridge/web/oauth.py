"""The OAuth routes (public surface): TikTok's callback, Shopify's install and callback.

``GET /oauth/tiktok/callback``: where TikTok sends the seller after authorising the app.
The ``state`` must be one ``orderbridge connect tiktok`` printed (signed with
``ORDERBRIDGE_SECRET_KEY``, unexpired) and is accepted once (recorded in the inbox under
source ``oauth``). The code is exchanged for tokens, Get Authorized Shops names the shop,
and the connection named in the state gets its TikTok side.

``GET /oauth/shopify/install?shop=…`` redirects an expected store to its authorize page;
``GET /oauth/shopify/callback`` checks Shopify's redirect, uses its state once (the same
way) and stores the store's token (``engine/shopify_install.py``). Every refusal is an HTML
page with a 4xx status (502/503 when Shopify or our configuration is the problem).
"""

from __future__ import annotations

import hashlib
import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderbridge.adapters.db import inbox, transaction
from orderbridge.engine.connect import connect_tiktok_with_code
from orderbridge.engine.oauth_state import InvalidState, read_state
from orderbridge.engine.ports import Process
from orderbridge.engine.shopify_install import (
    InstallRefused,
    check_callback,
    complete_install,
    install_redirect,
)
from orderbridge.errors import OrderBridgeError

__all__ = ["OAUTH_SOURCE", "router"]

OAUTH_SOURCE = "oauth"


def _page(title: str, message: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>",
        status_code=status,
    )


def _use_state(services: Process, state: str, body: str, topic: str) -> bool:
    """Record ``state`` as used; False if it already was (a replayed redirect)."""
    digest = hashlib.sha256(state.encode("utf-8")).hexdigest()
    with transaction(services.db) as conn:
        return inbox.store(conn, OAUTH_SOURCE, f"state:{digest}", received_at=services.clock.now(),
                           body=body.encode("utf-8"), topic=topic)


def router(services: Process) -> APIRouter:
    """The OAuth routes."""
    r = APIRouter(tags=["oauth"])

    @r.get("/oauth/tiktok/callback", response_class=HTMLResponse)
    async def tiktok_callback(
        code: str | None = None, state: str | None = None, error: str | None = None
    ) -> HTMLResponse:
        """Finish connecting a TikTok shop: validate ``state``, exchange ``code``, store tokens."""
        if error or not code or code == "null":
            return _page("Not connected", f"TikTok did not authorise the app ({error or 'no code'}).", 400)
        now = services.clock.now()
        try:
            name = read_state(services.settings.secret_key, state or "", now)
        except InvalidState as exc:
            return _page("Not connected", f"Invalid state: {exc}.", 400)
        if not _use_state(services, state or "", code, "tiktok_callback"):
            return _page("Not connected", "This authorisation link was already used: run "
                         "`orderbridge connect tiktok` again for a new one.", 400)
        try:
            row = await connect_tiktok_with_code(services, name, code)
        except OrderBridgeError as exc:
            return _page("Not connected", str(exc), 400)
        shop = row.tiktok_shop_name or row.tiktok_shop_id
        return _page(f"Connected {shop}", f"TikTok shop {shop} is connected as {row.name!r}. "
                     "You can close this page.", 200)

    @r.get("/oauth/shopify/install", response_class=HTMLResponse, responses={302: {"description": "to Shopify"}})
    async def shopify_install(shop: str | None = None) -> Response:
        """Start installing the app on an expected store: 302 to its authorize page."""
        try:
            return RedirectResponse(install_redirect(services, shop), status_code=302)
        except InstallRefused as exc:
            return _page("Not installed", str(exc), exc.status)

    @r.get("/oauth/shopify/callback", response_class=HTMLResponse)
    async def shopify_callback(request: Request) -> HTMLResponse:
        """Finish installing: check Shopify's redirect, use its state once, store the token."""
        try:
            callback = check_callback(services, list(request.query_params.multi_items()))
            if not _use_state(services, callback.state, callback.shop, "shopify_callback"):
                raise InstallRefused("This install link was already used: install the app again "
                                     "for a new one.")
            row = await complete_install(services, callback)
        except InstallRefused as exc:
            return _page("Not installed", str(exc), exc.status)
        return _page(f"Connected {row.shopify_domain}", f"Shopify store {row.shopify_domain} is connected "
                     f"as {row.name!r} (location {row.shopify_location_id}). You can close this page.", 200)

    return r
