"""The dashboard's cancellation desk (``/dashboard/cancellations``): every pending buyer
cancellation request, nearest TikTok deadline first; operators approve one (with "cancel at
the 3PL too" where the order is at one), applied exactly as the JSON API applies it
(``web/cancel_api.approve_request``), then redirected back with a one-line notice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orderbridge.adapters.db import run_sync, transaction
from orderbridge.adapters.db.cancel_desk import DbEngine
from orderbridge.adapters.db.grants import in_scope, scope_of
from orderbridge.adapters.db.operators import Role
from orderbridge.engine.cancel_desk import ApprovalRefused, desk_json, read_cancel_desk
from orderbridge.web.cancel_api import approve_request
from orderbridge.web.dashboard.auth import HOME, SessionAuth
from orderbridge.web.dashboard.pages import page
from orderbridge.web.overrides import LinkBusy

__all__ = ["router"]


def router(db: DbEngine, clock: Callable[[], datetime], auth: SessionAuth) -> APIRouter:
    """The page (viewers) and its approve form (operators)."""
    r = APIRouter(prefix=HOME, include_in_schema=False)

    @r.get("/cancellations", response_class=HTMLResponse)
    async def cancellations(request: Request, notice: str | None = None) -> Response:
        """Pending buyer cancellation requests, nearest TikTok deadline first."""
        found = await auth.require(request, Role.VIEWER)

        def read() -> list[dict[str, Any]]:
            with transaction(db, write=False) as conn:
                scope = scope_of(conn, found.principal)
                items = [i for i in read_cancel_desk(conn) if in_scope(scope, i.record.connection_id)]
            now = clock()
            return [{**desk_json(i, now), "link_id": i.record.link_id} for i in items]

        rows = await run_sync(db, read)
        return page(request, "cancellations.html", session=found, rows=rows, notice=(notice or "")[:250] or None)

    @r.post("/cancellations/{tiktok_order_id}/approve")
    async def approve(
        request: Request, tiktok_order_id: Annotated[str, Path(pattern=r"^[0-9]{1,32}$")],
        connection: Annotated[int, Form(ge=1, le=2**63 - 1)],
        csrf: Annotated[str, Form(max_length=200)] = "",
        cancel_downstream: Annotated[bool, Form()] = False,
    ) -> Response:
        """Approve the request: OrderBridge stops the goods, then approves on TikTok."""
        found = await auth.require(request, Role.OPERATOR)
        auth.check_csrf(found, csrf)
        now, by = clock(), found.principal.name

        def run() -> str:
            with transaction(db) as conn:
                if not in_scope(scope_of(conn, found.principal), connection):
                    raise LookupError(f"no pending cancellation request for order {tiktok_order_id}")
                item = approve_request(conn, tiktok_order_id, connection_id=connection,
                                       cancel_downstream=cancel_downstream, now=now, by=by)
            return f"approved for order {tiktok_order_id}: OrderBridge now does {'; then '.join(item.steps)}"

        try:
            notice = await run_sync(db, run)
        except LookupError as err:
            raise HTTPException(404, str(err)) from None
        except (ApprovalRefused, LinkBusy) as err:
            notice = f"not done: {err}"
        return RedirectResponse(f"{HOME}/cancellations?{urlencode({'notice': notice[:250]})}", status_code=303)

    return r
