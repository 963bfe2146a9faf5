"""The Shopify Admin GraphQL transport: one POST per attempt, throttled, retried, recorded.

``POST {endpoint}`` with ``X-Shopify-Access-Token`` and ``{query, variables,
operationName}``. The endpoint is a template with ``{shop}`` and ``{version}``
(``https://{shop}/admin/api/{version}/graphql.json`` by default; a local sandbox uses e.g.
``http://127.0.0.1:9002/{shop}/admin/api/{version}/graphql.json``).

How answers become outcomes (the retry policy of the engine switches on the error types):

- ``THROTTLED`` (HTTP 200 ``errors[].extensions.code``) or HTTP 429: Shopify did not run
  the request. Wait (bucket estimate / ``Retry-After``) and send again, a bounded number
  of times, then ``RateLimited``.
- HTTP 5xx, ``INTERNAL_SERVER_ERROR``, an unreadable body: retried with jittered
  exponential back-off when the operation is retry-safe (queries, idempotent mutations),
  then ``UpstreamUnavailable``. For the other mutations (``orderCreate``, ``orderCancel``,
  ``fulfillmentCreate``, payments...) the request may have run: ``RemoteTimeout`` at once,
  so that the engine reconciles before sending it again.
- No answer in time (or the connection dropped after sending): the same split; a request
  that never left (connect error, pool timeout) is always safe to retry.
- Top-level ``errors`` (unknown field, bad type, ``MAX_COST_EXCEEDED``): ``Rejected`` with
  Shopify's message: a bug or API drift, not something a retry fixes. ``ACCESS_DENIED``
  and HTTP 401/403: ``AuthError``.
- ``userErrors`` in the payload: ``UserErrors`` (a ``Rejected``).

Every attempt is reported to the ``CallRecorder`` with the ``X-Request-Id``, the status,
the cost and the duration.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx

from orderbridge.adapters import jsontext
from orderbridge.adapters.calls import CallRecorder, NullRecorder
from orderbridge.adapters.shopify.attempts import (
    Attempt,
    attempt_call,
    backoff_delay,
    cost_number,
    is_throttled,
    retry_after_seconds,
)
from orderbridge.adapters.shopify.errors import UserErrors, parse_user_errors
from orderbridge.adapters.shopify.operation import Operation
from orderbridge.adapters.shopify.throttle import Priority, StoreThrottle, ThrottleRegistry
from orderbridge.adapters.shopify.versions import (
    API_VERSION_HEADER,
    PINNED_API_VERSION,
    warn_if_fell_forward,
)
from orderbridge.clock import Clock, SystemClock
from orderbridge.errors import (
    AuthError,
    ConfigurationError,
    NotFound,
    RateLimited,
    Rejected,
    RemoteError,
    RemoteTimeout,
    UpstreamUnavailable,
)
from orderbridge.logs import get_logger

__all__ = [
    "API_NAME",
    "DEFAULT_API_VERSION",
    "DEFAULT_ENDPOINT_TEMPLATE",
    "GraphQLResult",
    "ShopifyTransport",
]

API_NAME = "shopify"
log = get_logger(__name__)
DEFAULT_API_VERSION = PINNED_API_VERSION
DEFAULT_ENDPOINT_TEMPLATE = "https://{shop}/admin/api/{version}/graphql.json"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_THROTTLE_RETRIES = 6
DEFAULT_MAX_SERVER_RETRIES = 3
DEFAULT_MAX_TIMEOUT_RETRIES = 2
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
REQUEST_ID_HEADER = "X-Request-Id"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class GraphQLResult:
    """A successful response: the ``data`` and the payload under the operation's root field."""

    data: dict[str, Any]
    payload: Any
    extensions: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    requested_cost: float | None = None
    actual_cost: float | None = None
    attempts: int = 1


