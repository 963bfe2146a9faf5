"""The operators' dashboard: sign-in, overview, orders, one order's story, exceptions.

``install(app, services)`` adds the pages under ``/dashboard`` (``pages.py``), their sessions
(``auth.py``), the stylesheet and the sign-in redirect.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from orderbridge.engine.ports import Process
from orderbridge.web.dashboard import cancel_page
from orderbridge.web.dashboard.auth import HOME, NeedsSignIn, SessionAuth, login_url
from orderbridge.web.dashboard.pages import STATIC_DIR, error_page, router

__all__ = ["HOME", "error_page", "install"]

_CSS: Final = "dashboard.css"


def install(app: FastAPI, services: Process) -> SessionAuth:
    """Add the dashboard to ``app``; returns its session checker."""
    auth = SessionAuth(services)
    css = (STATIC_DIR / _CSS).read_bytes()

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NeedsSignIn)
        return RedirectResponse(login_url(exc.path), status_code=303)

    app.add_exception_handler(NeedsSignIn, sign_in_first)

    @app.get(f"{HOME}/static/{_CSS}", include_in_schema=False)
    async def stylesheet() -> Response:
        """The dashboard's only stylesheet (public: it holds no data)."""
        return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=3600"})

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse(HOME, status_code=303)

    app.include_router(router(services, auth))
    app.include_router(cancel_page.router(services.db, services.clock.now, auth))
    return auth
