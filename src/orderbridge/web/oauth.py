"""``GET /oauth/tiktok/callback``: where TikTok sends the seller after authorising the app.

The ``state`` must be one ``orderbridge connect tiktok`` printed (signed with
``ORDERBRIDGE_SECRET_KEY``, unexpired) and is accepted once (recorded in the inbox under
source ``oauth``). The code is exchanged for tokens, Get Authorized Shops names the shop,
and the connection named in the state gets its TikTok side.
"""

from __future__ import annotations

import hashlib
import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from orderbridge.adapters.db import inbox, transaction
from orderbridge.bootstrap import Services
from orderbridge.engine.connect import connect_tiktok_with_code
from orderbridge.engine.oauth_state import InvalidState, read_state
from orderbridge.errors import OrderBridgeError

__all__ = ["OAUTH_SOURCE", "router"]

OAUTH_SOURCE = "oauth"


def _page(title: str, message: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>",
        status_code=status,
    )


def router(services: Services) -> APIRouter:
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
        digest = hashlib.sha256((state or "").encode("utf-8")).hexdigest()
        with transaction(services.db) as conn:
            fresh = inbox.store(conn, OAUTH_SOURCE, f"state:{digest}", received_at=now,
                                body=code.encode("utf-8"), topic="tiktok_callback")
        if not fresh:
            return _page("Not connected", "This authorisation link was already used: run "
                         "`orderbridge connect tiktok` again for a new one.", 400)
        try:
            row = await connect_tiktok_with_code(services, name, code)
        except OrderBridgeError as exc:
            return _page("Not connected", str(exc), 400)
        shop = row.tiktok_shop_name or row.tiktok_shop_id
        return _page(f"Connected {shop}", f"TikTok shop {shop} is connected as {row.name!r}. "
                     "You can close this page.", 200)

    return r
