"""The Amazon MCF sandbox's HTTP app: the LWA token host and Fulfillment Outbound 2020-07-01.

One port serves both ``POST /auth/o2/token`` (Login with Amazon) and
``/fba/outbound/2020-07-01/...``. Every SP-API request goes through faults, the access
token check (``x-amz-access-token``; 403 ``Unauthorized``), the operation's quota (token
bucket, 2/s with a burst of 30 on the sandbox clock; 429 ``QuotaExceeded``) and the
handler. Errors use Amazon's envelope ``{"errors": [{"code", "message", "details"}]}``;
every answer carries ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit``.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from orderbridge.clock import Clock, as_utc
from orderbridge.sandbox.amazon_mcf.state import ACCESS_TOKEN_LIFETIME, AccessToken, World
from orderbridge.sandbox.amazon_mcf.warehouse import OrderError, Warehouse
from orderbridge.sandbox.common.faults import FaultAction, FaultPlan, apply_faults
from orderbridge.sandbox.common.quota import TokenBucket

__all__ = ["PAGE_SIZE", "RATE_BURST", "RATE_PER_SECOND", "build_app"]

log = logging.getLogger(__name__)
SANDBOX_NAME = "amazon_mcf"
PREFIX = "/fba/outbound/2020-07-01"
RATE_PER_SECOND, RATE_BURST = 2.0, 30
PAGE_SIZE = 50  # orders per listAllFulfillmentOrders page (sandbox choice)


def _error(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, "details": details}]},
                        status_code=status)


def _parse_time(value: str) -> datetime:
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise OrderError(f"Invalid date-time {value!r}") from None


def build_app(world: World, warehouse: Warehouse, clock: Clock, faults: FaultPlan) -> FastAPI:
    """The public app of the sandbox."""
    app = FastAPI(title="Amazon MCF sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    quota = TokenBucket(clock, RATE_PER_SECOND, RATE_BURST)

    def with_headers(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = secrets.token_hex(16)
        response.headers["x-amzn-RateLimit-Limit"] = str(RATE_PER_SECOND)
        return response

    @app.post("/auth/o2/token", include_in_schema=False)
    async def lwa_token(request: Request) -> Response:
        form = dict((await request.form()).items())
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "Only refresh_token is supported here"}, 400)
        seller = world.seller
        if form.get("client_id") != seller.client_id or form.get("client_secret") != seller.client_secret:
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "Client authentication failed"}, 401)
        if form.get("refresh_token") != seller.refresh_token:
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "The request has an invalid grant parameter : refresh_token"}, 400)
        token = AccessToken("Atza|" + secrets.token_urlsafe(24), clock.now() + ACCESS_TOKEN_LIFETIME)
        world.tokens[token.token] = token
        return JSONResponse({"access_token": token.token, "refresh_token": seller.refresh_token,
                             "token_type": "bearer", "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds())})

    def authenticate(request: Request) -> JSONResponse | None:
        token = world.tokens.get(request.headers.get("x-amz-access-token", ""))
        if token is None:
            return _error(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided is revoked, malformed or invalid.")
        if clock.now() >= token.expires:
            return _error(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided has expired.")
        return None

    async def handle(request: Request, operation: str, path_id: str | None) -> Response:
        denied = authenticate(request)
        if denied is not None:
            return denied
        if not quota.allow(operation):
            return _error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        query = request.query_params
        if operation == "createFulfillmentOrder":
            try:
                body = json.loads(await request.body() or b"null")
            except ValueError:
                raise OrderError("The request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise OrderError("The request body must be a JSON object")
            warehouse.create(body)
            return JSONResponse({})
        if operation == "getFulfillmentOrder":
            assert path_id is not None
            return JSONResponse({"payload": world.detail_json(warehouse.order(path_id))})
        if operation == "cancelFulfillmentOrder":
            assert path_id is not None
            warehouse.cancel(path_id)
            return JSONResponse({})
        if operation == "getPackageTrackingDetails":
            raw = query.get("packageNumber", "")
            if not raw.isdigit():
                raise OrderError("packageNumber is required and must be an integer")
            package = world.packages.get(int(raw))
            if package is None:
                raise OrderError(f"Package {raw} not found", "NotFound", 404)
            return JSONResponse({"payload": world.tracking_json(package)})
        return list_all(query.get("queryStartDate"), query.get("nextToken"))

    def list_all(start: str | None, next_token: str | None) -> Response:
        offset = 0
        if next_token:
            try:
                start, offset = json.loads(base64.urlsafe_b64decode(next_token.encode()))
            except (ValueError, TypeError):
                raise OrderError("Invalid nextToken") from None
            if not isinstance(offset, int) or not isinstance(start, str | None):
                raise OrderError("Invalid nextToken")
        since = _parse_time(start) if start else None
        rows = sorted((o for o in world.orders.values() if since is None or o.status_updated >= since),
                      key=lambda o: (o.status_updated, o.id))
        page = rows[offset:offset + PAGE_SIZE]
        payload: dict[str, Any] = {"fulfillmentOrders": [world.order_json(o) for o in page]}
        if offset + PAGE_SIZE < len(rows):
            payload["nextToken"] = base64.urlsafe_b64encode(
                json.dumps([start, offset + PAGE_SIZE]).encode()).decode()
        return JSONResponse({"payload": payload})

    def route(method: str, path: str) -> tuple[str, str | None] | None:
        if not path.startswith(PREFIX + "/"):
            return None
        parts = path[len(PREFIX) + 1:].split("/")
        table = {
            ("POST", 1): "createFulfillmentOrder", ("GET", 1): "listAllFulfillmentOrders",
            ("GET", 2): "getFulfillmentOrder",
        }
        if parts[0] == "tracking" and len(parts) == 1 and method == "GET":
            return "getPackageTrackingDetails", None
        if parts[0] != "fulfillmentOrders":
            return None
        if len(parts) == 3 and parts[2] == "cancel" and method == "PUT":
            return "cancelFulfillmentOrder", parts[1]
        name = table.get((method, len(parts)))
        return None if name is None else (name, parts[1] if len(parts) == 2 else None)

    def fault_response(action: FaultAction) -> Response:
        if action is FaultAction.THROTTLE:
            return with_headers(_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource."))
        if action is FaultAction.TIMEOUT:
            return with_headers(_error(504, "RequestTimeout", "The request timed out."))
        return with_headers(_error(500, "InternalFailure", "We encountered an internal error. Please try again."))

    async def serve(request: Request) -> Response:
        found = route(request.method.upper(), request.url.path)
        if found is None:
            return with_headers(_error(404, "NotFound", f"Resource {request.url.path} is not found."))
        try:
            return with_headers(await handle(request, *found))
        except OrderError as exc:
            return with_headers(_error(exc.status, exc.code, str(exc)))
        except ClientDisconnect:  # the caller went away (an engine stopping): QuietDisconnect logs it
            raise
        except Exception:  # never a traceback on the wire
            log.exception("amazon_mcf sandbox: unexpected error on %s %s", request.method, request.url.path)
            return with_headers(_error(500, "InternalFailure", "We encountered an internal error. Please try again."))

    @app.api_route("/{full_path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
    async def catch_all(request: Request, full_path: str) -> Any:
        found = route(request.method.upper(), request.url.path)
        key = f"{request.method.upper()} {found[0] if found else request.url.path}"
        return await apply_faults(faults, SANDBOX_NAME, key, request.is_disconnected,
                                  lambda: serve(request), fault_response)

    return app
