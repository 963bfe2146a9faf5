"""ShipBob client (dated API version, default ``DEFAULT_API_VERSION``).

- Auth: a Personal Access Token as ``Authorization: Bearer``; order writes name the
  channel in a ``shipbob_channel_id`` header (the first channel with ``orders_write``
  unless one is configured).
- Quota: 150 requests per minute, sliding window, for the whole account; a client-side
  sliding window keeps us under it and a 429 is retried after its ``x-retry-after``.
- Errors: 429 RateLimited (with retry_after), 5xx UpstreamUnavailable, 401/403 AuthError,
  404 NotFound, other 4xx Rejected with ShipBob's ``{field: [messages]}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from orderbridge.adapters.limiter import RateLimiter
from orderbridge.adapters.rest import Reply, RestExecutor
from orderbridge.adapters.retry import RetryPolicy, Runtime, parse_retry_after
from orderbridge.adapters.shipbob.models import (
    CancelOutcome,
    Channel,
    NewOrder,
    Order,
    OrderPage,
    Shipment,
    WebhookSubscription,
)
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
    "DEFAULT_API_VERSION",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_RATE_LIMIT_PER_MINUTE",
    "ShipBobClient",
    "interpret",
]

API_NAME = "shipbob"
DEFAULT_API_VERSION = "2026-01"
DEFAULT_RATE_LIMIT_PER_MINUTE = 140  # ShipBob allows 150; headroom for jitter
DEFAULT_PAGE_LIMIT = 250  # ShipBob's maximum page size
RATE_WINDOW_SECONDS = 60.0
# ShipBob's x-retry-after can reach the whole minute of its window.
DEFAULT_RETRY = RetryPolicy(max_retry_after=RATE_WINDOW_SECONDS + 5)


def interpret(response: httpx.Response, operation: str, now: float) -> Reply | RemoteError:
    """Turn a ShipBob answer into a ``Reply`` or the typed error it means."""
    status = response.status_code
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = None
    request_id = response.headers.get("x-request-id")
    if response.is_success:
        return Reply(status, body, response.headers, request_id)
    if isinstance(body, dict) and body and all(isinstance(v, list) for v in body.values()):
        message = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in body.items())
    elif isinstance(body, dict):
        message = str(body.get("detail") or body.get("title") or body.get("message") or response.reason_phrase)
    else:
        message = response.reason_phrase
    kw: dict[str, Any] = {"api": API_NAME, "operation": operation, "request_id": request_id,
                          "status": status, "details": body}
    text = f"ShipBob {operation}: HTTP {status}: {message}"
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("x-retry-after"), now)
        return RateLimited(text, retry_after=retry_after, **kw)
    if status >= 500 or status == 408:
        return UpstreamUnavailable(text, **kw)
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 404:
        return NotFound(text, **kw)
    return Rejected(text, **kw)


def _order(data: Any) -> Order:
    order = Order.model_validate(data)
    order.raw = data if isinstance(data, dict) else {}
    return order


class ShipBobClient:
    """One ShipBob account."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str,
        token: str,
        channel_id: int | None = None,
        runtime: Runtime | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        """``api_base`` includes the version: ``https://api.shipbob.com/2026-01``."""
        self.http = http
        self.api_base = api_base.rstrip("/")
        self._token = token
        self._channel_id = channel_id
        self.runtime = runtime or Runtime()
        limiter = limiter or RateLimiter(DEFAULT_RATE_LIMIT_PER_MINUTE, RATE_WINDOW_SECONDS,
                                         monotonic=self.runtime.monotonic, sleep=self.runtime.sleep)
        self._exec = RestExecutor(API_NAME, http, self.runtime, retry or DEFAULT_RETRY, interpret, limiter)

    async def _call(self, method: str, path: str, operation: str, *, params: dict[str, Any] | None = None,
                    body: Any = None, idempotent: bool, channel: bool = False,
                    order_ref: str | None = None) -> Reply:
        headers = {"authorization": f"Bearer {self._token}", "accept": "application/json"}
        if channel:
            headers["shipbob_channel_id"] = str(await self.channel_id())

        async def build() -> httpx.Request:
            return self.http.build_request(method, self.api_base + path, params=params, json=body,
                                           headers=headers)

        # One key: ShipBob's limit is per account across every API.
        return await self._exec.run(operation=operation, build=build, idempotent=idempotent,
                                    limiter_key="account", order_ref=order_ref)

    async def channels(self) -> list[Channel]:
        reply = await self._call("GET", "/channel", "channels", idempotent=True)
        return [Channel.model_validate(c) for c in reply.body or []]

    async def channel_id(self) -> int:
        """The configured channel, else the first one whose scopes include ``orders_write``."""
        if self._channel_id is None:
            writable = [c for c in await self.channels() if "orders_write" in c.scopes]
            if not writable:
                raise AuthError("no ShipBob channel can write orders", api=API_NAME, operation="channels")
            self._channel_id = writable[0].id
        return self._channel_id

    async def create_order(self, order: NewOrder) -> Order:
        """POST /order (ShipBob refuses a second order with the same reference_id)."""
        reply = await self._call("POST", "/order", "createOrder", body=order.to_json(), idempotent=False,
                                 channel=True, order_ref=order.reference_id)
        return _order(reply.body)

    async def get_order(self, order_id: int) -> Order:
        reply = await self._call("GET", f"/order/{order_id}", "getOrder", idempotent=True)
        return _order(reply.body)

    async def find_by_reference(self, reference_id: str) -> Order | None:
        """The order with our reference (``ReferenceIds`` filter), or None."""
        reply = await self._call("GET", "/order", "getOrders", params={"ReferenceIds": reference_id},
                                 idempotent=True, order_ref=reference_id)
        found = [_order(o) for o in reply.body or [] if isinstance(o, dict)]
        return next((o for o in found if o.reference_id == reference_id), None)

    async def list_updated_since(self, since: datetime, page: int = 1,
                                 limit: int = DEFAULT_PAGE_LIMIT) -> OrderPage:
        """One page of orders updated at or after ``since``, oldest first (stable pages)."""
        params = {"LastUpdateStartDate": as_utc(since).isoformat().replace("+00:00", "Z"),
                  "SortOrder": "Oldest", "Page": page, "Limit": limit}
        reply = await self._call("GET", "/order", "getOrders", params=params, idempotent=True)
        headers = reply.headers
        try:
            total = int(headers.get("total-pages", page))
        except ValueError:
            total = page
        return OrderPage(orders=[_order(o) for o in reply.body or [] if isinstance(o, dict)],
                         page=page, total_pages=total, next_page=headers.get("next-page"))

    async def iter_updated_since(self, since: datetime) -> AsyncIterator[Order]:
        """Every order updated at or after ``since``, page after page."""
        page = 1
        while True:
            result = await self.list_updated_since(since, page)
            for order in result.orders:
                yield order
            if not result.next_page or page >= result.total_pages:
                return
            page += 1

    async def shipments(self, order_id: int) -> list[Shipment]:
        reply = await self._call("GET", f"/order/{order_id}/shipment", "getShipments", idempotent=True)
        return [Shipment.model_validate(s) for s in reply.body or []]

    async def cancel_order(self, order_id: int) -> list[CancelOutcome]:
        """POST /order/{id}:cancel; ``Rejected`` (with the reasons) when a shipment could not
        be stopped (picked, packed or shipped). Safe to repeat."""
        reply = await self._call("POST", f"/order/{order_id}:cancel", "cancelOrder", idempotent=True,
                                 channel=True, order_ref=str(order_id))
        body = reply.body if isinstance(reply.body, dict) else {}
        outcomes = [CancelOutcome.model_validate(r) for r in body.get("canceled_shipment_results") or []]
        refused = [o for o in outcomes if not o.is_success]
        if refused:
            reasons = "; ".join(f"shipment {o.shipment_id}: {o.reason}" for o in refused)
            raise Rejected(f"ShipBob cancelOrder {order_id}: {reasons}", api=API_NAME,
                           operation="cancelOrder", status=reply.status, details=body)
        return outcomes

    async def subscribe(self, topics: list[str], url: str, secret: str | None = None) -> WebhookSubscription:
        """POST /webhook (the answer carries the signing secret)."""
        body: dict[str, Any] = {"topics": topics, "url": url}
        if secret is not None:
            body["secret"] = secret
        reply = await self._call("POST", "/webhook", "createWebhook", body=body, idempotent=False)
        return WebhookSubscription.model_validate(reply.body)
