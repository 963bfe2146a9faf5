"""The web app: webhook receivers, health checks, the JSON API and the OAuth callback.

``create_app(services)`` builds it; uvicorn serves it (``orderbridge run`` or
``uvicorn --factory``). Routes:

- ``POST /webhooks/tiktok``, ``POST /webhooks/shopify``: verify, store, mark due, answer
  (``intake.py``); ``POST /webhooks/shipbob/{connection}`` likewise (``shipbob_hooks.py``). Bodies over ``webhook_max_body_bytes`` get 413 before being read whole.
- ``GET /healthz`` (the process answers), ``GET /readyz`` (ready to work: ``readiness.py``).
- ``/api/...``: the JSON API (``api.py``; OpenAPI at ``/docs`` and ``/openapi.json``),
  private: an operator's API token with the role each route needs.
- ``GET /oauth/tiktok/callback``: the TikTok authorize redirect; ``GET /oauth/shopify/install``
  and ``GET /oauth/shopify/callback``: the Shopify app install (``oauth.py``).
- ``GET /metrics``: Prometheus metrics (``engine/metrics.py``; private surface only).
- ``/dashboard/...``: the operators' pages (``dashboard/``), behind a signed-in session.

``security.SecurityMiddleware wraps it all (trusted hosts, body bounds, origin checks,
security headers, the audit log); errors are problem details (``problems.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from orderbridge import __version__, apidocs
from orderbridge.adapters.db import run_sync
from orderbridge.adapters.db.operators import Principal, Role
from orderbridge.adapters.shopify import parse_webhook_headers
from orderbridge.adapters.shopify import verify_webhook as verify_shopify
from orderbridge.adapters.tiktok import verify_webhook as verify_tiktok
from orderbridge.engine.metrics import CONTENT_TYPE
from orderbridge.engine.ports import Clients, Process
from orderbridge.engine.uninstall import Verdict, confirm_uninstall
from orderbridge.web import (
    api,
    cancel_api,
    dashboard,
    intake,
    oauth,
    problems,
    returns_api,
    shipbob_hooks,
    sla_api,
)
from orderbridge.web.readiness import WorkerCheck, check_readiness
from orderbridge.web.security import Authenticator, SecurityMiddleware
from orderbridge.web.webhook_docs import SHOPIFY_WEBHOOK, TIKTOK_WEBHOOK

__all__ = ["create_app", "read_limited_body"]


def _returns_routes(services: Clients) -> returns_api.ReturnsRoutes:
    """``/api/returns`` wired to this process's connections, TikTok clients and database."""
    from orderbridge.adapters.db import connections, events, transaction
    from orderbridge.adapters.db.grants import in_scope, scope_of
    from orderbridge.adapters.db.types import EventKind
    from orderbridge.engine.returns_desk import answer_return, pending_tasks, task_json
    from orderbridge.engine.returns_window import read_windows, window_json
    from orderbridge.errors import ConfigurationError

    def rows(key: str | None, principal: Principal | None) -> list[Any]:
        """The TikTok connections ``principal`` may see (none without one), or the one named."""
        with transaction(services.db, write=False) as conn:
            scope = frozenset() if principal is None else scope_of(conn, principal)
            found = [c for c in connections.list_connections(conn, services.cipher)
                     if c.tiktok_shop_id and in_scope(scope, c.id)]
        if key is not None:
            found = [c for c in found if key in (c.name, str(c.id))]
            if not found:
                raise LookupError(f"no connection {key!r}")  # or not one the caller may see: 404 alike
        return found

    async def one(key: str | None, principal: Principal | None) -> Any:
        found = await run_sync(services.db, lambda: rows(key, principal))
        if len(found) != 1:
            raise ConfigurationError("several connections: add ?connection=")
        return found[0]

    async def queue(key: str | None, principal: Principal | None) -> dict[str, Any]:
        found = await run_sync(services.db, lambda: rows(key, principal))
        tasks = [task_json(t, c.name if len(found) > 1 else "")
                 for c in found for t in await pending_tasks(services.tiktok_client(c))]

        def windows() -> list[dict[str, Any]]:
            now = services.clock.now()
            with transaction(services.db, write=False) as conn:
                return [window_json(w) for c in found for w in read_windows(conn, now, connection_id=c.id)]

        return {"needs_seller": tasks, "return_windows": await run_sync(services.db, windows)}

    async def reasons(return_id: str, key: str | None, principal: Principal | None) -> list[dict[str, str]]:
        client = services.tiktok_client(await one(key, principal))
        return [{"name": r.name, "text": r.text} for r in await client.reject_reasons(return_id)]

    async def answer(return_id: str, key: str | None, approve: bool, reason: str,
                     who: Principal) -> dict[str, Any]:
        row = await one(key, who)
        done = await answer_return(services.tiktok_client(row), return_id, approve=approve, reason=reason)

        def note() -> None:
            with transaction(services.db) as conn:
                events.append(conn, None, EventKind.EVENT,
                              f"operator: return {return_id} {done.decision} (by {who.name})",
                              {"return_id": return_id, "decision": done.decision, "reason": done.reason},
                              at=services.clock.now(), connection_id=row.id)

        await run_sync(services.db, note)
        return {"return_id": done.return_id, "decision": done.decision, "reject_reason": done.reason}

    return returns_api.ReturnsRoutes(queue=queue, reasons=reasons, answer=answer)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def create_app(services: Process, *, workers: WorkerCheck | None = None) -> FastAPI:
    """The FastAPI application for one process (all state lives in ``services``).

    ``workers`` says whether this process's workers heartbeat (``/readyz``); ``None`` for a
    process that runs no workers.
    """
    app = FastAPI(
        title="OrderBridge",
        version=__version__,
        description="Mirrors TikTok Shop orders into Shopify. Webhook receivers, health checks, "
        "the JSON API for operators and the TikTok OAuth callback. The API needs an operator's "
        "token: `Authorization: Bearer obt_…` (`orderbridge token create`).",
        docs_url=None, redoc_url=None, openapi_url=None,  # private: served below, behind a token
    )
    app.state.services = services
    settings = services.settings
    auth = Authenticator(services)
    viewer = Depends(auth.require(Role.VIEWER))
    problems.install(app, pages=(dashboard.HOME, dashboard.error_page))

    @app.post("/webhooks/tiktok", tags=["webhooks"], response_class=Response, openapi_extra=TIKTOK_WEBHOOK)
    async def tiktok_webhook(request: Request) -> Response:
        """TikTok Shop webhook: 200 with an empty body once stored (duplicates too), 401 on a
        bad signature (nothing stored), 400 for a signed body we cannot read (stored)."""
        key, secret = settings.tiktok_app_key, settings.tiktok_app_secret
        if not key or not secret:
            return PlainTextResponse("TikTok app key/secret not configured", status_code=503)
        body = await read_limited_body(request, settings.webhook_max_body_bytes)
        if not verify_tiktok(key, secret, body, request.headers.get("authorization")):
            return Response(status_code=401)
        result = await run_sync(services.db, intake.tiktok_delivery, services, body, _headers(request))
        if result.error:
            return PlainTextResponse(f"stored, but unreadable: {result.error}", status_code=400)
        return Response(status_code=200)

    @app.post("/webhooks/shopify", tags=["webhooks"], response_class=Response, openapi_extra=SHOPIFY_WEBHOOK)
    async def shopify_webhook(request: Request) -> Response:
        """Shopify webhook (incl. compliance topics): 200 once stored, 401 on a bad HMAC
        (nothing stored), 400 for a signed delivery we cannot read (stored). ``app/uninstalled``
        is confirmed with Shopify first; 503 when Shopify could not say (it delivers again)."""
        secret = settings.shopify_client_secret
        if not secret:
            return PlainTextResponse("Shopify client secret not configured", status_code=503)
        body = await read_limited_body(request, settings.webhook_max_body_bytes)
        h = parse_webhook_headers(request.headers)
        if not verify_shopify(secret, body, h.hmac):
            return Response(status_code=401)
        result = await run_sync(services.db, intake.shopify_delivery, services, h, body, _headers(request))
        if result.error:
            return PlainTextResponse(f"stored, but unreadable: {result.error}", status_code=400)
        if result.confirm_uninstall:
            verdicts = await confirm_uninstall(services, result.confirm_uninstall, h.shop_domain or "",
                                               result.inbox_key)
            if Verdict.UNDECIDED in verdicts:  # Shopify delivers it again: asked again then
                return PlainTextResponse("stored; Shopify could not confirm the uninstall now", status_code=503)
        return Response(status_code=200)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Ready to work: database writable, migrations current, the secret key opens every
        active connection's tokens, workers heartbeat (where they run). 503 otherwise; the
        reasons are logged and shown on ``/api/readiness``, never here."""
        problems = await run_sync(services.db, check_readiness, services, workers)
        return JSONResponse({"ready": not problems}, status_code=503 if problems else 200)

    @app.get("/api/readiness", tags=["health"], dependencies=[viewer])
    async def readiness() -> JSONResponse:
        """Why ``/readyz`` says what it says: ``{"ready": bool, "problems": {check: reason}}``."""
        problems = await run_sync(services.db, check_readiness, services, workers)
        return JSONResponse({"ready": not problems, "problems": problems},
                            status_code=503 if problems else 200)

    @app.get("/metrics", tags=["health"], response_class=Response, dependencies=[viewer])
    async def metrics() -> Response:
        """Prometheus metrics (text format); the gauges are read from the database now."""
        body = await run_sync(services.db, services.metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[viewer])
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False, dependencies=[viewer])
    async def docs() -> HTMLResponse:
        return apidocs.swagger_page("/openapi.json", "OrderBridge API")

    @app.get("/redoc", include_in_schema=False, dependencies=[viewer])
    async def redoc() -> HTMLResponse:
        return apidocs.redoc_page("/openapi.json", "OrderBridge API")

    apidocs.mount_assets(app)  # the pages' JS/CSS, from this process: they work offline

    app.include_router(api.router(services, auth))
    app.include_router(sla_api.router(services, auth))
    app.include_router(cancel_api.router(services.db, services.clock.now, auth,
                                         lambda conn, key: api._resolve_connection(conn, services, key).id))
    app.include_router(shipbob_hooks.router(
        services.db, services.clock.now, lambda name: settings.shipbob_webhook_secrets.get(name),
        lambda request: read_limited_body(request, settings.webhook_max_body_bytes)))
    app.include_router(returns_api.router(_returns_routes(services), auth))
    dashboard.install(app, services)
    app.include_router(oauth.router(services))
    if settings.cors_origin_list:  # off by default: the API is not meant for other sites' pages
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origin_list),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(SecurityMiddleware, services=services)
    return app
