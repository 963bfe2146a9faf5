"""The dashboard's pages (server-rendered HTML, no script needed; ``/dashboard/...``).

Every page needs a session (``auth.py``): viewers read, operators also act, admins also
change settings. Every page, query and action is limited to the connections the user may
see (``adapters/db/grants.py``; admins see all): an order of another connection answers 404,
exactly as one that does not exist. Each page is one or two read-only queries
(``adapters/db/board.py``); each action is a POST form with the session's CSRF token, applied
as the JSON API applies it (``overrides.act_on_exception``), then redirected back
(post/redirect/get) with a one-line notice. The desks (SLA, cancellations, products) are in
``desks.py``, the connections and settings page in ``settings.py``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderbridge.adapters.db import run_sync, transaction
from orderbridge.adapters.db.board import (
    ANY_EXCEPTION,
    OrderQuery,
    exception_groups,
    order_detail,
    order_page,
)
from orderbridge.adapters.db.board import overview as read_overview
from orderbridge.adapters.db.board_health import connection_health
from orderbridge.adapters.db.operators import Role
from orderbridge.domain.order import TikTokStatus
from orderbridge.engine.ports import Process
from orderbridge.engine.reconcile import pending_timer, reconcile
from orderbridge.engine.sla_desk import OrderCache, desk_entries, read_desk
from orderbridge.web.dashboard import desks, settings
from orderbridge.web.dashboard.auth import COOKIE, HOME, LOGIN_PATH, SessionAuth, safe_next
from orderbridge.web.dashboard.common import (
    BUTTONS,
    STATES,
    STATIC_DIR,
    error_page,
    page,
    reader,
    viewer,
)
from orderbridge.web.overrides import LinkBusy, OverrideRefused, act_on_exception

__all__ = ["STATIC_DIR", "error_page", "page", "router"]

ID: Final = r"^[A-Za-z0-9_.:/#-]{1,200}$"
DAY: Final = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"
# TikTok statuses an operator filters by, in lifecycle order.
TIKTOK_STATUSES: Final = tuple(s.value for s in TikTokStatus)


def _number(value: str | None) -> int | None:
    """A connection id from the form (empty: any); 422 past the database's ids."""
    if not value:
        return None
    if not 1 <= int(value) <= 2**63 - 1:
        raise HTTPException(422, "connection must be a connection id")
    return int(value)


