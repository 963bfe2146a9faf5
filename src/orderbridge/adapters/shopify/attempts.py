"""The attempts of one Shopify GraphQL operation (``transport.py``): their bookkeeping, the
record of each (an ``ApiCall``), the back-off between them, and the small readings of an
answer the retry decisions rest on (THROTTLED, ``Retry-After``, the query cost)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.shopify.operation import Operation
from orderbridge.adapters.shopify.throttle import CostBucket

__all__ = [
    "DEFAULT_BACKOFF_BASE_SECONDS",
    "DEFAULT_BACKOFF_CAP_SECONDS",
    "DEFAULT_RETRY_AFTER_SECONDS",
    "Attempt",
    "attempt_call",
    "backoff_delay",
    "cost_number",
    "is_throttled",
    "retry_after_seconds",
]

DEFAULT_BACKOFF_BASE_SECONDS = 0.5
DEFAULT_BACKOFF_CAP_SECONDS = 30.0
# Shopify's REST docs show ``Retry-After: 2.0``; used when a 429 carries none.
DEFAULT_RETRY_AFTER_SECONDS = 2.0


@dataclass(slots=True)
class Attempt:
    """Bookkeeping of one operation's attempts (for retries and records)."""

    operation: Operation
    priority: int
    order_ref: str | None
    cost: float
    number: int = 0
    throttled: int = 0
    server_errors: int = 0
    timeouts: int = 0
    started_at: datetime | None = None
    started: float = 0.0
    waited: float = 0.0  # seconds the last attempt waited for the store's budget


def attempt_call(
    state: Attempt, *, api: str, path: str, started_at: datetime, duration_ms: float,
    bucket: CostBucket, status: int | None, ok: bool, code: str | None, message: str | None,
    request_id: str | None, requested: float | None, actual: float | None,
) -> ApiCall:
    """The record of the current attempt of ``state`` (with the budget it was sent under)."""
    return ApiCall(
        api=api,
        operation=state.operation.name,
        method="POST",
        path=path,
        started_at=started_at,
        duration_ms=duration_ms,
        status=status,
        ok=ok,
        code=code,
        message=message,
        request_id=request_id,
        attempt=state.number,
        order_ref=state.order_ref,
        details={
            "estimated_cost": state.cost,
            "requested_cost": requested,
            "actual_cost": actual,
            "priority": state.priority,
            "bucket_maximum": bucket.maximum,
            "bucket_restore_rate": bucket.restore_rate,
            "throttle_wait_s": round(state.waited, 3),
        },
    )


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): exponential, capped."""
    ceiling = min(DEFAULT_BACKOFF_CAP_SECONDS, DEFAULT_BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    # "Equal jitter": at least half the ceiling, so clients that failed together spread
    # out without ever retrying immediately.
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def is_throttled(errors: Any) -> bool:
    """Whether a body's top-level ``errors`` say THROTTLED (the request did not run)."""
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and isinstance(e.get("extensions"), dict) and e["extensions"].get("code") == "THROTTLED"
        for e in errors
    )


def retry_after_seconds(value: str | None) -> float:
    """A 429's ``Retry-After`` header in seconds (the documented default when absent)."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER_SECONDS
    return max(0.0, seconds)


def cost_number(value: Any) -> float | None:
    """A cost field of ``extensions.cost`` as a number (None when it is not one)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
