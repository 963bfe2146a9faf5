"""The HTTP face of the sandbox: POST /admin/api/{version}/graphql.json, as Shopify serves it,
and the OAuth endpoints under /admin/oauth/ (``oauth.py``).

The shop comes from the path prefix (``/{shop}/admin/api/...``, for local use), the
``X-Shopify-Shop-Domain`` header, or the Host header ``<shop>.myshopify.com``.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderbridge.clock import Clock
from orderbridge.sandbox.common.faults import FaultAction, FaultPlan, apply_faults
from orderbridge.sandbox.shopify.context import Ctx, Runtime
from orderbridge.sandbox.shopify.executor import GraphQLExecutor, first_root_field, parse_document
from orderbridge.sandbox.shopify.oauth import OAuthServer
from orderbridge.sandbox.shopify.state import World
from orderbridge.sandbox.shopify.versions import answering_version

__all__ = ["build_app"]

log = logging.getLogger(__name__)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
RETRY_AFTER_SECONDS = "2.0"
MYSHOPIFY = ".myshopify.com"


class GraphQLApp:
    """Request handling, shared by both URL forms."""

    def __init__(self, world: World, clock: Clock, runtime: Runtime, executor: GraphQLExecutor,
                 faults: FaultPlan, seed: int) -> None:
        self.world, self.clock, self.runtime, self.executor, self.faults = world, clock, runtime, executor, faults
        self._rng = random.Random(f"shopify-request-ids:{seed}")
        self._errors = itertools.count()

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _shop_domain(self, request: Request) -> str | None:
        if "shop_domain" in request.path_params:
            domain = str(request.path_params["shop_domain"])
        else:
            domain = request.headers.get("x-shopify-shop-domain") or request.headers.get("host", "").split(":")[0]
        if domain and "." not in domain:
            domain += MYSHOPIFY
        return domain or None

    async def handle(self, request: Request) -> Response:
        request_id = self._request_id()
        headers = {"X-Request-Id": request_id}
        try:
            return await self._handle(request, request_id, headers)
        except ClientDisconnect:  # the caller went away (an engine stopping): QuietDisconnect logs it
            raise
        except Exception:  # the sandbox keeps serving whatever happened
            log.exception("shopify sandbox request failed")
            return JSONResponse({"errors": [{"message": "Internal error. Looks like something went wrong on "
                                                        f"our end.\nRequest ID: {request_id} (include this in "
                                                        "support requests).",
                                             "extensions": {"code": "INTERNAL_SERVER_ERROR",
                                                            "requestId": request_id}}]},
                                status_code=500, headers=headers)

    async def _handle(self, request: Request, request_id: str, headers: dict[str, str]) -> Response:
        answering = answering_version(str(request.path_params.get("version", "")), self.clock.now())
        if answering is None:
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=headers)
        headers["X-Shopify-API-Version"] = answering
        domain = self._shop_domain(request)
        shop = self.world.shops.get(domain or "")
        if shop is None:
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=headers)
        token = self.world.tokens.get(request.headers.get("x-shopify-access-token", ""))
        if token is None or token.shop != shop.domain or (
                token.expires_at is not None and token.expires_at <= self.clock.now()):
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401, headers=headers)
        raw = await request.body()
        query, variables, operation_name, problem = _read_body(raw, request.headers.get("content-type", ""))
        if problem is not None:
            return JSONResponse({"errors": problem}, status_code=400, headers=headers)
        assert query is not None
        document, syntax_error = parse_document(query)
        key = first_root_field(document, operation_name) if document is not None else "unknown"

        async def work() -> Response:
            if document is None:
                return JSONResponse(syntax_error, headers=headers)
            ctx = Ctx(self.world, shop, token, self.world.apps[token.app_id], self.clock.now(), self.runtime,
                      request_id)
            body = self.executor.run(ctx, document, variables, operation_name)
            return JSONResponse(body, headers=headers)

        def fault(action: FaultAction) -> Response:
            if action is FaultAction.THROTTLE:
                return JSONResponse({"errors": REST_THROTTLED}, status_code=429,
                                    headers=headers | {"Retry-After": RETRY_AFTER_SECONDS})
            if action is FaultAction.TIMEOUT:
                return JSONResponse({"errors": "Gateway Timeout"}, status_code=504, headers=headers)
            if next(self._errors) % 2:
                return JSONResponse({"errors": "Bad Gateway"}, status_code=502, headers=headers)
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503, headers=headers)

        response: Response = await apply_faults(self.faults, "shopify", key, request.is_disconnected, work, fault)
        return response


def _read_body(raw: bytes, content_type: str) -> tuple[str | None, dict[str, Any], str | None, Any]:
    """(query, variables, operationName, error) from a request body."""
    if content_type.startswith("application/graphql"):
        return raw.decode("utf-8", "replace"), {}, None, None
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return None, {}, None, "Invalid JSON in request body"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str) or not payload["query"].strip():
        return None, {}, None, {"query": "Required parameter missing or invalid"}
    variables = payload.get("variables") or {}
    if isinstance(variables, str):
        try:
            variables = json.loads(variables) if variables.strip() else {}
        except ValueError:
            variables = None
    if not isinstance(variables, dict):
        return None, {}, None, {"variables": "Invalid variables"}
    name = payload.get("operationName")
    return payload["query"], variables, name if isinstance(name, str) else None, None


def build_app(handler: GraphQLApp, oauth: OAuthServer) -> Starlette:
    """The ASGI app serving both URL forms (GraphQL and OAuth)."""
    return Starlette(routes=[
        Route("/admin/api/{version}/graphql.json", handler.handle, methods=["POST"]),
        Route("/{shop_domain}/admin/api/{version}/graphql.json", handler.handle, methods=["POST"]),
        Route("/admin/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/{shop_domain}/admin/oauth/authorize", oauth.authorize, methods=["GET"]),
        Route("/admin/oauth/access_token", oauth.access_token, methods=["POST"]),
        Route("/{shop_domain}/admin/oauth/access_token", oauth.access_token, methods=["POST"]),
    ])