class ShopifyTransport:
    """Sends GraphQL operations to one Shopify store (see the module docstring)."""

    def __init__(
        self,
        *,
        shop_domain: str,
        access_token: str,
        http: httpx.AsyncClient,
        api_version: str = DEFAULT_API_VERSION,
        endpoint_template: str = DEFAULT_ENDPOINT_TEMPLATE,
        recorder: CallRecorder | None = None,
        registry: ThrottleRegistry | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_throttle_retries: int = DEFAULT_MAX_THROTTLE_RETRIES,
        max_server_retries: int = DEFAULT_MAX_SERVER_RETRIES,
        max_timeout_retries: int = DEFAULT_MAX_TIMEOUT_RETRIES,
        extra_headers: Mapping[str, str] | None = None,
        token_source: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        if not shop_domain.strip():
            raise ConfigurationError("Shopify shop domain is empty")
        if not access_token:
            raise ConfigurationError("Shopify access token is empty")
        self.shop_domain = shop_domain.strip().lower()
        self.api_version = api_version
        self.endpoint_template = endpoint_template
        self._token = access_token
        # Expiring tokens: asked before every attempt for the current (refreshed) token.
        self._token_source = token_source
        self._http = http
        self._recorder: CallRecorder = recorder or NullRecorder()
        self._registry = registry or ThrottleRegistry()
        self._throttle: StoreThrottle = self._registry.for_shop(self.shop_domain)
        self._clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._timeout = (
            timeout
            if timeout is not None
            else httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)
        )
        self._max_throttle = max_throttle_retries
        self._max_server = max_server_retries
        self._max_timeouts = max_timeout_retries
        self._headers = {
            ACCESS_TOKEN_HEADER: access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
            **dict(extra_headers or {}),
        }
        self._url = self.endpoint_url(self.shop_domain)
        self._observations = 0  # throttleStatus values seen (tells a response that had none)
        self._path = f"/admin/api/{api_version}/graphql.json"

    def endpoint_url(self, shop_domain: str | None = None) -> str:
        """The GraphQL endpoint of ``shop_domain`` (default: this client's store)."""
        return self.endpoint_template.format(shop=shop_domain or self.shop_domain, version=self.api_version)

    @property
    def throttle(self) -> StoreThrottle:
        """This store's shared throttle (bucket estimate and priority gate)."""
        return self._throttle

    async def execute(
        self,
        operation: Operation,
        variables: Mapping[str, Any] | None = None,
        *,
        priority: int = Priority.READ,
        order_ref: str | None = None,
        document: str | None = None,
    ) -> GraphQLResult:
        """Send ``operation`` until it succeeds or fails for good (see the module docstring)."""
        values = dict(variables or {})
        # Encoded once for every attempt (httpx's own ``json=`` encoding, through orjson).
        content = jsontext.dumps_bytes(
            {"query": document or operation.document, "variables": values, "operationName": operation.name}
        )
        state = Attempt(operation, int(priority), order_ref, float(operation.estimate(values)))
        while True:
            state.number += 1
            before = self._registry.monotonic()
            await self._throttle.acquire(state.cost, state.priority)
            state.started_at = self._clock.now()
            state.started = self._registry.monotonic()
            state.waited = max(0.0, state.started - before)
            headers = self._headers
            if self._token_source is not None:
                headers = {**headers, ACCESS_TOKEN_HEADER: await self._token_source()}
            try:
                response = await self._http.post(self._url, content=content, headers=headers, timeout=self._timeout)
            except httpx.HTTPError as exc:
                await self._after_transport_error(state, exc)
                continue
            result = await self._handle_response(state, response)
            if result is not None:
                return result

    # -- outcomes -------------------------------------------------------------------

    async def _after_transport_error(self, state: Attempt, exc: httpx.HTTPError) -> None:
        timed_out = isinstance(exc, httpx.TimeoutException)
        code = "TIMEOUT" if timed_out else "TRANSPORT_ERROR"
        message = f"{type(exc).__name__}: {exc}"
        self._record(state, status=None, ok=False, code=code, message=message)
        if isinstance(exc, _NOT_SENT):
            # Nothing reached Shopify: any operation may go again.
            if state.server_errors < self._max_server:
                state.server_errors += 1
                await self._backoff(state.server_errors, state)
                return
            self._fail(UpstreamUnavailable, state, message, code=code)
        if state.operation.retry_safe and state.timeouts < self._max_timeouts:
            state.timeouts += 1
            await self._backoff(state.timeouts, state)
            return
        self._fail(RemoteTimeout, state, f"{message} (outcome unknown)", code=code)

    async def _handle_response(self, state: Attempt, response: httpx.Response) -> GraphQLResult | None:
        warn_if_fell_forward(self.shop_domain, self.api_version, response.headers.get(API_VERSION_HEADER))
        status = response.status_code
        request_id = response.headers.get(REQUEST_ID_HEADER)
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            with contextlib.suppress(ValueError):
                body_429 = jsontext.loads(response.content)
                if isinstance(body_429, dict) and isinstance(body_429.get("extensions"), dict):
                    self._observe_cost(body_429["extensions"], None)
            self._record(state, status=status, ok=False, code="THROTTLED", message="HTTP 429", request_id=request_id)
            if state.throttled < self._max_throttle:
                state.throttled += 1
                self._throttle.block_for(retry_after)
                return None
            self._fail(RateLimited, state, "HTTP 429 Too Many Requests", code="THROTTLED",
                       request_id=request_id, status=status, retry_after=retry_after)
        if status in (401, 403):
            self._record(state, status=status, ok=False, code=str(status), message=response.text[:500], request_id=request_id)
            self._fail(AuthError, state, f"HTTP {status}: {response.text[:200]}", code=status, request_id=request_id, status=status)
        if status >= 500:
            await self._server_error(state, status, f"HTTP {status}", request_id)
            return None
        if status == 404:
            self._record(state, status=status, ok=False, code="404", message="not found", request_id=request_id)
            self._fail(NotFound, state, f"HTTP 404 for {self._url} (shop domain or API version?)",
                       code=404, request_id=request_id, status=status)
        if status >= 400:
            self._record(state, status=status, ok=False, code=str(status), message=response.text[:500], request_id=request_id)
            self._fail(Rejected, state, f"HTTP {status}: {response.text[:200]}", code=status, request_id=request_id, status=status)
        try:
            body = jsontext.loads(response.content)
        except ValueError:
            await self._server_error(state, status, "unreadable JSON body", request_id)
            return None
        if not isinstance(body, dict):
            await self._server_error(state, status, "JSON body is not an object", request_id)
            return None
        raw_extensions = body.get("extensions")
        extensions: dict[str, Any] = raw_extensions if isinstance(raw_extensions, dict) else {}
        observed_before = self._observations
        requested, actual = self._observe_cost(extensions, state.cost)
        if self._observations == observed_before and is_throttled(body.get("errors")):
            # THROTTLED without a throttleStatus: assume an empty bucket rather than
            # resending at once.
            self._throttle.drain()
        errors = body.get("errors")
        if errors:
            await self._graphql_errors(state, status, errors, request_id, requested, actual)
            return None
        data = body.get("data")
        if not isinstance(data, dict):
            self._record(state, status=status, ok=False, code="NO_DATA", message="no data", request_id=request_id)
            self._fail(Rejected, state, "response without data", request_id=request_id, status=status)
        payload = data.get(state.operation.root_field)
        self._check_user_errors(state, status, payload, request_id, requested, actual)
        self._record(state, status=status, ok=True, request_id=request_id, requested=requested, actual=actual)
        return GraphQLResult(data, payload, extensions or {}, request_id, requested, actual, state.number)

    async def _server_error(self, state: Attempt, status: int, message: str, request_id: str | None) -> None:
        self._record(state, status=status, ok=False, code=str(status), message=message, request_id=request_id)
        if not state.operation.retry_safe:
            # The mutation may have run before the failure: let the engine reconcile.
            self._fail(RemoteTimeout, state, f"{message} (outcome unknown)", code=status,
                       request_id=request_id, status=status)
        if state.server_errors < self._max_server:
            state.server_errors += 1
            await self._backoff(state.server_errors, state)
            return
        self._fail(UpstreamUnavailable, state, message, code=status, request_id=request_id, status=status)

    async def _graphql_errors(
        self, state: Attempt, status: int, errors: Any, request_id: str | None,
        requested: float | None, actual: float | None,
    ) -> None:
        items = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        codes = [str((e.get("extensions") or {}).get("code") or "") for e in items]
        message = "; ".join(str(e.get("message") or "") for e in items) or "GraphQL errors"
        first_code = next((c for c in codes if c), None)
        self._record(state, status=status, ok=False, code=first_code or "GRAPHQL_ERRORS", message=message,
                     request_id=request_id, requested=requested, actual=actual)
        if "THROTTLED" in codes:
            # Not executed. The bucket estimate was just corrected from throttleStatus; the
            # next acquire() waits until it holds what Shopify says this query needs.
            if requested is not None:
                state.cost = max(state.cost, requested)
            if state.throttled < self._max_throttle:
                state.throttled += 1
                return
            self._fail(RateLimited, state, message, code="THROTTLED", request_id=request_id, status=status,
                       retry_after=self._throttle.bucket.seconds_until(state.cost, self._registry.monotonic()))
        if "ACCESS_DENIED" in codes:
            self._fail(AuthError, state, message, code="ACCESS_DENIED", request_id=request_id, status=status, details=items)
        if "INTERNAL_SERVER_ERROR" in codes:
            await self._server_error(state, status, message, request_id)
            return
        self._fail(Rejected, state, message, code=first_code, request_id=request_id, status=status, details=items)

    def _check_user_errors(
        self, state: Attempt, status: int, payload: Any, request_id: str | None,
        requested: float | None, actual: float | None,
    ) -> None:
        op = state.operation
        if op.user_errors_field is None or not isinstance(payload, dict):
            return
        items = parse_user_errors(payload.get(op.user_errors_field))
        if not items:
            return
        error = UserErrors(
            items,
            already_done_codes=op.already_done_codes,
            already_done_messages=op.already_done_messages,
            api=API_NAME,
            operation=op.name,
            request_id=request_id,
            status=status,
        )
        self._record(state, status=status, ok=False, code=str(error.code or "USER_ERRORS"), message=str(error),
                     request_id=request_id, requested=requested, actual=actual)
        raise error

    def _observe_cost(
        self, extensions: Mapping[str, Any], reserved: float | None
    ) -> tuple[float | None, float | None]:
        """Fold a response's cost into the bucket; ``reserved`` is what we set aside for it."""
        cost = extensions.get("cost")
        if not isinstance(cost, dict):
            return None, None
        requested, actual = cost_number(cost.get("requestedQueryCost")), cost_number(cost.get("actualQueryCost"))
        # We reserved our own estimate; Shopify charged the actual cost in the end.
        refund = reserved - actual if reserved is not None and actual is not None else 0.0
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            # A malformed status must not fail a good response.
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self._throttle.observe(
                    maximum=float(status["maximumAvailable"]),
                    currently_available=float(status["currentlyAvailable"]),
                    restore_rate=float(status["restoreRate"]),
                    refund=refund,
                )
                self._observations += 1
        return requested, actual

    # -- helpers --------------------------------------------------------------------

    async def _backoff(self, attempt: int, state: Attempt) -> None:
        delay = backoff_delay(attempt, self._rng)
        log.info("api_retry", api=API_NAME, operation=state.operation.name, shop=self.shop_domain,
                 attempt=state.number, retry_in_s=round(delay, 3), order_ref=state.order_ref)
        await self._registry.sleep(delay)

    def _fail(self, kind: type[RemoteError], state: Attempt, message: str, **kw: Any) -> NoReturn:
        raise kind(message, api=API_NAME, operation=state.operation.name, **kw)

    def _record(
        self, state: Attempt, *, status: int | None, ok: bool, code: str | None = None,
        message: str | None = None, request_id: str | None = None,
        requested: float | None = None, actual: float | None = None,
    ) -> None:
        duration_ms = max(0.0, (self._registry.monotonic() - state.started) * 1000.0)
        call = attempt_call(
            state, api=API_NAME, path=self._path, started_at=state.started_at or self._clock.now(),
            duration_ms=duration_ms, bucket=self._throttle.bucket, status=status, ok=ok, code=code,
            message=message, request_id=request_id, requested=requested, actual=actual,
        )
        # A recorder must not break a call (its contract says it won't raise anyway).
        with contextlib.suppress(Exception):
            self._recorder.record(call)
