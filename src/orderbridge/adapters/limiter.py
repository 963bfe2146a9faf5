"""Client-side rate limiting, so our clients queue instead of earning 429s.

``RateLimiter`` (a sliding window) serves TikTok (50 requests/s per endpoint per shop; a
burst above it earns HTTP 429 / 36009002) and ShipBob (150 requests/minute). It keeps,
per key (shop, path template), the send times of the last ``limit`` requests and makes the
next one wait until the oldest of them has left the sliding window. That guarantees at
most ``limit`` requests in any window of ``window`` seconds, which is stricter than a
token bucket (a full bucket plus its refill could send twice the limit in one second).

``TokenBucket`` serves the APIs that document a rate *and* a burst (Amazon SP-API: 2
requests/s with a burst of 30): up to ``burst`` at once, then ``rate`` per second.

Rate limits are about throughput, not about the story being told, so they use a
monotonic clock and not ``orderbridge.clock``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

__all__ = ["DEFAULT_RATE_LIMIT", "DEFAULT_RATE_WINDOW_SECONDS", "RateLimiter", "TokenBucket"]

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


class TokenBucket:
    """A token bucket keyed by anything hashable: ``burst`` at once, then ``rate`` per second.

    Same interface as ``RateLimiter``: ``reserve`` books the next token synchronously and
    returns the wait, so concurrent callers on one loop are served in order.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        # Per key: (tokens at the instant, instant); tokens may go negative = booked ahead.
        self._state: dict[Hashable, tuple[float, float]] = {}

    def reserve(self, key: Hashable) -> float:
        """Take one token for ``key``; return how many seconds to wait until it exists."""
        now = self._monotonic()
        tokens, at = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate) - 1.0
        self._state[key] = (tokens, now)
        return 0.0 if tokens >= 0 else -tokens / self.rate

    async def acquire(self, key: Hashable) -> None:
        """Wait until a request for ``key`` may be sent."""
        delay = self.reserve(key)
        if delay > 0:
            await self._sleep(delay)
