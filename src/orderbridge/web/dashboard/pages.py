"""The dashboard's pages (server-rendered HTML, no script needed; ``/dashboard/...``).

Every page needs a session (``auth.py``): viewers read, operators also act. Each page is one
or two read-only queries (``adapters/db/board.py``); each action is a POST form with the
session's CSRF token, applied as the JSON API applies it (``overrides.act_on_exception``),
then redirected back (post/redirect/get) with a one-line notice.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from orderbridge.adapters.db import connections, run_sync, sku_links, transaction
from orderbridge.adapters.db.board import exception_groups, order_detail, order_page, overview
from orderbridge.adapters.db.operators import Role
from orderbridge.domain.exceptions import IssueAction
from orderbridge.domain.observed import SkuState
from orderbridge.engine.ports import Process
from orderbridge.engine.skus import catalogue, link_sku_checked
from orderbridge.engine.sla_desk import read_desk
from orderbridge.errors import OrderBridgeError
from orderbridge.web.dashboard.auth import COOKIE, HOME, LOGIN_PATH, SessionAuth, safe_next
from orderbridge.web.overrides import LinkBusy, OverrideRefused, act_on_exception

__all__ = ["STATIC_DIR", "error_page", "page", "router"]

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
# Actions a page offers as buttons (linking a SKU and reconnecting have their own commands).
BUTTONS: Final = (IssueAction.RETRY, IssueAction.APPROVE, IssueAction.PUSH_ANYWAY,
                  IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS)
# Order states in the order an operator reads them.
STATES: Final = ("new", "creating", "create_unknown", "created_held", "released", "cancelling",
                 "cancelled", "skipped", "gone", "done")
ID: Final = r"^[A-Za-z0-9_.:/#-]{1,200}$"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def _left(value: timedelta | None) -> str:
    """Business time left as ``1d 4h 05m`` (``-`` before a breach's overdue time)."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{sign}{days}d {hours}h {rest // 60:02d}m" if days else f"{sign}{hours}h {rest // 60:02d}m"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str) if value is not None else "—"


TEMPLATES: Final = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["pretty"] = _pretty
TEMPLATES.env.filters["left"] = _left


def page(request: Request, name: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """Render template ``name``."""
    return TEMPLATES.TemplateResponse(request, name, {"states": STATES, **context}, status_code=status,
                                      headers=headers)


def error_page(request: Request, status: int, detail: str, headers: dict[str, str]) -> Response:
    """An error as a page (the dashboard's HTTP and validation errors)."""
    return page(request, "error.html", status=status, headers=headers, status_code=status, detail=detail,
                session=None, notice=None)


def router(services: Process, auth: SessionAuth) -> APIRouter:
    """The ``/dashboard`` routes."""
    r = APIRouter(prefix=HOME, include_in_schema=False)

    async def read(work: Any, *args: Any) -> Any:
        def run() -> Any:
            with transaction(services.db, write=False) as conn:
                return work(conn, *args)
        return await run_sync(services.db, run)

    @r.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str | None = None) -> Response:
        if await auth.session(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return page(request, "login.html", next=safe_next(next), error=None, session=None)

    @r.post("/login", response_class=HTMLResponse)
    async def login(
        request: Request, name: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=1024)], next: Annotated[str, Form(max_length=2000)] = HOME,
    ) -> Response:
        signed = await auth.sign_in(request, name, password)
        if signed is None:
            return page(request, "login.html", status=401, next=safe_next(next),
                        error="Wrong name or password.", session=None)
        answer = RedirectResponse(safe_next(next), status_code=303)
        answer.set_cookie(COOKIE, signed.token, max_age=signed.max_age, httponly=True, samesite="lax",
                          secure=auth.secure, path="/")
        return answer

    @r.post("/logout")
    async def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        found = await auth.require(request, Role.VIEWER)
        auth.check_csrf(found, csrf)
        await auth.sign_out(found)
        answer = RedirectResponse(LOGIN_PATH, status_code=303)
        answer.delete_cookie(COOKIE, path="/")
        return answer

    @r.get("", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        found = await auth.require(request, Role.VIEWER)
        rows = await read(overview)
        return page(request, "overview.html", session=found, connections=rows)

    @r.get("/orders", response_class=HTMLResponse)
    async def orders(
        request: Request,
        state: Annotated[str | None, Query(max_length=64)] = None,
        connection: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        exception: Annotated[str | None, Query(pattern=r"^[A-Z0-9_]{1,64}$")] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        after: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Response:
        found = await auth.require(request, Role.VIEWER)
        state = state if state in STATES else None

        def query(conn: Any) -> Any:
            return order_page(conn, connection_id=connection, state=state, exception_code=exception,
                              search=q or None, after=after)

        result = await read(query)
        filters = {k: v for k, v in {"state": state, "connection": connection, "exception": exception,
                                     "q": q}.items() if v}
        return page(request, "orders.html", session=found, page=result, filters=filters)

    @r.get("/orders/{link_id}", response_class=HTMLResponse)
    async def order(request: Request, link_id: int, notice: Annotated[str | None, Query(max_length=300)] = None
                    ) -> Response:
        found = await auth.require(request, Role.VIEWER)
        if not 1 <= link_id <= 2**63 - 1:
            raise HTTPException(404, "no such order")
        detail = await read(order_detail, link_id)
        if detail is None:
            raise HTTPException(404, f"no order {link_id}")
        return page(request, "order.html", session=found, detail=detail, buttons=BUTTONS, notice=notice)

    @r.get("/exceptions", response_class=HTMLResponse)
    async def exceptions(request: Request, notice: Annotated[str | None, Query(max_length=300)] = None
                         ) -> Response:
        found = await auth.require(request, Role.VIEWER)
        groups = await read(exception_groups)
        return page(request, "exceptions.html", session=found, groups=groups, buttons=BUTTONS, notice=notice)

    @r.get("/sla", response_class=HTMLResponse)
    async def sla(request: Request) -> Response:
        """The SLA desk: orders to ship not yet scanned by the carrier, least time left first."""
        found = await auth.require(request, Role.VIEWER)

        def rows(conn: Any) -> Any:
            return read_desk(conn, services.sla_calendar, services.clock.now())

        return page(request, "sla.html", session=found, rows=await read(rows), notice=None)

    @r.get("/products", response_class=HTMLResponse)
    async def products(
        request: Request, connection: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        notice: Annotated[str | None, Query(max_length=300)] = None,
    ) -> Response:
        """TikTok SKUs and their Shopify variants, the unlinked first, with a link form."""
        found = await auth.require(request, Role.VIEWER)

        def load(conn: Any) -> Any:
            shops = connections.list_connections(conn, services.cipher)
            chosen = next((c for c in shops if c.id == connection), shops[0] if shops else None)
            if chosen is None:
                return shops, None, [], []
            lines = sorted(catalogue(conn, chosen.id), key=lambda x: (x.resolution.state is SkuState.MAPPED,
                                                                       x.seller_sku or "", x.sku_id))
            return shops, chosen, lines, sku_links.list_variants(conn, chosen.id)

        shops, chosen, lines, variants = await read(load)
        return page(request, "products.html", session=found, shops=shops, chosen=chosen, lines=lines,
                    variants=variants, notice=notice)

    @r.post("/products/link")
    async def link_product(
        request: Request, connection: Annotated[int, Form(ge=1, le=2**63 - 1)],
        sku_id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        variant_id: Annotated[str, Form(max_length=100, pattern=r"^gid://shopify/ProductVariant/[0-9]{1,19}$")],
        csrf: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        """Link a TikTok SKU to a variant (checked with Shopify); its waiting orders resume."""
        found = await auth.require(request, Role.OPERATOR)
        auth.check_csrf(found, csrf)

        def shop(conn: Any) -> Any:
            return connections.get_connection(conn, services.cipher, connection)

        row = await read(shop)
        if row is None:
            raise HTTPException(404, f"no connection {connection}")
        try:
            report = await link_sku_checked(services, row, sku_id, variant_id, by=found.principal.name)
            notice = f"SKU {sku_id} linked to {variant_id}" + (
                f"; orders resuming: {', '.join(report.orders_resumed)}" if report.orders_resumed else "")
        except OrderBridgeError as err:  # a missing variant, an unknown SKU, Shopify unreachable
            notice = f"not linked: {err}"
        query = urlencode({"connection": connection, "notice": notice[:250]})
        return RedirectResponse(f"{HOME}/products?{query}", status_code=303)

    @r.post("/exceptions/{exception_id}/action")
    async def act(
        request: Request, exception_id: int, action: Annotated[str, Form(max_length=64)],
        csrf: Annotated[str, Form(max_length=200)] = "",
        back: Annotated[str, Form(max_length=2000)] = f"{HOME}/exceptions",
    ) -> Response:
        found = await auth.require(request, Role.OPERATOR)
        auth.check_csrf(found, csrf)
        if not 1 <= exception_id <= 2**63 - 1:
            raise HTTPException(404, "no such exception")
        now, by = services.clock.now(), found.principal.name

        def run() -> str:
            with transaction(services.db) as conn:
                exc, link = act_on_exception(conn, exception_id, action, None, now=now, by=by)
            return f"{action} on {exc.code} for order {link.tiktok_order_id}: done, the order is due now"

        try:
            notice = await run_sync(services.db, run)
        except LookupError as err:
            raise HTTPException(404, str(err)) from None
        except (OverrideRefused, LinkBusy) as err:
            notice = f"not done: {err}"
        target = safe_next(back)
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}{urlencode({'notice': notice[:250]})}", status_code=303)

    return r
