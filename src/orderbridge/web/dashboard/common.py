"""What every dashboard page shares: templates and filters, who is looking and what they
may see (their session and the connections granted to them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from orderbridge.adapters.db import run_sync, transaction
from orderbridge.adapters.db.grants import Scope, in_scope, scope_of
from orderbridge.adapters.db.operators import Role
from orderbridge.adapters.db.web_sessions import SessionRow
from orderbridge.domain.exceptions import IssueAction
from orderbridge.web.dashboard.auth import SessionAuth

__all__ = ["BUTTONS", "STATES", "STATIC_DIR", "Reader", "Viewer", "error_page", "page", "viewer"]

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
# Actions a page offers as buttons (linking a SKU and reconnecting have their own commands).
BUTTONS: Final = (IssueAction.RETRY, IssueAction.APPROVE, IssueAction.PUSH_ANYWAY,
                  IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS)
# Order states in the order an operator reads them.
STATES: Final = ("new", "creating", "create_unknown", "created_held", "released", "cancelling",
                 "cancelled", "skipped", "gone", "done")


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


def _cents(value: int | None) -> str:
    """Cents as ``12.34`` (``-0.05``); ``—`` when unknown."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


TEMPLATES: Final = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["pretty"] = _pretty
TEMPLATES.env.filters["left"] = _left
TEMPLATES.env.filters["cents"] = _cents


def page(request: Request, name: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """Render template ``name``."""
    return TEMPLATES.TemplateResponse(request, name, {"states": STATES, **context}, status_code=status,
                                      headers=headers)


def error_page(request: Request, status: int, detail: str, headers: dict[str, str]) -> Response:
    """An error as a page (the dashboard's HTTP and validation errors)."""
    return page(request, "error.html", status=status, headers=headers, status_code=status, detail=detail,
                session=None, notice=None)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the session, and the connections they may see (None: all)."""

    session: SessionRow
    scope: Scope

    def sees(self, connection_id: int) -> bool:
        return in_scope(self.scope, connection_id)

    def require_sees(self, connection_id: int, what: str) -> None:
        """404 (never 403: that would say the thing exists) outside the viewer's scope."""
        if not self.sees(connection_id):
            raise HTTPException(404, f"no {what}")


Reader = Callable[..., Any]


def reader(db: Any) -> Callable[..., Any]:
    """``await read(work, *args)``: ``work(conn, *args)`` in a read-only transaction."""

    async def read(work: Callable[..., Any], *args: Any) -> Any:
        def run() -> Any:
            with transaction(db, write=False) as conn:
                return work(conn, *args)
        return await run_sync(db, run)

    return read


async def viewer(auth: SessionAuth, request: Request, role: Role) -> Viewer:
    """The signed-in viewer with at least ``role``, and their scope."""
    found = await auth.require(request, role)

    def scope(conn: Any) -> Scope:
        return scope_of(conn, found.principal)

    return Viewer(session=found, scope=await reader(auth.services.db)(scope))
