"""The request loop of the JSON REST clients (Amazon MCF, ShipBob).

One ``RestExecutor.run`` = one logical call: per attempt it waits for the client-side
limiter, builds a fresh request (current token), sends it, turns the answer into a
``Reply`` or a typed ``RemoteError`` with the vendor's ``interpret`` function, records the
attempt, and decides whether to retry:

- ``RateLimited`` and failures before anything was sent are always retried (nothing ran);
  a ``retry_after`` the vendor sent (ShipBob's ``x-retry-after``) is honoured, or the error
  is raised when it is longer than the policy's ``max_retry_after``;
- other retryable errors (5xx, read timeouts) only for idempotent calls: a write whose
  outcome is unknown is raised so the caller can look before repeating it;
- an ``AuthError`` triggers ``on_auth_error`` (a token refresh) and one repeat, outside the
  retry budget: an access token can expire between our check and the vendor's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.retry import RetryPolicy, Runtime
from orderbridge.clock import from_unix
from orderbridge.errors import AuthError, RateLimited, RemoteError, RemoteTimeout, RetryableError
from orderbridge.logs import get_logger

__all__ = ["Interpret", "Limiter", "Reply", "RestExecutor"]

log = get_logger(__name__)

# Failures where the request certainly never reached the vendor.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: status, parsed JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: httpx.Headers
    request_id: str | None


Interpret = Callable[[httpx.Response, str, float], "Reply | RemoteError"]


class Limiter(Protocol):
    """``adapters.limiter.RateLimiter`` or ``TokenBucket``."""

    async def acquire(self, key: Hashable) -> None: ...


class RestExecutor:
    """Runs one logical call of one vendor API with limiting, retries and recording."""

    def __init__(
        self,
        api: str,
        http: httpx.AsyncClient,
        runtime: Runtime,
        retry: RetryPolicy,
        interpret: Interpret,
        limiter: Limiter | None = None,
    ) -> None:
        self.api = api
        self.http = http
        self.runtime = runtime
        self.retry = retry
        self.interpret = interpret
        self.limiter = limiter

    async def run(
        self,
        *,
        operation: str,
        build: Callable[[], Awaitable[httpx.Request]],
        idempotent: bool,
        limiter_key: Hashable = "default",
        on_auth_error: Callable[[], Awaitable[None]] | None = None,
        order_ref: str | None = None,
    ) -> Reply:
        """Send until success, a permanent error, or the retry budget is spent."""
        attempt = failures = 0
        refreshed = False
        while True:
            attempt += 1
            if self.limiter is not None:
                await self.limiter.acquire(limiter_key)
            request = await build()
            started_at = self.runtime.clock()
            started_mono = self.runtime.monotonic()
            outcome, sent = await self._send(request, operation)
            duration_ms = max(0.0, (self.runtime.monotonic() - started_mono) * 1000.0)
            delay: float | None = None
            again_now = False
            if isinstance(outcome, AuthError) and on_auth_error is not None and not refreshed:
                again_now = True
            elif isinstance(outcome, RemoteError):
                failures += 1
                delay = self._retry_delay(outcome, idempotent, sent, failures)
            self._record(request, operation, outcome, attempt, order_ref, delay, started_at, duration_ms)
            if isinstance(outcome, Reply):
                return outcome
            if again_now:
                assert on_auth_error is not None
                refreshed = True
                await on_auth_error()
                continue
            if delay is None:
                raise outcome
            log.info("api_retry", api=self.api, operation=operation, attempt=attempt,
                     retry_in_s=round(delay, 3), order_ref=order_ref,
                     request_id=outcome.request_id, error=type(outcome).__name__)
            await self.runtime.sleep(delay)

    def _retry_delay(self, error: RemoteError, idempotent: bool, sent: bool, failures: int) -> float | None:
        if not isinstance(error, RetryableError) or failures >= self.retry.max_attempts:
            return None
        if not (isinstance(error, RateLimited) or not sent or idempotent):
            return None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return None if error.retry_after > self.retry.max_retry_after else error.retry_after
        return self.retry.backoff(failures, self.runtime.random())

    async def _send(self, request: httpx.Request, operation: str) -> tuple[Reply | RemoteError, bool]:
        try:
            response = await self.http.send(request)
        except httpx.TransportError as exc:
            sent = not isinstance(exc, _NOT_SENT)
            return RemoteTimeout(
                f"{self.api} {operation}: {type(exc).__name__}: {exc}" + ("" if sent else " (not sent)"),
                api=self.api, operation=operation, details={"sent": sent},
            ), sent
        return self.interpret(response, operation, self.runtime.clock()), True

    def _record(
        self, request: httpx.Request, operation: str, outcome: Reply | RemoteError, attempt: int,
        order_ref: str | None, retry_in: float | None, started_at: float, duration_ms: float,
    ) -> None:
        details: dict[str, Any] = {"query": dict(request.url.params.multi_items())}
        if retry_in is not None:
            details["retry_in_s"] = round(retry_in, 3)
        if isinstance(outcome, Reply):
            status: int | None = outcome.status
            code: str | None = None
            message: str | None = None
            request_id = outcome.request_id
        else:
            status, request_id, message = outcome.status, outcome.request_id, str(outcome)
            code = None if outcome.code is None else str(outcome.code)
            details["error"] = type(outcome).__name__
        self.runtime.recorder.record(ApiCall(
            api=self.api, operation=operation, method=request.method, path=request.url.path,
            started_at=from_unix(started_at), duration_ms=duration_ms, status=status,
            ok=isinstance(outcome, Reply), code=code, message=message, request_id=request_id,
            attempt=attempt, order_ref=order_ref, details=details,
        ))
