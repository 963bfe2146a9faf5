"""Control routes (mounted at /shopify) for the app's install: uninstall, allowed redirect URLs.

Uninstalling does what Shopify does: the ``app/uninstalled`` webhook goes out and every
token and refresh token of the app on that store stops working at once, so a client that
asks Shopify (as OrderBridge does before disconnecting) sees 401.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from orderbridge.sandbox.shopify.state import App, Shop

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["build_install_router"]


class RedirectUrlsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urls: list[str]


def build_install_router(sandbox: ShopifySandbox) -> APIRouter:
    """The install routes (the Shopify control router includes them)."""
    router = APIRouter(tags=["shopify"])
    world = sandbox.world

    def shop_of(domain: str) -> Shop:
        shop = world.shops.get(domain) or world.shops.get(domain + ".myshopify.com")
        if shop is None:
            raise HTTPException(404, f"no shop {domain}")
        return shop

    def app_of(handle: str) -> App:
        app = next((a for a in world.apps.values() if a.handle == handle), None)
        if app is None:
            raise HTTPException(404, "no such app")
        return app

    @router.post("/shops/{shop}/uninstall")
    def uninstall(shop: str, app_handle: str = "orderbridge") -> dict[str, Any]:
        """Uninstall the app: app/uninstalled webhook; its tokens and refresh tokens revoked at once."""
        target, app = shop_of(shop), app_of(app_handle)
        sandbox.runtime.emit(target.domain, "app/uninstalled", {"id": target.id, "name": target.name,
                                                                 "myshopify_domain": target.domain})
        return {"ok": True, "revoked": sandbox.oauth.revoke(target.domain, app.id)}

    @router.put("/apps/{handle}/redirect-urls")
    def redirect_urls(handle: str, body: RedirectUrlsBody) -> dict[str, Any]:
        """The OAuth redirect URLs the app allows (empty, the default: any http(s) URL)."""
        sandbox.oauth.redirect_urls[app_of(handle).id] = list(body.urls)
        return {"urls": body.urls}

    return router
