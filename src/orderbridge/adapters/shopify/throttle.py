"""Cost-aware throttling for the Shopify Admin GraphQL API.

Shopify meters GraphQL per app per store with a leaky bucket of points: every response
carries ``extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable,
restoreRate}``, and a query only runs when the bucket holds its *requested* cost (the
difference to the actual cost is refunded afterwards). Sending a request the bucket cannot
cover wastes a round trip and comes back ``THROTTLED``, so we keep our own estimate of the
bucket per store and wait *before* sending.

One store's budget is shared by every client instance (and every connection) talking to
it, so the estimate lives in a ``ThrottleRegistry`` keyed by shop domain. The composition
root creates one registry and hands it to every client; tests inject their own with a fake
clock and sleep.

When several requests wait on one store, the one first on the domain's ``Priority`` scale
(lower first; first come, first served within a priority) goes first: creating and holding
orders beats cancellations, which beat releases, reads, tracking and cosmetic updates. A waiting high-priority
request also blocks cheaper low-priority ones behind it, on purpose: letting them slip
through would spend the budget the important request is waiting for.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Awaitable, Callable
from typing import Any

from orderbridge.domain.actions import Priority

__all__ = [
    "DEFAULT_BUCKET_MAXIMUM",
    "DEFAULT_RESTORE_RATE",
    "CostBucket",
    "Monotonic",
    "Priority",
    "Sleep",
    "StoreThrottle",
    "ThrottleRegistry",
]

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Until the first response tells us the real bucket, assume the values of Shopify's own
# documented example (maximumAvailable 1000, restoreRate 50): the per-plan sizes are not
# documented, and the first response replaces these anyway.
DEFAULT_BUCKET_MAXIMUM = 1000.0
DEFAULT_RESTORE_RATE = 50.0
# A restore rate of zero would make every wait infinite; never assume less than this.
MINIMUM_RESTORE_RATE = 1.0
POINTS_TOLERANCE = 1e-6  # a shortfall below this counts as none


class CostBucket:
    """Our estimate of one store's leaky bucket of query cost points."""

    def __init__(
        self,
        *,
        maximum: float = DEFAULT_BUCKET_MAXIMUM,
        restore_rate: float = DEFAULT_RESTORE_RATE,
        now: float = 0.0,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = max(restore_rate, MINIMUM_RESTORE_RATE)
        self._available = maximum
        self._at = now
        self.observed = False  # True once a real throttleStatus has been seen

    def level(self, now: float) -> float:
        """Points we expect to be available at ``now``."""
        elapsed = max(0.0, now - self._at)
        return min(self.maximum, self._available + elapsed * self.restore_rate)

    def seconds_until(self, cost: float, now: float) -> float:
        """How long until the bucket should hold ``cost`` (0 when it already does).

        A cost above the bucket size can never fit; we wait for a full bucket and let
        Shopify decide, rather than waiting forever.
        """
        need = min(cost, self.maximum)
        deficit = need - self.level(now)
        # Float rounding can leave a deficit of 1e-13 points that no sleep can fill.
        return 0.0 if deficit <= POINTS_TOLERANCE else deficit / self.restore_rate

    def reserve(self, cost: float, now: float) -> None:
        """Spend ``cost`` points now (the request is about to be sent)."""
        self._available = self.level(now) - cost
        self._at = now

    def observe(
        self, *, maximum: float, currently_available: float, restore_rate: float, now: float,
        refund: float = 0.0,
    ) -> None:
        """Fold in what Shopify just reported.

        Shopify's ``currentlyAvailable`` was measured when it ran *this* request; requests we
        sent since (reserved here, still in flight) are not in it. So a reported level is
        trusted only when it is *lower* than our own bookkeeping (another process spends the
        same budget, or our estimate was optimistic); otherwise ours stands, credited with
        the refund of this request's requested-minus-actual cost.
        """
        if maximum > 0:
            self.maximum = maximum
        if restore_rate > 0:
            self.restore_rate = max(restore_rate, MINIMUM_RESTORE_RATE)
        own = min(self.maximum, self.level(now) + refund)
        self._available = min(own, min(self.maximum, currently_available))
        self._at = now
        self.observed = True


class StoreThrottle:
    """One store's bucket estimate plus the priority gate in front of it."""

    def __init__(self, shop_domain: str, *, bucket: CostBucket, monotonic: Monotonic, sleep: Sleep) -> None:
        self.shop_domain = shop_domain
        self.bucket = bucket
        self._monotonic = monotonic
        self._sleep = sleep
        # Heap of [priority, arrival, wake-up event] (lower priority first); identity matters.
        # Arrivals are unique, so the heap never compares the events.
        self._waiters: list[list[Any]] = []
        self._arrivals = 0
        self._blocked_until = 0.0

    @property
    def waiting(self) -> int:
        """Requests currently waiting for budget."""
        return len(self._waiters)

    def _notify(self) -> None:
        # Only the head of the queue can go; wake it to re-check. The others wait until
        # they become the head (a pop or a departure notifies the new one): waking every
        # waiter on every change cost each change a wake-up per waiting request, ~10 % of
        # the engine's CPU with a flash sale's hundreds of waiters.
        if self._waiters:
            self._waiters[0][2].set()

    async def acquire(self, cost: float, priority: int) -> None:
        """Wait until this request may be sent, then reserve ``cost`` points for it."""
        self._arrivals += 1
        wake = asyncio.Event()
        entry: list[Any] = [int(priority), self._arrivals, wake]
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                # Cleared before looking: a change from now on sets it again.
                wake.clear()
                if self._waiters[0] is entry:
                    now = self._monotonic()
                    wait = max(self.bucket.seconds_until(cost, now), self._blocked_until - now)
                    if wait <= 0:
                        heapq.heappop(self._waiters)
                        self.bucket.reserve(cost, now)
                        self._notify()
                        return
                    # Sleep the computed wait, but wake as soon as anything changes the
                    # estimate (a response refunds its unused points, the head changes):
                    # the refund of a dear read's requested-minus-actual cost often covers
                    # this request at once.
                    await self._sleep_or_change(wait, wake)
                else:
                    await wake.wait()
        except BaseException:
            if any(w is entry for w in self._waiters):
                self._waiters = [w for w in self._waiters if w is not entry]
                heapq.heapify(self._waiters)
                self._notify()
            raise

    async def _sleep_or_change(self, seconds: float, wake: asyncio.Event) -> None:
        changed = asyncio.ensure_future(wake.wait())
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((changed, sleeping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            sleeping.cancel()

    def observe(
        self, *, maximum: float, currently_available: float, restore_rate: float, refund: float = 0.0
    ) -> None:
        """Record a ``throttleStatus`` from a response (and the refund of unused points);
        the head of the queue re-checks at once, since the refund may already cover it."""
        self.bucket.observe(
            maximum=maximum,
            currently_available=currently_available,
            restore_rate=restore_rate,
            now=self._monotonic(),
            refund=refund,
        )
        if self._waiters:
            self._notify()

    def drain(self) -> None:
        """Assume the bucket is empty now (throttled without a status to tell us more)."""
        now = self._monotonic()
        self.bucket.reserve(self.bucket.level(now), now)

    def block_for(self, seconds: float) -> None:
        """Send nothing to this store for ``seconds`` (HTTP 429 with ``Retry-After``)."""
        self._blocked_until = max(self._blocked_until, self._monotonic() + max(0.0, seconds))


class ThrottleRegistry:
    """Per-store throttles, shared by every client of the process (inject one instance)."""

    def __init__(
        self,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        default_maximum: float = DEFAULT_BUCKET_MAXIMUM,
        default_restore_rate: float = DEFAULT_RESTORE_RATE,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self._default_maximum = default_maximum
        self._default_restore_rate = default_restore_rate
        self._stores: dict[str, StoreThrottle] = {}

    def for_shop(self, shop_domain: str) -> StoreThrottle:
        """The throttle of ``shop_domain`` (created on first use)."""
        key = shop_domain.strip().lower()
        throttle = self._stores.get(key)
        if throttle is None:
            bucket = CostBucket(
                maximum=self._default_maximum,
                restore_rate=self._default_restore_rate,
                now=self.monotonic(),
            )
            throttle = StoreThrottle(key, bucket=bucket, monotonic=self.monotonic, sleep=self.sleep)
            self._stores[key] = throttle
        return throttle

    def stores(self) -> dict[str, StoreThrottle]:
        """Every store's throttle seen so far, by domain (a copy: for metrics)."""
        return dict(self._stores)
