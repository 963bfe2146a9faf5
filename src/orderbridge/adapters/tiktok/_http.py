"""The request loop shared by the API client and the auth client.

One ``TikTokCallExecutor.run`` = one logical call: per attempt it waits for the rate limiter, builds
a fresh request (new timestamp, current token, new signature), sends it, reads TikTok's
envelope, records the attempt, and decides whether to retry.

Retry policy (why it depends on the call):
- ``RateLimited`` and connection failures before anything was sent: always retried, the
  request was not processed.
- Other retryable errors (5xx, internal-error codes, read timeouts): the outcome is
  unknown, so only idempotent calls (reads, absolute sets, calls with an idempotency key)
  are retried here. Writes raise at once and the engine checks remote state first.
- A ``Retry-After`` longer than ``max_retry_after`` is not slept on: the error carries it.
- ``TokenExpired`` (105002): the token callback refreshes once, and the call is repeated
  once, outside the retry budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import httpx

from orderbridge.adapters import jsontext
from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.limiter import RateLimiter
from orderbridge.adapters.retry import (
    DEFAULT_BACKOFF_BASE_SECONDS,
    DEFAULT_BACKOFF_CAP_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_AFTER_SECONDS,
    RetryPolicy,
    Runtime,
    parse_retry_after,
)
from orderbridge.adapters.tiktok.codes import (
    API_NAME,
    InvalidResponse,
    StaleTimestamp,
    TokenExpired,
    error_for,
)
from orderbridge.clock import from_unix
from orderbridge.errors import (
    RateLimited,
    RemoteError,
    RemoteTimeout,
    RetryableError,
    UpstreamUnavailable,
)
from orderbridge.logs import get_logger

__all__ = [
    "DEFAULT_BACKOFF_BASE_SECONDS",
    "DEFAULT_BACKOFF_CAP_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_AFTER_SECONDS",
    "SECRET_PARAMS",
    "Envelope",
    "Prepared",
    "RetryPolicy",
    "Runtime",
    "TikTokCallExecutor",
]

log = get_logger(__name__)

# Query parameters never written to call records.
SECRET_PARAMS = frozenset({"sign", "access_token", "app_secret", "refresh_token", "auth_code"})

# Failures where the request certainly never reached TikTok.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One ready-to-send attempt and the access token it carries (None if unsigned)."""

    request: httpx.Request
    access_token: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A successful TikTok response."""

    data: dict[str, Any]
    request_id: str | None
    message: str
    status: int


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def interpret(response: httpx.Response, operation: str, now: float) -> Envelope | RemoteError:
    """Turn an HTTP response into an ``Envelope`` or the typed error it means."""
    status = response.status_code
    try:
        payload: Any = jsontext.loads(response.content)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = None
    code = _int_or_none(payload.get("code")) if payload is not None else None
    message = str(payload.get("message") or "") if payload is not None else ""
    body_request_id = str(payload.get("request_id") or "") if payload is not None else ""
    request_id: str | None = body_request_id or response.headers.get("x-tt-logid") or None
    if response.is_success and code == 0:
        data = payload.get("data") if payload is not None else None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return InvalidResponse(
                f"TikTok {operation}: data is {type(data).__name__}, not an object",
                api=API_NAME,
                operation=operation,
                code=0,
                request_id=request_id,
                status=status,
            )
        return Envelope(data=data, request_id=request_id, message=message, status=status)
    if response.is_success and code is None:
        # A 2xx without TikTok's envelope is a broken proxy or gateway, not TikTok.
        return UpstreamUnavailable(
            f"TikTok {operation}: HTTP {status} without a TikTok envelope",
            api=API_NAME,
            operation=operation,
            request_id=request_id,
            status=status,
        )
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    return error_for(
        operation=operation,
        code=code if code else None,
        message=message or response.reason_phrase,
        status=status,
        request_id=request_id,
        retry_after=retry_after,
    )


class TikTokCallExecutor:
    """Runs one logical call with limiting, retries, token refresh and recording."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        runtime: Runtime,
        retry: RetryPolicy,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.http = http
        self.runtime = runtime
        self.retry = retry
        self.limiter = limiter

    async def run(
        self,
        *,
        operation: str,
        build: Callable[[], Awaitable[Prepared]],
        idempotent: bool,
        limiter_key: Hashable | None = None,
        on_token_expired: Callable[[str | None], Awaitable[None]] | None = None,
        order_ref: str | None = None,
    ) -> Envelope:
        """Send until success, a permanent error, or the retry budget is spent."""
        attempt = 0  # every attempt, as recorded
        failures = 0  # attempts that count against max_attempts
        refreshed = False
        while True:
            attempt += 1
            if self.limiter is not None and limiter_key is not None:
                await self.limiter.acquire(limiter_key)
            prepared = await build()
            started_at = self.runtime.clock()
            started_mono = self.runtime.monotonic()
            outcome, sent = await self._send(prepared.request, operation)
            duration_ms = max(0.0, (self.runtime.monotonic() - started_mono) * 1000.0)
            error = outcome if isinstance(outcome, RemoteError) else None
            delay: float | None = None
            token_retry = False
            if error is not None:
                if isinstance(error, TokenExpired) and on_token_expired and not refreshed:
                    token_retry = True
                else:
                    failures += 1
                    delay = self._retry_delay(error, idempotent, sent, failures)
            self._record(
                prepared.request,
                operation,
                outcome,
                attempt=attempt,
                order_ref=order_ref,
                retry_in=delay,
                started_at=started_at,
                duration_ms=duration_ms,
            )
            if isinstance(outcome, Envelope):
                return outcome
            assert error is not None
            if token_retry:
                assert on_token_expired is not None
                refreshed = True
                await on_token_expired(prepared.access_token)
                continue
            if delay is None:
                raise error
            log.info("api_retry", api=API_NAME, operation=operation, attempt=attempt,
                     retry_in_s=round(delay, 3), order_ref=order_ref, request_id=error.request_id,
                     error=type(error).__name__)
            await self.runtime.sleep(delay)

    def _retry_delay(
        self, error: RemoteError, idempotent: bool, sent: bool, failures: int
    ) -> float | None:
        """Seconds to wait before retrying, or None to give up."""
        if not isinstance(error, RetryableError) or failures >= self.retry.max_attempts:
            return None
        # Refused at the gateway (rate limit, stale timestamp) or never sent: nothing ran.
        safe = isinstance(error, RateLimited | StaleTimestamp) or not sent or idempotent
        if not safe:
            return None
        if isinstance(error, StaleTimestamp):
            return 0.0  # a fresh signature is all it needs
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.retry.max_retry_after:
                return None
            return error.retry_after
        return self.retry.backoff(failures, self.runtime.random())

    async def _send(
        self, request: httpx.Request, operation: str
    ) -> tuple[Envelope | RemoteError, bool]:
        """(outcome, whether the request may have reached TikTok)."""
        try:
            response = await self.http.send(request)
        except httpx.TransportError as exc:
            sent = not isinstance(exc, _NOT_SENT)
            return (
                RemoteTimeout(
                    f"TikTok {operation}: {type(exc).__name__}: {exc}"
                    + ("" if sent else " (not sent)"),
                    api=API_NAME,
                    operation=operation,
                    details={"sent": sent},
                ),
                sent,
            )
        return interpret(response, operation, self.runtime.clock()), True

    def _record(
        self,
        request: httpx.Request,
        operation: str,
        outcome: Envelope | RemoteError,
        *,
        attempt: int,
        order_ref: str | None,
        retry_in: float | None,
        started_at: float,
        duration_ms: float,
    ) -> None:
        query = {k: v for k, v in request.url.params.multi_items() if k not in SECRET_PARAMS}
        details: dict[str, Any] = {"query": query}
        if retry_in is not None:
            details["retry_in_s"] = round(retry_in, 3)
        if isinstance(outcome, Envelope):
            status: int | None = outcome.status
            code: str | None = "0"
            message: str | None = outcome.message
            request_id = outcome.request_id
        else:
            status, request_id = outcome.status, outcome.request_id
            code = None if outcome.code is None else str(outcome.code)
            message = str(outcome)
            details["error"] = type(outcome).__name__
        self.runtime.recorder.record(
            ApiCall(
                api=API_NAME,
                operation=operation,
                method=request.method,
                path=request.url.path,
                started_at=from_unix(started_at),
                duration_ms=duration_ms,
                status=status,
                ok=isinstance(outcome, Envelope),
                code=code,
                message=message,
                request_id=request_id,
                attempt=attempt,
                order_ref=order_ref,
                details=details,
            )
        )
