"""The ASGI app: one port serving the API host, the auth host and the authorize page.

Every API request goes through: faults (``apply_faults``) -> route match (36009009 /
36009010 / 36009004 "Invalid version") -> rate limit (50/s per app, shop and path template, real time;
429 36009002) -> authentication -> handler. Any unexpected exception becomes 36009003 with
HTTP 500 and the sandbox keeps serving; no traceback leaves the process.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.requests import ClientDisconnect

from orderbridge.clock import Clock
from orderbridge.sandbox.common.faults import FaultAction, FaultPlan, apply_faults
from orderbridge.sandbox.tiktok.api import Api, Ctx, Route
from orderbridge.sandbox.tiktok.auth import AuthKind
from orderbridge.sandbox.tiktok.constants import RATE_LIMIT_PER_SECOND, ErrorCode
from orderbridge.sandbox.tiktok.errors import ApiError
from orderbridge.sandbox.tiktok.state import World

__all__ = ["RateLimiter", "build_app"]

log = logging.getLogger(__name__)
SANDBOX_NAME = "tiktok"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
VERSION_SEGMENT = re.compile(r"^/([a-z_]+)/(\d{6})/")


class RateLimiter:
    """Sliding one-second window per key, on real (monotonic) time."""

    def __init__(self, limit: int = RATE_LIMIT_PER_SECOND,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.monotonic = monotonic
        self._hits: dict[tuple[str, str, str], deque[float]] = {}

    def allow(self, key: tuple[str, str, str]) -> bool:
        now = self.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 1.0:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


class Envelope:
    """Builds TikTok envelopes with request ids."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock

    def request_id(self) -> str:
        return self.clock.now().strftime("%Y%m%d%H%M%S") + self.world.ids.next("request")

    def ok(self, data: Any) -> JSONResponse:
        rid = self.request_id()
        return JSONResponse({"code": 0, "message": "Success", "request_id": rid, "data": data},
                            headers={"x-tt-logid": rid})

    def error(self, code: ErrorCode, message: str, status: int) -> JSONResponse:
        rid = self.request_id()
        return JSONResponse({"code": int(code), "message": message, "request_id": rid, "data": None},
                            status_code=status, headers={"x-tt-logid": rid})


def build_app(api: Api, world: World, clock: Clock, faults: FaultPlan,
              limiter: RateLimiter) -> FastAPI:
    """The sandbox's public app."""
    app = FastAPI(title="TikTok Shop sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    env = Envelope(world, clock)
    routes = [(r, _compile(r.template)) for r in api.routes()]

    def fault_response(action: FaultAction) -> Response:
        if action is FaultAction.THROTTLE:
            return env.error(ErrorCode.RATE_LIMITED, "Too many requests", 429)
        if action is FaultAction.TIMEOUT:
            return env.error(ErrorCode.TIMEOUT, "Request timeout", 504)
        return env.error(ErrorCode.INTERNAL_ERROR, "Internal error, please retry", 500)

    def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
        path_ok = False
        for route, regex in routes:
            found = regex.match(path)
            if found is None:
                continue
            path_ok = True
            if route.method == method:
                return route, found.groupdict()
        if path_ok:
            raise ApiError(ErrorCode.BAD_METHOD, f"Method {method} is not allowed for {path}", 405)
        versioned = VERSION_SEGMENT.match(path)
        if versioned and versioned.group(2) != "202309":
            probe = VERSION_SEGMENT.sub(lambda m: f"/{m.group(1)}/202309/", path, count=1)
            if any(regex.match(probe) for _, regex in routes):
                raise ApiError(ErrorCode.INVALID_REQUEST, f"Invalid version {versioned.group(2)}", 404)
        raise ApiError(ErrorCode.BAD_PATH, f"Invalid path: {path}", 404)

    async def serve(request: Request) -> Response:
        try:
            method, path = request.method.upper(), request.url.path
            route, path_params = match(method, path)
            params = dict(request.query_params)
            rate_key = (params.get("app_key", ""), params.get("shop_cipher", ""), route.template)
            if not limiter.allow(rate_key):
                return env.error(ErrorCode.RATE_LIMITED, "Too many requests: 50 per second per API", 429)
            body = await request.body()
            caller = None
            if route.kind is not AuthKind.TOKEN:
                headers = {k.lower(): v for k, v in request.headers.items()}
                caller = api.auth.verify(route.kind, path, params, headers, body)
            data = await route.handler(Ctx(caller, params, path_params, body))
            return env.ok(data)
        except ApiError as exc:
            return env.error(exc.code, exc.message, exc.http_status)
        except ClientDisconnect:  # the caller went away (an engine stopping): QuietDisconnect logs it
            raise
        except Exception:  # never a traceback on the wire; the sandbox keeps serving
            log.exception("tiktok sandbox: unexpected error on %s %s", request.method, request.url.path)
            return env.error(ErrorCode.INTERNAL_ERROR, "Internal error, please retry", 500)

    @app.get("/open/authorize", response_class=HTMLResponse, include_in_schema=False)
    async def authorize_page(request: Request) -> Response:
        q = dict(request.query_params)
        service_id = q.get("service_id", "")
        app_obj = next((a for a in world.apps.values() if a.service_id == service_id), None)
        if app_obj is None:
            return HTMLResponse("<h1>Unknown service_id</h1>", status_code=400)
        items = []
        for shop in world.shops.values():
            confirm = "/open/authorize/confirm?" + urlencode({**q, "shop_id": shop.id})
            items.append(f'<li><a id="shop-{shop.id}" href="{html.escape(confirm)}">'
                         f"Authorize {html.escape(shop.name)}</a></li>")
        deny = "/open/authorize/confirm?" + urlencode({**q, "deny": "1"})
        return HTMLResponse(
            f"<!doctype html><title>Authorize {html.escape(app_obj.name)}</title>"
            f"<h1>{html.escape(app_obj.name)} wants access to your TikTok Shop</h1>"
            f"<p>Choose the shop to authorize:</p><ul>{''.join(items)}</ul>"
            f'<p><a id="deny" href="{html.escape(deny)}">Deny</a></p>'
        )

    @app.get("/open/authorize/confirm", include_in_schema=False)
    async def authorize_confirm(request: Request) -> Response:
        q = dict(request.query_params)
        app_obj = next((a for a in world.apps.values() if a.service_id == q.get("service_id")), None)
        if app_obj is None:
            return HTMLResponse("<h1>Unknown service_id</h1>", status_code=400)
        redirect = q.get("redirect_uri") or app_obj.redirect_uri
        sep = "&" if "?" in redirect else "?"
        if q.get("deny"):
            return RedirectResponse(redirect + sep + urlencode(
                {"code": "null", "error": "auth_denied", "state": q.get("state", "")}), status_code=302)
        if q.get("shop_id") not in world.shops:
            return HTMLResponse("<h1>Unknown shop</h1>", status_code=400)
        code = api.auth.mint_code(app_obj.app_key, q["shop_id"])
        return RedirectResponse(redirect + sep + urlencode({"code": code.code, "state": q.get("state", "")}),
                                status_code=302)

    @app.api_route("/{full_path:path}", methods=METHODS, include_in_schema=False)
    async def catch_all(request: Request, full_path: str) -> Any:
        key = f"{request.method.upper()} {request.url.path}"
        return await apply_faults(faults, SANDBOX_NAME, key, request.is_disconnected,
                                  lambda: serve(request), fault_response)

    return app
