"""Amazon MCF client: Login with Amazon tokens and the Fulfillment Outbound API 2020-07-01.

- LWA: the refresh token is exchanged for a one-hour access token, sent as
  ``x-amz-access-token``; it is refreshed ``DEFAULT_REFRESH_MARGIN`` before it expires
  (on the runtime's clock) and once more if Amazon answers 403 anyway.
- Quota: 2 requests/s with a burst of 30 per operation; a client-side token bucket keeps
  us under it and a 429 is retried with back-off (Amazon sends no retry-after).
- Errors: Amazon's ``{"errors": [{"code", "message", "details"}]}`` becomes
  ``orderbridge.errors`` types (429 RateLimited, 5xx UpstreamUnavailable, 401/403
  AuthError, 404 NotFound, other 4xx Rejected).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from orderbridge.adapters.amazon_mcf.models import (
    CreateOrder,
    FulfillmentOrder,
    OrderDetail,
    OrderPage,
    PackageTracking,
)
from orderbridge.adapters.limiter import TokenBucket
from orderbridge.adapters.rest import Reply, RestExecutor
from orderbridge.adapters.retry import RetryPolicy, Runtime
from orderbridge.clock import as_utc
from orderbridge.errors import (
    AuthError,
    NotFound,
    RateLimited,
    Rejected,
    RemoteError,
    UpstreamUnavailable,
)

__all__ = [
    "API_NAME",
    "DEFAULT_BURST",
    "DEFAULT_RATE_PER_SECOND",
    "DEFAULT_REFRESH_MARGIN_SECONDS",
    "AmazonMcfClient",
    "interpret",
]

API_NAME = "amazon_mcf"
PREFIX = "/fba/outbound/2020-07-01"
# Amazon allows 2/s with a burst of 30 per operation; 10% headroom for network jitter.
DEFAULT_RATE_PER_SECOND = 1.8
DEFAULT_BURST = 27
DEFAULT_REFRESH_MARGIN_SECONDS = 300.0  # refresh five minutes before the hour is up


def _json(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def interpret(response: httpx.Response, operation: str, _now: float) -> Reply | RemoteError:
    """Turn an SP-API (or LWA) answer into a ``Reply`` or the typed error it means."""
    status = response.status_code
    body = _json(response)
    request_id = response.headers.get("x-amzn-RequestId")
    if response.is_success:
        return Reply(status, body, response.headers, request_id)
    code, message = None, response.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code") or "") or None
        message = str(errors[0].get("message") or message)
        if errors[0].get("details"):
            message += f" ({errors[0]['details']})"
    elif isinstance(body, dict) and "error" in body:  # LWA's OAuth error body
        code, message = str(body["error"]), str(body.get("error_description") or message)
    kw: dict[str, Any] = {"api": API_NAME, "operation": operation, "code": code,
                          "request_id": request_id, "status": status}
    text = f"Amazon MCF {operation}: HTTP {status} {code or ''}: {message}"
    if status == 429:
        return RateLimited(text, **kw)
    if status >= 500 or status == 408:
        return UpstreamUnavailable(text, **kw)
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 404 or "not found" in message.lower():
        return NotFound(text, **kw)
    return Rejected(text, **kw)


class AmazonMcfClient:
    """One seller's MCF account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        endpoint: str,
        lwa_token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        runtime: Runtime | None = None,
        retry: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.http = http
        self.endpoint = endpoint.rstrip("/")
        self.lwa_token_url = lwa_token_url
        self._credentials = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                             "client_id": client_id, "client_secret": client_secret}
        self.runtime = runtime or Runtime()
        self.refresh_margin = refresh_margin
        limiter = limiter or TokenBucket(DEFAULT_RATE_PER_SECOND, DEFAULT_BURST,
                                         monotonic=self.runtime.monotonic, sleep=self.runtime.sleep)
        self._exec = RestExecutor(API_NAME, http, self.runtime, retry or RetryPolicy(), interpret, limiter)
        self._lwa = RestExecutor(API_NAME, http, self.runtime, retry or RetryPolicy(), interpret)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    # tokens
    async def access_token(self) -> str:
        """A valid access token, exchanged again when it is about to expire."""
        async with self._lock:
            if self._token is None or self.runtime.clock() >= self._expires_at - self.refresh_margin:
                await self._refresh()
            assert self._token is not None
            return self._token

    async def _refresh(self) -> None:
        asked_at = self.runtime.clock()

        async def build() -> httpx.Request:
            return self.http.build_request("POST", self.lwa_token_url, data=self._credentials)

        reply = await self._lwa.run(operation="lwa.token", build=build, idempotent=True)
        body = reply.body if isinstance(reply.body, dict) else {}
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, int | float):
            raise UpstreamUnavailable("LWA answered without access_token/expires_in",
                                      api=API_NAME, operation="lwa.token", status=reply.status)
        self._token, self._expires_at = token, asked_at + float(lifetime)

    async def _forget_token(self) -> None:
        async with self._lock:
            self._token = None

    # calls
    async def _call(self, method: str, path: str, operation: str, *, params: dict[str, Any] | None = None,
                    body: Any = None, idempotent: bool, order_ref: str | None = None) -> Reply:
        async def build() -> httpx.Request:
            token = await self.access_token()
            return self.http.build_request(
                method, self.endpoint + PREFIX + path, params=params, json=body,
                headers={"x-amz-access-token": token, "accept": "application/json"})

        return await self._exec.run(operation=operation, build=build, idempotent=idempotent,
                                    limiter_key=operation, on_auth_error=self._forget_token,
                                    order_ref=order_ref)

    @staticmethod
    def _payload(reply: Reply) -> dict[str, Any]:
        payload = reply.body.get("payload") if isinstance(reply.body, dict) else None
        return payload if isinstance(payload, dict) else {}

    async def create_order(self, order: CreateOrder) -> None:
        """createFulfillmentOrder. Idempotent by ``seller_fulfillment_order_id``: a retry of a
        create that did go through is refused by Amazon, so the caller looks it up first."""
        await self._call("POST", "/fulfillmentOrders", "createFulfillmentOrder", body=order.to_json(),
                         idempotent=False, order_ref=order.seller_fulfillment_order_id)

    async def get_order(self, seller_fulfillment_order_id: str) -> OrderDetail:
        """getFulfillmentOrder by our reference; ``NotFound`` when Amazon has none."""
        reply = await self._call("GET", f"/fulfillmentOrders/{quote(seller_fulfillment_order_id, safe='')}",
                                 "getFulfillmentOrder", idempotent=True, order_ref=seller_fulfillment_order_id)
        payload = self._payload(reply)
        detail = OrderDetail.model_validate(payload)
        detail.raw = payload
        return detail

    async def find_order(self, seller_fulfillment_order_id: str) -> OrderDetail | None:
        """``get_order``, or None when there is no such order."""
        try:
            return await self.get_order(seller_fulfillment_order_id)
        except NotFound:
            return None

    async def list_updated_since(self, since: datetime, next_token: str | None = None) -> OrderPage:
        """One page of listAllFulfillmentOrders: orders updated at or after ``since``."""
        params = {"nextToken": next_token} if next_token else {
            "queryStartDate": as_utc(since).strftime("%Y-%m-%dT%H:%M:%SZ")}
        reply = await self._call("GET", "/fulfillmentOrders", "listAllFulfillmentOrders",
                                 params=params, idempotent=True)
        return OrderPage.model_validate(self._payload(reply))

    async def iter_updated_since(self, since: datetime) -> AsyncIterator[FulfillmentOrder]:
        """Every order updated at or after ``since``, following ``nextToken``."""
        token: str | None = None
        while True:
            page = await self.list_updated_since(since, token)
            for order in page.fulfillment_orders:
                yield order
            if not page.next_token:
                return
            token = page.next_token

    async def cancel_order(self, seller_fulfillment_order_id: str) -> None:
        """cancelFulfillmentOrder; ``Rejected`` when it is too late (not Received/Planning).

        Repeating it is safe: the order is cancelled or refused the same way again."""
        await self._call("PUT", f"/fulfillmentOrders/{quote(seller_fulfillment_order_id, safe='')}/cancel",
                         "cancelFulfillmentOrder", idempotent=True, order_ref=seller_fulfillment_order_id)

    async def package_tracking(self, package_number: int) -> PackageTracking:
        """getPackageTrackingDetails of one package."""
        reply = await self._call("GET", "/tracking", "getPackageTrackingDetails",
                                 params={"packageNumber": package_number}, idempotent=True)
        payload = self._payload(reply)
        tracking = PackageTracking.model_validate(payload)
        tracking.raw = payload
        return tracking
