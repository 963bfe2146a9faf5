"""The desks: SLA (orders to get scanned) and products (SKU links), each limited to the
connections the user may see. The cancellation desk is ``cancel_page.py``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderbridge.adapters.db import connections, sku_links
from orderbridge.adapters.db.operators import Role
from orderbridge.domain.observed import SkuState
from orderbridge.engine.ports import Process
from orderbridge.engine.skus import catalogue, link_sku_checked
from orderbridge.engine.sla_desk import read_desk
from orderbridge.errors import OrderBridgeError
from orderbridge.web.dashboard.auth import HOME, SessionAuth
from orderbridge.web.dashboard.common import page, reader, viewer

__all__ = ["router"]

def router(services: Process, auth: SessionAuth) -> APIRouter:
    """The desks' routes (included under ``/dashboard``)."""
    r = APIRouter()
    read = reader(services.db)

    @r.get("/sla", response_class=HTMLResponse)
    async def sla(request: Request) -> Response:
        """The SLA desk: orders to ship not yet scanned by the carrier, least time left first."""
        who = await viewer(auth, request, Role.VIEWER)

        def rows(conn: Any) -> Any:
            return [row for row in read_desk(conn, services.sla_calendar, services.clock.now())
                    if who.sees(row.connection_id)]

        return page(request, "sla.html", session=who.session, rows=await read(rows), notice=None)

    @r.get("/products", response_class=HTMLResponse)
    async def products(
        request: Request, connection: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        notice: Annotated[str | None, Query(max_length=300)] = None,
    ) -> Response:
        """TikTok SKUs and their Shopify variants, the unlinked first, with a link form."""
        who = await viewer(auth, request, Role.VIEWER)

        def load(conn: Any) -> Any:
            shops = [c for c in connections.list_connections(conn, services.cipher) if who.sees(c.id)]
            chosen = next((c for c in shops if c.id == connection), shops[0] if shops else None)
            if chosen is None:
                return shops, None, [], []
            lines = sorted(catalogue(conn, chosen.id), key=lambda x: (x.resolution.state is SkuState.MAPPED,
                                                                       x.seller_sku or "", x.sku_id))
            return shops, chosen, lines, sku_links.list_variants(conn, chosen.id)

        shops, chosen, lines, variants = await read(load)
        return page(request, "products.html", session=who.session, shops=shops, chosen=chosen, lines=lines,
                    variants=variants, notice=notice)

    @r.post("/products/link")
    async def link_product(
        request: Request, connection: Annotated[int, Form(ge=1, le=2**63 - 1)],
        sku_id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        variant_id: Annotated[str, Form(max_length=100, pattern=r"^gid://shopify/ProductVariant/[0-9]{1,19}$")],
        csrf: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        """Link a TikTok SKU to a variant (checked with Shopify); its waiting orders resume."""
        who = await viewer(auth, request, Role.OPERATOR)
        auth.check_csrf(who.session, csrf)
        who.require_sees(connection, f"connection {connection}")
        row = await read(lambda conn: connections.get_connection(conn, services.cipher, connection))
        if row is None:
            raise HTTPException(404, f"no connection {connection}")
        try:
            report = await link_sku_checked(services, row, sku_id, variant_id, by=who.session.principal.name)
            notice = f"SKU {sku_id} linked to {variant_id}" + (
                f"; orders resuming: {', '.join(report.orders_resumed)}" if report.orders_resumed else "")
        except OrderBridgeError as err:  # a missing variant, an unknown SKU, Shopify unreachable
            notice = f"not linked: {err}"
        query = urlencode({"connection": connection, "notice": notice[:250]})
        return RedirectResponse(f"{HOME}/products?{query}", status_code=303)

    return r