def _date(value: str | None) -> date | None:
    """A day from the form (empty: any); 422 for a day that does not exist."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{value} is not a day (YYYY-MM-DD)") from None


def _day(value: date | None, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    start = datetime.combine(value, time(0), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def router(services: Process, auth: SessionAuth) -> APIRouter:
    """The ``/dashboard`` routes."""
    r = APIRouter(prefix=HOME, include_in_schema=False)
    read = reader(services.db)
    desk_cache: OrderCache = {}  # parsed TikTok orders of the desk, kept between page views
    desk_lock = threading.Lock()  # pages are read on several threads (PostgreSQL)

    def risky(conn: Any, scope: Any) -> dict[int, set[int]]:
        """Link ids at SLA risk (24 business hours or less left, or late), by connection."""
        out: dict[int, set[int]] = {}
        with desk_lock:
            desk = read_desk(conn, services.sla_calendar, services.clock.now(), cache=desk_cache)
        for row in desk:
            if row.entry.at_risk and (scope is None or row.connection_id in scope):
                out.setdefault(row.connection_id, set()).add(row.link_id)
        return out

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
        who = await viewer(auth, request, Role.VIEWER)

        def load(conn: Any) -> Any:
            return read_overview(conn, who.scope), connection_health(conn, who.scope), risky(conn, who.scope)

        rows, health, risk = await read(load)
        now = services.clock.now()
        budgets = {}
        for c in rows:  # the same figures as orderbridge_shopify_budget_* on /metrics
            store = services.throttle.stores().get(c.shopify_domain)
            if store is not None:
                budgets[c.id] = (store.bucket.level(services.throttle.monotonic()), store.bucket.maximum,
                                 store.waiting)
        return page(request, "overview.html", session=who.session, connections=rows, health=health,
                    risk={cid: len(ids) for cid, ids in risk.items()}, budgets=budgets, now=now)

    @r.get("/orders", response_class=HTMLResponse)
    async def orders(
        request: Request,
        state: Annotated[str | None, Query(max_length=64)] = None,
        tiktok_status: Annotated[str | None, Query(max_length=64)] = None,
        connection: Annotated[str | None, Query(pattern=r"^[0-9]{0,19}$")] = None,
        exception: Annotated[str | None, Query(pattern=r"^([A-Z0-9_]{1,64})?$")] = None,
        risk: Annotated[bool, Query()] = False,
        since: Annotated[str | None, Query(pattern=DAY)] = None,
        until: Annotated[str | None, Query(pattern=DAY)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        after: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Response:
        who = await viewer(auth, request, Role.VIEWER)
        # A form's empty fields arrive as empty strings: they mean "any".
        shop = _number(connection)
        first, last = _date(since), _date(until)
        state = state if state in STATES else None
        tiktok_status = tiktok_status if tiktok_status in TIKTOK_STATUSES else None
        now = services.clock.now()

        def query(conn: Any) -> Any:
            at_risk = None
            if risk:
                at_risk = frozenset(i for ids in risky(conn, who.scope).values() for i in ids)
            found = order_page(conn, OrderQuery(
                connection_id=shop, state=state, tiktok_status=tiktok_status, exception_code=exception or None,
                search=q or None, since=_day(first), until=_day(last, end=True), link_ids=at_risk, after=after),
                who.scope)
            left = desk_entries(conn, services.sla_calendar, now, [line.id for line in found.lines])
            return found, left

        result, left = await read(query)
        filters = {k: v for k, v in {"state": state, "tiktok_status": tiktok_status, "connection": shop,
                                     "exception": exception, "risk": "true" if risk else None,
                                     "since": first.isoformat() if first else None,
                                     "until": last.isoformat() if last else None, "q": q}.items() if v}
        return page(request, "orders.html", session=who.session, page=result, filters=filters, left=left,
                    tiktok_statuses=TIKTOK_STATUSES, any_exception=ANY_EXCEPTION)

    @r.get("/orders/{link_id}", response_class=HTMLResponse)
    async def order(request: Request, link_id: int, notice: Annotated[str | None, Query(max_length=300)] = None
                    ) -> Response:
        who = await viewer(auth, request, Role.VIEWER)
        if not 1 <= link_id <= 2**63 - 1:
            raise HTTPException(404, "no such order")
        detail = await read(order_detail, link_id, who.scope)
        if detail is None:
            raise HTTPException(404, f"no order {link_id}")
        money = reconcile(detail.link)
        timer = pending_timer(detail.link, detail.events, services.clock.now())
        return page(request, "order.html", session=who.session, detail=detail, buttons=BUTTONS, notice=notice,
                    money=money, timer=timer)

    @r.get("/exceptions", response_class=HTMLResponse)
    async def exceptions(request: Request, notice: Annotated[str | None, Query(max_length=300)] = None
                         ) -> Response:
        who = await viewer(auth, request, Role.VIEWER)
        groups = await read(exception_groups, who.scope)
        return page(request, "exceptions.html", session=who.session, groups=groups, buttons=BUTTONS, notice=notice)

    @r.post("/exceptions/{exception_id}/action")
    async def act(
        request: Request, exception_id: int, action: Annotated[str, Form(max_length=64)],
        csrf: Annotated[str, Form(max_length=200)] = "",
        back: Annotated[str, Form(max_length=2000)] = f"{HOME}/exceptions",
    ) -> Response:
        who = await viewer(auth, request, Role.OPERATOR)
        auth.check_csrf(who.session, csrf)
        if not 1 <= exception_id <= 2**63 - 1:
            raise HTTPException(404, "no such exception")
        now, by = services.clock.now(), who.session.principal.name

        def run() -> str:
            with transaction(services.db) as conn:
                exc, link = act_on_exception(conn, exception_id, action, None, now=now, by=by, within=who.scope)
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

    r.include_router(desks.router(services, auth))
    r.include_router(settings.router(services, auth))
    return r
