"""Request quotas of the 3PL sandboxes, counted on the sandbox clock.

Counted in virtual time so a test moves the clock instead of sleeping (at rate 1 it is
real time). ``TokenBucket``: Amazon SP-API's "rate per second with a burst";
``SlidingWindow``: ShipBob's "N requests per minute, sliding window".
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable

from orderbridge.clock import Clock

__all__ = ["SlidingWindow", "TokenBucket"]


class TokenBucket:
    """``burst`` requests at once, refilled at ``rate`` per second (virtual)."""

    def __init__(self, clock: Clock, rate: float, burst: int) -> None:
        self.clock, self.rate, self.burst = clock, rate, burst
        self._state: dict[Hashable, tuple[float, float]] = {}

    def allow(self, key: Hashable) -> bool:
        now = self.clock.now().timestamp()
        tokens, at = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        if tokens < 1.0:
            self._state[key] = (tokens, now)
            return False
        self._state[key] = (tokens - 1.0, now)
        return True


class SlidingWindow:
    """At most ``limit`` requests in any ``window`` seconds (virtual)."""

    def __init__(self, clock: Clock, limit: int, window: float) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._hits: dict[Hashable, deque[float]] = {}

    def _current(self, key: Hashable) -> deque[float]:
        now = self.clock.now().timestamp()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def allow(self, key: Hashable) -> bool:
        hits = self._current(key)
        if len(hits) >= self.limit:
            return False
        hits.append(self.clock.now().timestamp())
        return True

    def remaining(self, key: Hashable) -> int:
        return max(0, self.limit - len(self._current(key)))

    def retry_after(self, key: Hashable) -> int:
        """Whole seconds until one more request fits (at least 1)."""
        hits = self._current(key)
        if len(hits) < self.limit:
            return 0
        wait = hits[0] + self.window - self.clock.now().timestamp()
        return max(1, math.ceil(wait))
