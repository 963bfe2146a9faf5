"""The ShipBob sandbox's HTTP app: API version 2026-01 under ``/2026-01/``.

Every request goes through faults, the bearer token check (401), the quota (150 requests
per minute, sliding window on the sandbox clock; 429 with ``x-retry-after`` seconds;
``x-remaining-calls`` on every answer) and the handler. Validation errors are ShipBob's
``{field: [messages]}`` bodies. Order lists are pages (``Page``, ``Limit`` up to 250)
with ``page-number``, ``total-pages``, ``total-count`` and ``next-page`` headers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect

from orderbridge.clock import Clock, as_utc
from orderbridge.sandbox.common.faults import FaultAction, FaultPlan, apply_faults
from orderbridge.sandbox.common.quota import SlidingWindow
from orderbridge.sandbox.shipbob.state import API_VERSION, Order, World
from orderbridge.sandbox.shipbob.warehouse import ShipBobError, Warehouse, invalid

__all__ = ["RATE_LIMIT_PER_MINUTE", "build_app"]

log = logging.getLogger(__name__)
SANDBOX_NAME = "shipbob"
RATE_LIMIT_PER_MINUTE = 150
DEFAULT_LIMIT, MAX_LIMIT = 50, 250

Handler = Callable[[Request, dict[str, str]], Awaitable[Response]]


def _int(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(name, f"The value '{value}' is not valid.") from None


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise invalid(name, f"The value '{value}' is not valid.") from None


def build_app(world: World, warehouse: Warehouse, clock: Clock, faults: FaultPlan) -> FastAPI:
    """The public app of the sandbox."""
    app = FastAPI(title="ShipBob sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    quota = SlidingWindow(clock, RATE_LIMIT_PER_MINUTE, 60.0)
    v = re.escape(API_VERSION)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise invalid("body", "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise invalid("body", "The request body must be a JSON object")
        return body

    def channel_header(request: Request) -> int:
        raw = request.headers.get("shipbob_channel_id")
        if not raw:
            raise invalid("shipbob_channel_id", "The shipbob_channel_id header is required.")
        return _int(raw, "shipbob_channel_id", 0)

    async def channels(_r: Request, _p: dict[str, str]) -> Response:
        return JSONResponse([{"id": c.id, "name": c.name, "application_name": c.application_name,
                              "scopes": c.scopes} for c in world.channels])

    async def create_order(request: Request, _p: dict[str, str]) -> Response:
        order = warehouse.create(channel_header(request), await body_of(request))
        return JSONResponse(world.order_json(order), status_code=201)

    def filter_of(q: QueryParams) -> Callable[[Order], bool]:
        """The query's filters, read (and refused when malformed) before any order is looked at."""
        refs = [r for r in q.get("ReferenceIds", "").split(",") if r]
        ids = [r for r in q.get("IDs", "").split(",") if r]
        since = _when(q.get("LastUpdateStartDate"), "LastUpdateStartDate")
        start = _when(q.get("StartDate"), "StartDate")
        has_tracking = q.get("HasTracking")

        def matches(order: Order) -> bool:
            return ((not refs or order.reference_id in refs) and (not ids or str(order.id) in ids)
                    and (since is None or order.updated >= since) and (start is None or order.created >= start)
                    and (has_tracking is None or (has_tracking.lower() == "true") ==
                         any(s.tracking is not None for s in order.shipments)))

        return matches

    async def list_orders(request: Request, _p: dict[str, str]) -> Response:
        q = request.query_params
        page = _int(q.get("Page"), "Page", 1)
        limit = _int(q.get("Limit"), "Limit", DEFAULT_LIMIT)
        if page < 1 or not 1 <= limit <= MAX_LIMIT:
            raise invalid("Limit", f"Page must be at least 1 and Limit between 1 and {MAX_LIMIT}")
        newest = q.get("SortOrder", "Newest") != "Oldest"
        matches = filter_of(q)
        rows = sorted((o for o in world.orders.values() if matches(o)),
                      key=lambda o: (o.created, o.id), reverse=newest)
        total_pages = max(1, -(-len(rows) // limit))
        headers = {"page-number": str(page), "total-pages": str(total_pages), "total-count": str(len(rows))}
        if page < total_pages:
            others = [(k, val) for k, val in q.multi_items() if k != "Page"]
            query = "&".join(f"{k}={val}" for k, val in [*others, ("Page", str(page + 1))])
            headers["next-page"] = f"/{API_VERSION}/order?{query}"
        chunk = rows[(page - 1) * limit:page * limit]
        return JSONResponse([world.order_json(o) for o in chunk], headers=headers)

    async def get_order(_r: Request, p: dict[str, str]) -> Response:
        return JSONResponse(world.order_json(warehouse.order(int(p["order_id"]))))

    async def order_shipments(_r: Request, p: dict[str, str]) -> Response:
        order = warehouse.order(int(p["order_id"]))
        return JSONResponse([world.shipment_json(s) for s in order.shipments])

    async def cancel_order(request: Request, p: dict[str, str]) -> Response:
        channel_header(request)
        return JSONResponse(warehouse.cancel_order(int(p["order_id"])))

    async def cancel_shipment(_r: Request, p: dict[str, str]) -> Response:
        shipment = warehouse.find_shipment(int(p["shipment_id"]))
        result = warehouse.cancel_shipment(shipment)
        if not result["is_success"]:
            raise ShipBobError(422, {"shipmentId": [str(result["reason"])]})
        return JSONResponse(world.shipment_json(shipment))

    async def subscribe(request: Request, _p: dict[str, str]) -> Response:
        sub = warehouse.subscribe(await body_of(request))
        return JSONResponse({"id": sub.id, "topics": sub.topics, "url": sub.url, "secret": sub.secret,
                             "created_at": sub.created.isoformat()}, status_code=201)

    async def list_subscriptions(_r: Request, _p: dict[str, str]) -> Response:
        return JSONResponse([{"id": s.id, "topics": s.topics, "url": s.url,
                              "created_at": s.created.isoformat()} for s in world.subscriptions.values()])

    async def unsubscribe(_r: Request, p: dict[str, str]) -> Response:
        if world.subscriptions.pop(int(p["webhook_id"]), None) is None:
            raise ShipBobError(404, {"id": ["Subscription not found"]})
        return Response(status_code=204)

    routes: list[tuple[str, str, re.Pattern[str], Handler]] = [
        (m, name, re.compile(f"^/{v}{pattern}$"), fn) for m, name, pattern, fn in [
            ("GET", "channels", r"/channel", channels),
            ("POST", "createOrder", r"/order", create_order),
            ("GET", "getOrders", r"/order", list_orders),
            ("GET", "getOrder", r"/order/(?P<order_id>\d+)", get_order),
            ("GET", "getShipments", r"/order/(?P<order_id>\d+)/shipment", order_shipments),
            ("POST", "cancelOrder", r"/order/(?P<order_id>\d+):cancel", cancel_order),
            ("POST", "cancelShipment", r"/shipment/(?P<shipment_id>\d+):cancel", cancel_shipment),
            ("POST", "createWebhook", r"/webhook", subscribe),
            ("GET", "getWebhooks", r"/webhook", list_subscriptions),
            ("DELETE", "deleteWebhook", r"/webhook/(?P<webhook_id>\d+)", unsubscribe),
        ]
    ]

    def route(method: str, path: str) -> tuple[str, Handler, dict[str, str]] | None:
        for m, name, regex, fn in routes:
            found = regex.match(path)
            if found is not None and m == method:
                return name, fn, found.groupdict()
        return None

    def fault_response(action: FaultAction) -> Response:
        if action is FaultAction.THROTTLE:
            return JSONResponse({"title": "Too Many Requests", "status": 429}, 429,
                                headers={"x-retry-after": "1", "x-remaining-calls": "0"})
        if action is FaultAction.TIMEOUT:
            return JSONResponse({"title": "Gateway Timeout", "status": 504}, 504)
        return JSONResponse({"title": "Internal Server Error", "status": 500}, 500)

    async def serve(request: Request) -> Response:
        found = route(request.method.upper(), request.url.path)
        if found is None:
            return JSONResponse({"title": "Not Found", "status": 404}, 404)
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {world.token}":
            return JSONResponse({"title": "Unauthorized", "status": 401}, 401)
        if not quota.allow(world.token):
            return JSONResponse({"title": "Too Many Requests", "status": 429}, 429, headers={
                "x-retry-after": str(quota.retry_after(world.token)), "x-remaining-calls": "0"})
        _name, handler, params = found
        try:
            response = await handler(request, params)
        except ShipBobError as exc:
            response = JSONResponse(exc.errors, exc.status)
        except ClientDisconnect:  # the caller went away (an engine stopping): QuietDisconnect logs it
            raise
        except Exception:  # never a traceback on the wire
            log.exception("shipbob sandbox: unexpected error on %s %s", request.method, request.url.path)
            response = JSONResponse({"title": "Internal Server Error", "status": 500}, 500)
        response.headers["x-remaining-calls"] = str(quota.remaining(world.token))
        return response

    @app.api_route("/{full_path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
    async def catch_all(request: Request, full_path: str) -> Any:
        found = route(request.method.upper(), request.url.path)
        key = f"{request.method.upper()} {found[0] if found else request.url.path}"
        return await apply_faults(faults, SANDBOX_NAME, key, request.is_disconnected,
                                  lambda: serve(request), fault_response)

    return app
