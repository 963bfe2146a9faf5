"""Client-side rate limiting: TikTok allows 50 requests/s per endpoint per shop.

A burst above the limit earns HTTP 429 / 36009002, so we queue instead. The limiter keeps,
per key (shop, path template), the send times of the last ``limit`` requests and makes the
next one wait until the oldest of them has left the sliding window. That guarantees at
most ``limit`` requests in any window of ``window`` seconds, which is stricter than a
token bucket (a full bucket plus its refill could send twice the limit in one second).

Rate limits are about throughput, not about the story being told, so they use a
monotonic clock and not ``orderbridge.clock``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

__all__ = ["DEFAULT_RATE_LIMIT", "DEFAULT_RATE_WINDOW_SECONDS", "RateLimiter"]

# TikTok's documented limit is 50/s per API per shop; we keep 10% headroom because our
# send times and TikTok's arrival times differ by network jitter.
DEFAULT_RATE_LIMIT = 45
DEFAULT_RATE_WINDOW_SECONDS = 1.0


class RateLimiter:
    """A sliding-window limiter keyed by anything hashable. Safe for one event loop."""

    def __init__(
        self,
        limit: int = DEFAULT_RATE_LIMIT,
        window: float = DEFAULT_RATE_WINDOW_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._sleep = sleep
        self._slots: dict[Hashable, deque[float]] = {}

    def reserve(self, key: Hashable) -> float:
        """Book the next slot for ``key``; return how many seconds to wait for it.

        Slots are booked synchronously (no await between reading and writing), so
        concurrent callers on one loop get distinct, ordered slots.
        """
        now = self._monotonic()
        slots = self._slots.setdefault(key, deque(maxlen=self.limit))
        slot = now if len(slots) < self.limit else max(now, slots[0] + self.window)
        slots.append(slot)
        return slot - now

    async def acquire(self, key: Hashable) -> None:
        """Wait until a request for ``key`` may be sent."""
        delay = self.reserve(key)
        if delay > 0:
            await self._sleep(delay)
